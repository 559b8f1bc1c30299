/**
 * Aho–Corasick multi-pattern matcher over Unicode code points: one pass over the text finds every
 * occurrence of every pattern, so screening cost does not grow with the size of the word lists.
 */

interface Node {
  next: Map<number, number>;
  fail: number;
  /** Indices of patterns ending here (including those reached through fail links). */
  out: number[];
  depth: number;
}

export interface AcMatch<T> {
  /** Code-point offsets into the searched text, end exclusive. */
  start: number;
  end: number;
  payload: T;
}

export class AhoCorasick<T> {
  private readonly nodes: Node[] = [{ next: new Map(), fail: 0, out: [], depth: 0 }];
  private readonly payloads: T[] = [];
  private readonly lengths: number[] = [];
  private built = false;

  add(pattern: string, payload: T): void {
    if (this.built) throw new Error('AhoCorasick: add() after build()');
    const cps = Array.from(pattern, (c) => c.codePointAt(0)!);
    if (cps.length === 0) return;
    let cur = 0;
    for (const cp of cps) {
      let nxt = this.nodes[cur]!.next.get(cp);
      if (nxt === undefined) {
        nxt = this.nodes.length;
        this.nodes.push({ next: new Map(), fail: 0, out: [], depth: this.nodes[cur]!.depth + 1 });
        this.nodes[cur]!.next.set(cp, nxt);
      }
      cur = nxt;
    }
    this.nodes[cur]!.out.push(this.payloads.length);
    this.payloads.push(payload);
    this.lengths.push(cps.length);
  }

  /** Computes fail links breadth-first; called lazily by the first search. */
  build(): void {
    if (this.built) return;
    const queue: number[] = [];
    for (const child of this.nodes[0]!.next.values()) queue.push(child);
    for (let qi = 0; qi < queue.length; qi++) {
      const u = queue[qi]!;
      for (const [cp, v] of this.nodes[u]!.next) {
        let f = this.nodes[u]!.fail;
        while (f !== 0 && !this.nodes[f]!.next.has(cp)) f = this.nodes[f]!.fail;
        const target = this.nodes[f]!.next.get(cp);
        this.nodes[v]!.fail = target !== undefined && target !== v ? target : 0;
        this.nodes[v]!.out.push(...this.nodes[this.nodes[v]!.fail]!.out);
        queue.push(v);
      }
    }
    this.built = true;
  }

  get size(): number {
    return this.payloads.length;
  }

  /** All matches, in order of their end position. `text` is given as code points. */
  *search(cps: readonly number[]): Generator<AcMatch<T>> {
    this.build();
    let cur = 0;
    for (let i = 0; i < cps.length; i++) {
      const cp = cps[i]!;
      while (cur !== 0 && !this.nodes[cur]!.next.has(cp)) cur = this.nodes[cur]!.fail;
      cur = this.nodes[cur]!.next.get(cp) ?? 0;
      for (const idx of this.nodes[cur]!.out) {
        yield { start: i + 1 - this.lengths[idx]!, end: i + 1, payload: this.payloads[idx]! };
      }
    }
  }
}

export function codePoints(text: string): number[] {
  return Array.from(text, (c) => c.codePointAt(0)!);
}

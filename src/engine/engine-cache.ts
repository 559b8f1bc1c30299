/** A bounded set of resident models: least recently used ones are closed when a new one needs room. */

export interface Closable {
  close(): Promise<void>;
}

export class EngineCache<T extends Closable> {
  private readonly entries = new Map<string, Promise<T>>();

  constructor(readonly maxSize: number) {
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`EngineCache size must be ≥ 1, got ${maxSize}`);
  }

  get size(): number {
    return this.entries.size;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** The cached value for `key`, or `load()`'s (a failed load is not cached). Marks `key` most recent. */
  async get(key: string, load: () => Promise<T>): Promise<T> {
    let p = this.entries.get(key);
    if (p) {
      this.entries.delete(key);
      this.entries.set(key, p);
      return p;
    }
    p = load();
    this.entries.set(key, p);
    p.catch(() => {
      if (this.entries.get(key) === p) this.entries.delete(key);
    });
    await this.evict();
    return p;
  }

  private async evict(): Promise<void> {
    while (this.entries.size > this.maxSize) {
      const oldest = this.entries.keys().next().value as string;
      const p = this.entries.get(oldest)!;
      this.entries.delete(oldest);
      await p.then(
        (v) => v.close(),
        () => undefined,
      );
    }
  }

  async delete(key: string): Promise<void> {
    const p = this.entries.get(key);
    if (!p) return;
    this.entries.delete(key);
    await p.then(
      (v) => v.close(),
      () => undefined,
    );
  }

  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((p) => p.then((v) => v.close(), () => undefined)));
  }
}

/**
 * Line breaking for mixed Chinese/English text. Chinese may break between any two characters except
 * where kinsoku (禁则) forbids: no line starts with closing punctuation and none ends with opening
 * punctuation. English breaks at spaces; a word longer than a whole line is split with a hyphen.
 */

/** Must not start a line (or a column). */
export const NO_START = new Set([...'，。！？、；：）」』”’》〉】〕〗｝…‥·・ー々〻ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮ%‰℃,.!?;:)]}\'"〞']);
/** Must not end a line (or a column). */
export const NO_END = new Set([...'（「『“‘《〈【〔〖｛([{〝$￥¥']);

const CJK_CHAR = /[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f\u2018-\u201d\u2026]/u;

interface Atom {
  text: string;
  /** A space separated this atom from the previous one (dropped when a line breaks here). */
  space: boolean;
  /** A run of non-CJK characters: may be force-split with a hyphen if it cannot fit alone. */
  word: boolean;
}

/** Splits one paragraph into unbreakable atoms, then glues kinsoku characters to their neighbours. */
export function atomise(text: string, everyChar = false): Atom[] {
  const raw: Atom[] = [];
  let space = false;
  let word = '';
  const flush = (): void => {
    if (word) raw.push({ text: word, space, word: true });
    if (word) space = false;
    word = '';
  };
  for (const ch of text) {
    if (/\s/.test(ch)) {
      flush();
      space = raw.length > 0;
    } else if (everyChar || CJK_CHAR.test(ch)) {
      flush();
      raw.push({ text: ch, space, word: false });
      space = false;
    } else {
      word += ch;
    }
  }
  flush();
  const out: Atom[] = [];
  for (let i = 0; i < raw.length; i++) {
    const a = { ...raw[i]! };
    const prev = out[out.length - 1];
    // Closing punctuation rides with what precedes it; so does anything after an opening mark.
    if (prev && !a.space && (NO_START.has([...a.text][0] ?? '') || NO_END.has([...prev.text].pop() ?? ''))) {
      prev.text += a.text;
      prev.word = prev.word && a.word;
      continue;
    }
    out.push(a);
  }
  return out;
}

/** Splits a word too long for any line into hyphenated pieces that each fit (at least one char each). */
function splitWord(word: string, maxWidth: number, measure: (s: string) => number): string[] {
  const chars = [...word];
  const pieces: string[] = [];
  let cur = '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    const next = chars[i + 1];
    const hyphen = next !== undefined && /\p{L}/u.test(ch) && /\p{L}/u.test(next) ? '-' : '';
    if (cur && measure(cur + ch + hyphen) > maxWidth) {
      const prevCh = [...cur].pop() ?? '';
      pieces.push(cur + (/\p{L}/u.test(prevCh) && /\p{L}/u.test(ch) ? '-' : ''));
      cur = ch;
    } else {
      cur += ch;
    }
  }
  if (cur) pieces.push(cur);
  return pieces;
}

/** Greedy filling of one paragraph (no "\n"), with each line's width summed from its atoms. */
function fillParagraph(
  para: string,
  maxWidth: number,
  measure: (s: string) => number,
  space: number,
  everyChar: boolean | undefined,
): { lines: string[]; widths: number[] } {
  const lines: string[] = [];
  const widths: number[] = [];
  const push = (line: string, w: number): void => {
    lines.push(line);
    widths.push(w);
  };
  let line = '';
  let lineW = 0;
  for (const atom of atomise(para, everyChar)) {
    const w = measure(atom.text);
    const candidateW = line === '' ? w : lineW + (atom.space ? space : 0) + w;
    if (candidateW <= maxWidth) {
      line = line === '' ? atom.text : line + (atom.space ? ' ' : '') + atom.text;
      lineW = candidateW;
      continue;
    }
    if (line !== '') push(line, lineW);
    if (atom.word && [...atom.text].length > 1 && w > maxWidth) {
      const pieces = splitWord(atom.text, maxWidth, measure);
      for (const piece of pieces.slice(0, -1)) push(piece, measure(piece));
      line = pieces[pieces.length - 1] ?? '';
      lineW = measure(line);
    } else {
      line = atom.text;
      lineW = w;
    }
  }
  push(line, lineW);
  return { lines, widths };
}

/** A last line of one or two CJK characters (punctuation aside) left alone under a full line. */
export function isOrphan(lines: string[]): boolean {
  if (lines.length < 2) return false;
  const last = [...(lines[lines.length - 1] ?? '')].filter((c) => !NO_START.has(c) && !/\s/.test(c));
  return last.length > 0 && last.length <= 2 && last.every((c) => CJK_CHAR.test(c)) && [...(lines[lines.length - 2] ?? '')].length > 3;
}

/**
 * Greedy line filling. `measure` gives the width of a string; a line's width is the sum of its atoms
 * and spaces (kerning across a break opportunity is negligible), so each atom is measured once and no
 * line is measured again: layout tries a dozen sizes, and measuring every new line string with the real
 * fonts cost seconds for a long prompt. Explicit "\n" always breaks. A line may still be wider than
 * `maxWidth` when a single unbreakable atom is. A Chinese paragraph that would end in an orphan of ≤ 2
 * characters is re-filled a little narrower — same number of lines, so the block's height does not
 * change — until the last line has more.
 */
export function breakLinesMeasured(
  text: string,
  maxWidth: number,
  measure: (s: string) => number,
  opts: { everyChar?: boolean } = {},
): { lines: string[]; widths: number[] } {
  const lines: string[] = [];
  const widths: number[] = [];
  const space = measure(' ');
  for (const para of text.split('\n')) {
    let best = fillParagraph(para, maxWidth, measure, space, opts.everyChar);
    if (isOrphan(best.lines)) {
      // Never so narrow that a word would have to be split.
      const floor = Math.max(0, ...atomise(para, opts.everyChar).map((a) => measure(a.text)));
      for (let k = 0.97; k >= 0.6 && maxWidth * k >= floor; k -= 0.03) {
        const tried = fillParagraph(para, maxWidth * k, measure, space, opts.everyChar);
        if (tried.lines.length > best.lines.length) break;
        if (!isOrphan(tried.lines)) {
          best = tried;
          break;
        }
      }
    }
    lines.push(...best.lines);
    widths.push(...best.widths);
  }
  return { lines, widths };
}

/** The lines of breakLinesMeasured. */
export function breakLines(text: string, maxWidth: number, measure: (s: string) => number, opts: { everyChar?: boolean } = {}): string[] {
  return breakLinesMeasured(text, maxWidth, measure, opts).lines;
}

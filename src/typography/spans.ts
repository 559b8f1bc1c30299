/** Finds quoted spans in a prompt: the text the user wants drawn, not imagined by the model. */

export interface QuotedSpan {
  /** [start, end) of the whole span including the quote marks. */
  start: number;
  end: number;
  /** The text between the marks with line breaks normalised to "\n". */
  text: string;
}

export interface SpanContext {
  /** From the last clause boundary (or previous span) to the span. */
  pre: [number, number];
  /** From the span to the next clause boundary (or next span). */
  tail: [number, number];
  /** Earlier clauses back to the previous span's end, consulted when pre and tail say nothing. */
  earlier: [number, number];
}

/** Pairs that always mark literal text. ASCII double quotes pair up left to right. */
const PAIRED: ReadonlyArray<RegExp> = [/“([^“”]*)”/g, /「([^「」]*)」/g, /『([^『』]*)』/g, /"([^"]*)"/g];
/**
 * Single quotes double as apostrophes, so they count only when the opener follows a non-letter and
 * the closer precedes one (`the word 'SALE' in red` yes, `don't … it's` no).
 */
const SINGLE: ReadonlyArray<RegExp> = [
  /(?<![\p{L}\p{N}])'([^'\n]*[^'\s])'(?![\p{L}\p{N}])/gu,
  /(?<![\p{L}\p{N}])‘([^‘’\n]*[^‘’\s])’(?![\p{L}\p{N}])/gu,
];

/** A literal backslash-n typed inside the quote also means a line break. */
export function normaliseBreaks(s: string): string {
  return s.replace(/\r\n?/g, '\n').replace(/\\n/g, '\n');
}

export function findQuotedSpans(prompt: string): QuotedSpan[] {
  const found: QuotedSpan[] = [];
  const overlaps = (s: number, e: number): boolean => found.some((f) => s < f.end && f.start < e);
  for (const group of [PAIRED, SINGLE]) {
    for (const re of group) {
      for (const m of prompt.matchAll(re)) {
        const start = m.index;
        const end = start + m[0].length;
        const inner = normaliseBreaks(m[1] ?? '');
        if (inner.trim() === '' || overlaps(start, end)) continue;
        found.push({ start, end, text: inner });
      }
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

/**
 * Quoted text ("…", “…”, 「…」, 『…』) is what the user wants written in the image, so every rewrite keeps
 * it byte-for-byte, delimiters included. This splits a prompt into plain and quoted segments.
 */

const PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['"', '"'],
  ['\u201C', '\u201D'], // “ ”
  ['\u300C', '\u300D'], // 「 」
  ['\u300E', '\u300F'], // 『 』
];

export interface Segment {
  quoted: boolean;
  /** For quoted segments: the whole span including its delimiters. */
  text: string;
}

export function splitQuoted(prompt: string): Segment[] {
  const out: Segment[] = [];
  let plain = '';
  let i = 0;
  while (i < prompt.length) {
    const pair = PAIRS.find(([open]) => prompt.startsWith(open, i));
    const close = pair ? prompt.indexOf(pair[1], i + pair[0].length) : -1;
    if (pair && close > i) {
      if (plain) out.push({ quoted: false, text: plain });
      plain = '';
      const end = close + pair[1].length;
      out.push({ quoted: true, text: prompt.slice(i, end) });
      i = end;
    } else {
      plain += prompt[i];
      i++;
    }
  }
  if (plain) out.push({ quoted: false, text: plain });
  return out;
}

/** The quoted spans of a prompt, delimiters included, in order. */
export function quotedSpans(prompt: string): string[] {
  return splitQuoted(prompt)
    .filter((s) => s.quoted)
    .map((s) => s.text);
}

/** True when every quoted span of `original` occurs verbatim in `rewritten`. */
export function preservesQuotes(original: string, rewritten: string): boolean {
  let from = 0;
  for (const span of quotedSpans(original)) {
    const at = rewritten.indexOf(span, from);
    if (at < 0) return false;
    from = at + span.length;
  }
  return true;
}

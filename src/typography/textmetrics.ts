/** Comparing OCR output with the intended text: normalisation, edit distance. */

const PUNCT: Record<string, string> = { '。': '.', '、': ',', '“': '"', '”': '"', '‘': "'", '’': "'", '—': '-', '–': '-', '…': '...', '·': '.' };

/** NFKC (full-width → ASCII), common CJK punctuation → ASCII, no whitespace next to CJK, single spaces. */
export function normaliseForCompare(s: string): string {
  const cjk = '[\\u2e80-\\u9fff\\uf900-\\ufaff]';
  return s
    .normalize('NFKC')
    .replace(/[。、“”‘’—–…·]/g, (c) => PUNCT[c] ?? c)
    .replace(new RegExp(`(?<=${cjk})\\s+|\\s+(?=${cjk})`, 'gu'), '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Levenshtein distance over code points. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length] ?? 0;
}

/** Edit distance divided by the longer length: 0 = identical, 1 = nothing in common. */
export function normalisedEditDistance(a: string, b: string): number {
  const n = Math.max([...a].length, [...b].length);
  return n === 0 ? 0 : editDistance(a, b) / n;
}

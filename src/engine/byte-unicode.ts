/**
 * GPT-2/CLIP's reversible byte ↔ printable-character table: printable Latin-1 bytes map to
 * themselves, the rest to U+0100 onwards. CLIP's vocab starts with these characters in this order.
 */
export function byteCharsInVocabOrder(): Array<[byte: number, char: string]> {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const out: Array<[number, string]> = bs.map((b) => [b, String.fromCodePoint(b)]);
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) out.push([b, String.fromCodePoint(256 + n++)]);
  return out;
}

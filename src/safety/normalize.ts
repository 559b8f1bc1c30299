/**
 * Text normalisation for risk screening. It undoes the usual evasions before matching: full-width and
 * other compatibility forms (NFKC), traditional characters (OpenCC t→cn), mixed case, zero-width and
 * emoji/punctuation/space padding inserted between characters, Latin look-alike letters from Cyrillic
 * and Greek, and leetspeak digits in English words.
 *
 * It yields two views, because the two scripts need different matching:
 *  - `cjk`: every separator removed; Chinese terms match as substrings.
 *  - `latin`: words separated by single spaces; English terms match on word boundaries.
 */
import * as OpenCC from 'opencc-js/t2cn';

const toSimplified = OpenCC.Converter({ from: 't', to: 'cn' });

/** Invisible characters used to split words: zero-width space/joiners, word joiner, BOM, soft hyphen … */
const INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0]|\uDB40[\uDD00-\uDDEF]/gu;
/** Anything that is not a letter, digit or combining mark: spaces, punctuation, symbols, emoji. */
const SEPARATOR = /[^\p{L}\p{N}\p{M}]/u;
const HAN = /\p{Script=Han}|\p{Script=Hiragana}|\p{Script=Katakana}|\p{Script=Hangul}/u;

/** Latin look-alikes commonly substituted to dodge English filters. */
const CONFUSABLES: Record<string, string> = {
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  і: 'i', ї: 'i', ј: 'j', ѕ: 's', ԁ: 'd', ɡ: 'g', α: 'a', β: 'b', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ο: 'o',
  ρ: 'p', τ: 't', υ: 'u', χ: 'x',
};
/** Leetspeak, applied only inside words that also contain letters (so "1024px" keeps its digits). */
const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '@': 'a', $: 's' };

export interface NormalizedText {
  cjk: string;
  latin: string;
}

export function hasCjk(s: string): boolean {
  return HAN.test(s);
}

/** Shared first steps: compatibility forms, invisibles, case, traditional → simplified. */
function base(text: string): string {
  const nfkc = text.normalize('NFKC').replace(INVISIBLE, '');
  return toSimplified(nfkc.toLowerCase());
}

function deconfuse(s: string): string {
  let out = '';
  for (const ch of s) out += CONFUSABLES[ch] ?? ch;
  return out;
}

/** Removes every separator: "恐 怖·袭🔥击" → "恐怖袭击". */
function cjkView(b: string): string {
  let out = '';
  for (const ch of b) if (!SEPARATOR.test(ch)) out += ch;
  return out;
}

/**
 * Words on single spaces. Punctuation/emoji wedged inside a word without whitespace is dropped
 * ("p.o.r.n", "p🍑orn" → "porn"); runs of single letters are joined ("s e x" → "sex").
 */
function latinView(b: string): string {
  const chunks = deconfuse(b).split(/\s+/u).filter((c) => c.length > 0);
  const words: string[] = [];
  for (const chunk of chunks) {
    const leeted = /\p{L}/u.test(chunk) ? Array.from(chunk, (ch) => LEET[ch] ?? ch).join('') : chunk;
    // Inside a whitespace-free chunk, separators are padding ("p.o.r.n", "p🍑orn") unless they split two
    // real words ("cat/dog"): keep the break only when both neighbours are at least three characters long.
    const parts = leeted.split(new RegExp(SEPARATOR.source + '+', 'u')).filter((p) => p.length > 0);
    let cur = '';
    for (const p of parts) {
      if (cur && Array.from(cur).length >= 3 && Array.from(p).length >= 3) {
        words.push(cur);
        cur = p;
      } else cur += p;
    }
    if (cur) words.push(cur);
  }
  // Join runs of single-character words: "s e x" → "sex".
  const joined: string[] = [];
  let run = '';
  for (const w of words) {
    if (Array.from(w).length === 1 && !hasCjk(w)) {
      run += w;
      continue;
    }
    if (run) joined.push(run);
    run = '';
    joined.push(w);
  }
  if (run) joined.push(run);
  return joined.join(' ');
}

export function normalizeText(text: string): NormalizedText {
  const b = base(text);
  return { cjk: cjkView(b), latin: latinView(b) };
}

/** Normalises a list term the same way as the text it will be matched against. */
export function normalizeTerm(term: string): { view: 'cjk' | 'latin'; key: string } {
  const b = base(term.trim());
  if (hasCjk(b)) return { view: 'cjk', key: cjkView(b) };
  // Terms are written plainly; only unify spacing and look-alikes (no leetspeak on the list side).
  const key = deconfuse(b)
    .split(new RegExp(SEPARATOR.source + '+', 'u'))
    .filter((p) => p.length > 0)
    .join(' ');
  return { view: 'latin', key };
}

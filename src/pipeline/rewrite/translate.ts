/**
 * Glossary translation of Chinese prompts for English-only CLIP text encoders: longest-match
 * segmentation over a bundled image vocabulary, with the few grammar rules prompts need — numeral +
 * measure word → article/number, 在…下/上/里 → preposition phrase, and "A的B" → "B A" when A is a verb or
 * preposition phrase ("穿着红裙子的女孩" → "girl wearing red dress"). Unknown words stay in Chinese;
 * quoted text stays byte-for-byte.
 */
import { GLOSSARY_TEXT, LOCATIVES, MEASURE_EN, MEASURE_WORDS, NUMERALS, PARTICLES } from './glossary-data.js';
import { splitQuoted } from './quoted.js';

const CJK = /[\p{Script=Han}\u3000-\u303F\uFF00-\uFFEF]/u;
const HAN = /\p{Script=Han}/u;
const CLAUSE_BREAK = /[，。；、！？,;!?：:\n]+/;

type Token =
  | { kind: 'word'; en: string; plural?: boolean }
  | { kind: 'loc'; en: string }
  | { kind: 'zai' }
  | { kind: 'de' }
  | { kind: 'raw'; text: string };

function parseGlossary(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const eq = t.indexOf('=');
    if (eq > 0) map.set(t.slice(0, eq), t.slice(eq + 1));
  }
  return map;
}

const GLOSSARY = parseGlossary(GLOSSARY_TEXT);
const MAX_KEY = Math.max(...[...GLOSSARY.keys(), ...Object.keys(LOCATIVES), ...Object.keys(NUMERALS), ...PARTICLES].map((k) => k.length));

export function hasChinese(text: string): boolean {
  return HAN.test(text);
}

/** Number of glossary entries (for docs and tests). */
export const glossarySize = GLOSSARY.size;

function matchAt(s: string, i: number): { token: Token; len: number } | undefined {
  for (let len = Math.min(MAX_KEY, s.length - i); len >= 1; len--) {
    const key = s.slice(i, i + len);
    const num = NUMERALS[key];
    if (num !== undefined) {
      const next = s[i + len];
      const plural = num !== 'a';
      if (next !== undefined && MEASURE_WORDS.includes(next)) {
        const measure = MEASURE_EN[next];
        return { token: { kind: 'word', en: measure ? `${num} ${measure}` : num, plural: plural && !measure }, len: len + 1 };
      }
      if (len > 1) return { token: { kind: 'word', en: num, plural }, len };
    }
    const en = GLOSSARY.get(key);
    if (en !== undefined) return { token: { kind: 'word', en }, len };
    if (key === '在' || key === '正在') return { token: { kind: 'zai' }, len };
    if (key === '的') return { token: { kind: 'de' }, len };
    if (PARTICLES.has(key)) return { token: { kind: 'raw', text: '' }, len };
    const loc = LOCATIVES[key];
    if (loc !== undefined) return { token: { kind: 'loc', en: loc }, len };
  }
  return undefined;
}

function tokenize(clause: string): Token[] {
  const out: Token[] = [];
  let raw = '';
  const flush = (): void => {
    const t = raw.trim();
    if (t) out.push({ kind: 'raw', text: t });
    raw = '';
  };
  let i = 0;
  while (i < clause.length) {
    const ch = clause[i]!;
    if (!CJK.test(ch)) {
      // Latin words, digits and the like pass through; a leftover Chinese run is flushed first.
      if (raw && CJK.test(raw[raw.length - 1]!)) flush();
      raw += ch;
      i++;
      continue;
    }
    const m = matchAt(clause, i);
    if (m) {
      flush();
      if (!(m.token.kind === 'raw' && m.token.text === '')) out.push(m.token);
      i += m.len;
    } else {
      if (raw && !CJK.test(raw[raw.length - 1]!)) flush();
      raw += ch;
      i++;
    }
  }
  flush();
  return out;
}

function pluralize(en: string): string {
  if (/s$/.test(en) || en.includes(' ')) return en;
  if (/[^aeiou]y$/.test(en)) return en.slice(0, -1) + 'ies';
  if (/(ch|sh|x)$/.test(en)) return en + 'es';
  return en + 's';
}

function wordsOf(ts: Token[]): string[] {
  const out: string[] = [];
  ts.forEach((t, i) => {
    const prev = ts[i - 1];
    if (t.kind === 'word') out.push(prev?.kind === 'word' && prev.plural ? pluralize(t.en) : t.en);
    else if (t.kind === 'loc') out.push(t.en);
    else if (t.kind === 'raw') out.push(t.text);
  });
  return out;
}

/** One phrase (between 在 breaks): applies a trailing locative and the 的 reordering. */
function renderPhrase(tokens: Token[]): string {
  // Locatives turn the words before them into a preposition phrase: [雪山][下] → "under snowy mountains".
  const parts: string[][] = [];
  let cur: Token[] = [];
  const pieces: Token[][] = [];
  for (const t of tokens) {
    if (t.kind === 'de') {
      pieces.push(cur);
      cur = [];
    } else cur.push(t);
  }
  pieces.push(cur);
  for (const piece of pieces) {
    const locAt = piece.findIndex((t) => t.kind === 'loc');
    if (locAt > 0) {
      const loc = piece[locAt] as { kind: 'loc'; en: string };
      parts.push([loc.en, ...wordsOf(piece.slice(0, locAt))]);
      // Words after the locative (usually the action) become their own comma-separated phrase.
      const after = wordsOf(piece.slice(locAt + 1));
      if (after.length > 0) parts.push([',', ...after]);
    } else parts.push(wordsOf(piece));
  }
  // "A的B": a verb or preposition phrase A follows its head B in English.
  const nonEmpty = parts.filter((p) => p.length > 0);
  if (nonEmpty.length === 2) {
    const [a, b] = nonEmpty as [string[], string[]];
    const first = a[0] ?? '';
    if (/ing$/.test(first) || Object.values(LOCATIVES).includes(first)) return [...b, ...a].join(' ');
  }
  return nonEmpty.map((p) => p.join(' ')).join(' ');
}

function renderClause(clause: string): string {
  const phrases: Token[][] = [[]];
  for (const t of tokenize(clause)) {
    if (t.kind === 'zai') phrases.push([]);
    else phrases[phrases.length - 1]!.push(t);
  }
  return phrases
    .map(renderPhrase)
    .filter((p) => p.length > 0)
    .join(', ');
}

/** Spacing, comma runs and a/an — applied to translated (never quoted) text only. */
function tidy(s: string): string {
  return s
    .replace(/\ba ([aeiou])/gi, 'an $1')
    .replace(/\s+/g, ' ')
    .replace(/\s*,(\s*,)*\s*/g, ', ')
    .trim();
}

function translatePlain(text: string): string {
  return text
    .split(CLAUSE_BREAK)
    .map((c) => (hasChinese(c) ? renderClause(c) : c.trim()))
    .join(', ');
}

/**
 * English rendering of a Chinese prompt, or "" when the prompt has no Chinese outside quotes.
 * Quoted spans are copied unchanged.
 */
export function translatePrompt(prompt: string): string {
  const segments = splitQuoted(prompt);
  if (!segments.some((s) => !s.quoted && hasChinese(s.text))) return '';
  const pieces = segments
    .map((seg) => ({ quoted: seg.quoted, text: seg.quoted ? seg.text : tidy(translatePlain(seg.text)) }))
    .filter((p) => p.text.length > 0);
  let out = '';
  pieces.forEach((p, i) => {
    let text = p.text;
    if (!p.quoted) {
      if (out === '') text = text.replace(/^,\s*/, '');
      if (i === pieces.length - 1) text = text.replace(/\s*,$/, '');
      if (text === '' || text === ',') {
        if (text === ',' && out !== '') out += ',';
        return;
      }
    }
    out += out && !text.startsWith(',') ? ` ${text}` : text;
  });
  return out;
}

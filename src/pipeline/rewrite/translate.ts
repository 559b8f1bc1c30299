/**
 * Chinese → English for English-only CLIP text encoders, offline and deterministic: jieba segmentation,
 * the curated image glossary first (styles, camera, light, composition — `glossary-data.ts`), then the full
 * CC-CEDICT dictionary with a sense chosen for image prompts (`cedict.ts`), and the few grammar rules prompts
 * need — numeral + measure word → article/number, 在…下/上/里 → preposition phrase, "A的B" → "B A" when A is
 * a verb or preposition phrase ("穿着红裙子的女孩" → "girl wearing red dress"), 着/了 dropped. A character
 * neither knows is transliterated with pinyin and reported, so no Chinese reaches the encoder. Quoted text
 * stays byte-for-byte.
 */
import { pinyin } from 'pinyin-pro';
import { chooseSense, hasWord, wordClassOf } from './cedict.js';
import { GLOSSARY_TEXT, LOCATIVES, MEASURE_EN, MEASURE_WORDS, NUMERALS, PARTICLES } from './glossary-data.js';
import { splitQuoted } from './quoted.js';
import { segment, type SegWord } from './segment.js';

/** Han plus CJK punctuation, kana, hangul and full-width forms: what an English-only encoder cannot read. */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303F\uFF00-\uFFEF]/u;
const CJK_ALL = new RegExp(CJK.source, 'gu');
const HAN = /\p{Script=Han}/u;
const CLAUSE_BREAK = /[，。；、！？,;!?：:\n]+/;

type Token =
  | { kind: 'word'; en: string; plural?: boolean }
  | { kind: 'loc'; en: string }
  | { kind: 'zai' }
  | { kind: 'de' }
  | { kind: 'pron'; subj: string; poss: string; obj: string }
  | { kind: 'plural' }
  | { kind: 'raw'; text: string };

/**
 * Personal pronouns by role: the subject of an image is a person to draw (他在吃苹果 → "a man eating …"),
 * before 的 a possessive (他的书包 → "his schoolbag"), elsewhere an object.
 */
const PRONOUNS: Record<string, { subj: string; poss: string; obj: string }> = {
  他: { subj: 'a man', poss: 'his', obj: 'him' },
  她: { subj: 'a woman', poss: 'her', obj: 'her' },
  他们: { subj: 'a group of people', poss: 'their', obj: 'them' },
  她们: { subj: 'a group of women', poss: 'their', obj: 'them' },
  我: { subj: 'I', poss: 'my', obj: 'me' },
  我们: { subj: 'we', poss: 'our', obj: 'us' },
  你: { subj: 'you', poss: 'your', obj: 'you' },
  你们: { subj: 'you', poss: 'your', obj: 'you' },
  它: { subj: 'it', poss: 'its', obj: 'it' },
  它们: { subj: 'they', poss: 'their', obj: 'them' },
};

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
const MAX_KEY = Math.max(...[...GLOSSARY.keys(), ...Object.keys(LOCATIVES), ...Object.keys(NUMERALS), ...PARTICLES, ...Object.keys(PRONOUNS)].map((k) => k.length));

export function hasChinese(text: string): boolean {
  return HAN.test(text);
}

/** True when `text` holds anything an English-only encoder cannot read (Han, kana, hangul, CJK punctuation). */
export function hasCjk(text: string): boolean {
  return CJK.test(text);
}

/** Number of glossary entries (for docs and tests). */
export const glossarySize = GLOSSARY.size;

/** Glossary and grammar words at `i`, longest first, of a length `fits` accepts. */
function matchAt(s: string, i: number, fits: (len: number) => boolean): { token: Token; len: number } | undefined {
  for (let len = Math.min(MAX_KEY, s.length - i); len >= 1; len--) {
    const key = s.slice(i, i + len);
    const num = NUMERALS[key];
    if (num !== undefined) {
      const next = s[i + len];
      const plural = num !== 'a';
      // Numeral + measure word is grammar, not vocabulary: taken even where jieba cut 一/本书.
      if (next !== undefined && MEASURE_WORDS.includes(next)) {
        const measure = MEASURE_EN[next];
        return { token: { kind: 'word', en: measure ? `${num} ${measure}` : num, plural: plural && !measure }, len: len + 1 };
      }
      if (len > 1 && fits(len)) return { token: { kind: 'word', en: num, plural }, len };
    }
    if (!fits(len)) continue;
    const en = GLOSSARY.get(key);
    if (en !== undefined) return { token: { kind: 'word', en }, len };
    if (key === '在' || key === '正在') return { token: { kind: 'zai' }, len };
    if (key === '的') return { token: { kind: 'de' }, len };
    const pron = PRONOUNS[key];
    if (pron) return { token: { kind: 'pron', ...pron }, len };
    // 孩子们: the plural suffix makes the noun before it plural (CC-CEDICT's sense is a grammar note).
    if (key === '们') return { token: { kind: 'plural' }, len };
    if (PARTICLES.has(key)) return { token: { kind: 'raw', text: '' }, len };
    const loc = LOCATIVES[key];
    if (loc !== undefined) return { token: { kind: 'loc', en: loc }, len };
  }
  return undefined;
}

/** Per call: the characters neither the glossary nor CC-CEDICT knew, and what became of them. */
interface Unknowns {
  transliterated: string[];
  dropped: string[];
}

/** Pinyin for a Han character, or "" where pinyin-pro has none either (rare extension-block characters). */
function pinyinOf(ch: string): string {
  const p = HAN.test(ch) ? pinyin(ch, { toneType: 'none' }) : '';
  return /^[a-zü ]+$/i.test(p) ? p.replace(/ü/g, 'v') : '';
}

function transliterate(ch: string, unknown: Unknowns): Token | undefined {
  const p = pinyinOf(ch);
  if (p) {
    unknown.transliterated.push(ch);
    return { kind: 'word', en: p };
  }
  unknown.dropped.push(ch);
  return undefined;
}

/** Content words only: no numerals, prepositions, particles or locatives inside a compound. */
const COMPOUND_TAG = /^(?:n|a|v|vn|an|nz|nr|ns|b|l|i)/;

function compoundAt(words: SegWord[], wi: number): { en: string; end: number } | undefined {
  for (let n = Math.min(3, words.length - wi); n >= 2; n--) {
    const span = words.slice(wi, wi + n);
    if (!span.every((w) => COMPOUND_TAG.test(w.tag) && !/^(?:uj|f|p|m|q)$/.test(w.tag))) continue;
    const text = span.map((w) => w.word).join('');
    if (GLOSSARY.has(text)) return { en: GLOSSARY.get(text)!, end: span[n - 1]!.end };
    const sense = hasWord(text) ? chooseSense(text, wordClassOf(span[n - 1]!.tag)) : undefined;
    if (sense) return { en: sense.en, end: span[n - 1]!.end };
  }
  return undefined;
}

/**
 * One run of Chinese: jieba decides the word boundaries; each word is looked up in the glossary (which may
 * also span several jieba words, e.g. 浅景深), then CC-CEDICT; a word neither knows is read piecewise —
 * the longest known prefix each time — and a character nothing knows is transliterated.
 */
function tokenizeChinese(run: string, out: Token[], unknown: Unknowns): void {
  const words = segment(run);
  const bounds = new Set(words.map((w) => w.end));
  let wi = 0;
  let i = 0;
  const push = (t: Token | undefined): void => {
    if (t && !(t.kind === 'raw' && t.text === '')) out.push(t);
  };
  while (i < run.length) {
    while (wi < words.length - 1 && words[wi]!.end <= i) wi++;
    const w = words[wi]!;
    if (w.start === i) {
      const g = matchAt(run, i, (len) => bounds.has(i + len));
      if (g) {
        push(g.token);
        i += g.len;
        continue;
      }
      // jieba keeps 水里, 窗台上, 树下 as one word: the noun and its locative are read apart, so that
      // 在…里 still becomes a preposition phrase.
      const last = w.word[w.word.length - 1] ?? '';
      const stem = w.word.slice(0, -1);
      if (w.word.length >= 2 && '上里下'.includes(last) && (GLOSSARY.has(stem) || hasWord(stem))) {
        push({ kind: 'word', en: GLOSSARY.get(stem) ?? chooseSense(stem, 'noun')?.en ?? stem });
        push({ kind: 'loc', en: LOCATIVES[last]! });
        i = w.end;
        continue;
      }
      // A dictionary compound over several jieba words (超级+英雄 → superhero) beats its parts.
      const compound = compoundAt(words, wi);
      if (compound) {
        push({ kind: 'word', en: compound.en });
        i = compound.end;
        continue;
      }
      const s = chooseSense(w.word, wordClassOf(w.tag));
      if (s) {
        push({ kind: 'word', en: s.en });
        i = w.end;
        continue;
      }
    }
    // Inside a word neither source knows whole: the longer of glossary and dictionary prefixes.
    const limit = w.end;
    const g = matchAt(run, i, (len) => i + len <= limit);
    let dictLen = 0;
    for (let len = limit - i; len > (g?.len ?? 0); len--) {
      if (hasWord(run.slice(i, i + len)) && chooseSense(run.slice(i, i + len))) {
        dictLen = len;
        break;
      }
    }
    if (dictLen > 0) {
      push({ kind: 'word', en: chooseSense(run.slice(i, i + dictLen))!.en });
      i += dictLen;
    } else if (g) {
      push(g.token);
      i += g.len;
    } else {
      push(transliterate(run[i]!, unknown));
      i++;
    }
  }
}

function tokenize(clause: string, unknown: Unknowns): Token[] {
  const out: Token[] = [];
  // Latin words, digits and the like pass through as raw text; Chinese runs are segmented.
  for (const m of clause.matchAll(/(\p{Script=Han}+)|([^\p{Script=Han}]+)/gu)) {
    if (m[1]) tokenizeChinese(m[1], out, unknown);
    else {
      const text = (m[2] ?? '').replace(CJK_ALL, (ch) => {
        unknown.dropped.push(ch);
        return ' ';
      }).trim();
      if (text) out.push({ kind: 'raw', text });
    }
  }
  return out;
}

const IRREGULAR_PLURAL: Record<string, string> = {
  man: 'men', woman: 'women', child: 'children', person: 'people', mouse: 'mice', goose: 'geese', foot: 'feet', tooth: 'teeth',
  sheep: 'sheep', fish: 'fish', deer: 'deer', leaf: 'leaves', wolf: 'wolves', knife: 'knives', shelf: 'shelves', loaf: 'loaves',
};

/** The plural of a noun phrase: its last word ("little bird" → "little birds"); phrases with "of" stay. */
function pluralize(en: string): string {
  const words = en.split(' ');
  const last = words[words.length - 1] ?? '';
  if (words.length > 3 || words.includes('of') || !/^[a-z]+$/.test(last) || /ing$/.test(last)) return en;
  let pl: string;
  if (IRREGULAR_PLURAL[last]) pl = IRREGULAR_PLURAL[last];
  else if (/s$/.test(last)) pl = last;
  else if (/[^aeiou]y$/.test(last)) pl = last.slice(0, -1) + 'ies';
  else if (/(ch|sh|x)$/.test(last)) pl = last + 'es';
  else pl = last + 's';
  words[words.length - 1] = pl;
  return words.join(' ');
}

function wordsOf(ts: Token[]): string[] {
  const out: string[] = [];
  ts.forEach((t, i) => {
    const prev = ts[i - 1];
    if (t.kind === 'word') out.push((prev?.kind === 'word' && prev.plural) || ts[i + 1]?.kind === 'plural' ? pluralize(t.en) : t.en);
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
    // "一个穿着红裙子的女孩": the article stays in front of the whole phrase ("a girl wearing red dress").
    const article = a.length > 1 && /^(?:a|an|one|two|three|four|five|several|many|some)$/.test(a[0] ?? '') && /ing$/.test(a[1] ?? '') ? a.shift() : undefined;
    if (article) {
      // …and a number still makes its noun plural ("两个戴着帽子的男人" → "two men wearing hat").
      const head = b.reduce((last, w, k) => (isIng(w) || w === ',' ? last : k), -1);
      if (head >= 0 && !/^(?:a|an|one)$/.test(article)) b[head] = pluralize(b[head]!);
      b.unshift(article);
    }
    const first = a[0] ?? '';
    if (/ing$/.test(first) || Object.values(LOCATIVES).includes(first)) {
      // The head's own action comes last: "穿着红裙子的女孩站" → "girl wearing red dress standing".
      const act = b[0] === ',' ? -1 : b.findIndex((w, k) => k > 0 && /ing$/.test(w));
      return (act > 0 ? [...b.slice(0, act), ...a, ...b.slice(act)] : [...b, ...a]).join(' ');
    }
    // "水彩风格的小镇" → "small town in watercolor style".
    if (a[a.length - 1] === 'style' && a.length > 1) return [...b, 'in', ...a].join(' ');
  }
  return nonEmpty.map((p) => p.join(' ')).join(' ');
}

/** Pronouns by their role: possessive before 的 (which then goes), subject first in the clause, else object. */
function resolvePronouns(tokens: Token[]): Token[] {
  const out: Token[] = [];
  tokens.forEach((t, i) => {
    if (t.kind !== 'pron') {
      if (!(t.kind === 'de' && tokens[i - 1]?.kind === 'pron')) out.push(t);
      return;
    }
    const en = tokens[i + 1]?.kind === 'de' ? t.poss : out.length === 0 ? t.subj : t.obj;
    out.push({ kind: 'word', en });
  });
  return out;
}

/** A word (or a phrase's first word) in -ing: a verb as the rules render it. */
const isIng = (w: string | undefined): boolean => w !== undefined && /^\S+ing\b/.test(w);
const PREPOSITION = /^(?:in|on|at|by|under|near|beside|inside|above|below|behind|among|around|over)\b/;

/**
 * A 在-phrase joined to the words before it, when it reads as their action or place: progressive 在+verb
 * ("他在吃苹果" → "a man eating apple"), 在+place+locative ("小猫在沙发上睡觉" → "kitten sleeping on
 * sofa"; after a verb, the place first: "趴在窗台上晒太阳" → "lying on windowsill, basking in the sun"),
 * 在+place+verb ("在海边跑步" → "running at seaside"). Undefined when none of these fits.
 */
function joinZai(prev: string, p: Token[]): string | undefined {
  if (p.some((t) => t.kind === 'de') || prev === '' || prev.endsWith(',')) return undefined;
  const locAt = p.findIndex((t) => t.kind === 'loc');
  const prevEndsInVerb = isIng(prev.split(' ').pop());
  if (locAt > 0) {
    const loc = p[locAt] as { kind: 'loc'; en: string };
    const place = [loc.en, ...wordsOf(p.slice(0, locAt))].join(' ');
    const action = wordsOf(p.slice(locAt + 1)).join(' ');
    if (prevEndsInVerb) return action ? `${prev} ${place}, ${action}` : `${prev} ${place}`;
    return [prev, action, place].filter(Boolean).join(' ');
  }
  if (locAt === 0) return undefined;
  const words = wordsOf(p).filter(Boolean);
  if (words.length === 0) return undefined;
  if (isIng(words[0])) return `${prev} ${words.join(' ')}`;
  const found = words.findIndex(isIng);
  if (found === 0) return undefined;
  // No verb: the phrase is only where ("站在门口" → "standing at doorway").
  const v = found < 0 ? words.length : found;
  const where = words.slice(0, v).join(' ');
  const place = PREPOSITION.test(where) ? where : `at ${where}`;
  const action = words.slice(v).join(' ');
  if (!action) return `${prev} ${place}`;
  return prevEndsInVerb ? `${prev} ${place}, ${action}` : `${prev} ${action} ${place}`;
}

function renderClause(clause: string, unknown: Unknowns): string {
  const phrases: Token[][] = [[]];
  for (const t of resolvePronouns(tokenize(clause, unknown))) {
    if (t.kind === 'zai') phrases.push([]);
    else if (t.kind !== 'plural') phrases[phrases.length - 1]!.push(t);
    else {
      // Kept beside its noun for wordsOf(); a stray 们 says nothing.
      const cur = phrases[phrases.length - 1]!;
      if (cur[cur.length - 1]?.kind === 'word') cur.push(t);
    }
  }
  const rendered: string[] = [];
  phrases.forEach((p, k) => {
    const joined = k > 0 && rendered.length > 0 ? joinZai(rendered[rendered.length - 1]!, p) : undefined;
    if (joined !== undefined) {
      rendered[rendered.length - 1] = joined;
      return;
    }
    const de = p.findIndex((t) => t.kind === 'de');
    const prev = rendered[rendered.length - 1];
    // "挂在墙上的画": the verb before 在 and the 在-phrase both describe the noun after 的 →
    // "picture hanging on wall", with the verb's own leading words ("a") kept in front.
    if (k > 0 && de > 0 && de < p.length - 1 && prev !== undefined) {
      const words = prev.split(' ');
      let v = words.length - 1;
      while (v >= 0 && !/ing$/.test(words[v]!)) v--;
      if (v >= 0 && !prev.includes(',')) {
        const head = wordsOf(p.slice(de + 1)).join(' ');
        const where = renderPhrase(p.slice(0, de));
        rendered[rendered.length - 1] = [...words.slice(0, v), head, ...words.slice(v), where].filter((x) => x).join(' ');
        return;
      }
    }
    rendered.push(renderPhrase(p));
  });
  return rendered.filter((p) => p.length > 0).join(', ');
}

/** Spacing, comma runs and a/an — applied to translated (never quoted) text only. */
function tidy(s: string): string {
  return s
    .replace(/\ba ([aeiou])/gi, 'an $1')
    .replace(/\s+/g, ' ')
    .replace(/\s*,(\s*,)*\s*/g, ', ')
    .trim();
}

function translatePlain(text: string, unknown: Unknowns): string {
  // NFKC folds full-width letters, digits and brackets to ASCII (Ａ → A, （ → ().
  return text
    .normalize('NFKC')
    .split(CLAUSE_BREAK)
    .map((c) => (hasCjk(c) ? renderClause(c, unknown) : c.trim()))
    .join(', ');
}

export interface Translation {
  /** English rendering, or "" when the prompt has no Chinese outside quotes. */
  text: string;
  /** Characters neither the glossary nor CC-CEDICT knew, written as pinyin instead. */
  transliterated: string[];
  /** CJK symbols outside quotes that had no English counterpart and were left out. */
  dropped: string[];
}

/**
 * English rendering of a Chinese prompt with a report of what could not be translated. Quoted spans are
 * copied unchanged (they are text to draw, not description).
 */
export function translateDetailed(prompt: string): Translation {
  const unknown: Unknowns = { transliterated: [], dropped: [] };
  const segments = splitQuoted(prompt);
  if (!segments.some((s) => !s.quoted && hasChinese(s.text))) return { text: '', ...unknown };
  const pieces = segments
    .map((seg) => ({ quoted: seg.quoted, text: seg.quoted ? seg.text : tidy(translatePlain(seg.text, unknown)) }))
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
  return { text: out, ...unknown };
}

/** English rendering of a Chinese prompt, or "" when the prompt has no Chinese outside quotes. */
export function translatePrompt(prompt: string): string {
  return translateDetailed(prompt).text;
}

/**
 * What an English-only encoder is given: quoted spans holding CJK are left out (the typography layer draws
 * them; the encoder would only see unknown tokens), and any other CJK character still present becomes pinyin
 * or a space. Latin quoted text stays.
 */
export function forEnglishEncoder(text: string): string {
  if (!hasCjk(text)) return text;
  return splitQuoted(text)
    .map((seg) => (seg.quoted ? (hasCjk(seg.text) ? ' ' : seg.text) : seg.text.replace(CJK_ALL, (ch) => ` ${pinyinOf(ch)} `)))
    .join('')
    .replace(/\s+/g, ' ')
    .replace(/\s+,/g, ',')
    .replace(/,(\s*,)+/g, ',')
    .replace(/^[\s,]+|[\s,]+$/g, '');
}

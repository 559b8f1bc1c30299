/**
 * Text risk: screens the prompt (and any rewritten prompt) against the word lists after normalisation.
 * Chinese terms match as substrings of the separator-free view; English terms match whole words of the
 * word view (so "class" does not hit "ass"). Matches inside an allow-listed phrase are ignored.
 *
 * Codes: a prohibited term in the input → 50412; a `[copyright]` term in the input → 50413 ("sensitive /
 * copyrighted words"); anything in rewritten text → 50512. Messages are the fixed CV messages; the
 * operator log detail names the list and category and a hash of the term, never the term.
 */
import { createHash } from 'node:crypto';
import { CvError } from '../contract/errors.js';
import { AhoCorasick, codePoints, type AcMatch } from './aho-corasick.js';
import {
  COPYRIGHT_CATEGORY,
  loadRiskListDir,
  mergeRiskLists,
  SHIPPED_LISTS_DIR,
  type RiskLists,
  type RiskTerm,
} from './lists.js';
import { normalizeTerm, normalizeText } from './normalize.js';

export type TextStage = 'input' | 'rewritten';

export interface TextRiskRule {
  list: string;
  category: string;
  term: string;
}

export interface TextRiskResult {
  pass: boolean;
  rule?: TextRiskRule;
}

export interface TextRiskChecker {
  check(text: string): TextRiskResult;
  /** Throws CvError 50412/50413 (input) or 50512 (rewritten) when `text` fails. */
  assertTextSafe(text: string, stage: TextStage): void;
  /** Number of distinct normalised terms loaded (for startup logs). */
  readonly termCount: number;
}

export interface TextRiskOptions {
  /** Include the shipped lists (src/safety/lists). Default true. */
  shipped?: boolean;
  /** Include the shipped `[copyright]` list. Default true. */
  copyright?: boolean;
  /** Operator list directories (`*.txt`), e.g. from MENGTU_RISK_LISTS_DIR. */
  dirs?: string[];
  /** Extra in-memory lists (tests, embedding). */
  extra?: RiskLists;
}

interface Matcher {
  ac: AhoCorasick<RiskTerm>;
  allow: AhoCorasick<true>;
}

function newMatcher(): Matcher {
  return { ac: new AhoCorasick<RiskTerm>(), allow: new AhoCorasick<true>() };
}

const WORD_CHAR = /[\p{L}\p{N}]/u;
const CJK_CHAR = /\p{Script=Han}|\p{Script=Hiragana}|\p{Script=Katakana}|\p{Script=Hangul}/u;

/** Latin word boundary: the neighbour is the edge, a space, or a CJK character. */
function isBoundary(cps: readonly number[], i: number): boolean {
  if (i < 0 || i >= cps.length) return true;
  const ch = String.fromCodePoint(cps[i]!);
  return !WORD_CHAR.test(ch) || CJK_CHAR.test(ch);
}

function spans<T>(matches: Iterable<AcMatch<T>>): Array<[number, number]> {
  return Array.from(matches, (m) => [m.start, m.end] as [number, number]);
}

function allMatches(m: Matcher, text: string, wordBounded: boolean): RiskTerm[] {
  const cps = codePoints(text);
  const hits: RiskTerm[] = [];
  let allowSpans: Array<[number, number]> | undefined;
  for (const hit of m.ac.search(cps)) {
    if (wordBounded && !(isBoundary(cps, hit.start - 1) && isBoundary(cps, hit.end))) continue;
    allowSpans ??= spans(m.allow.search(cps));
    if (allowSpans.some(([s, e]) => s <= hit.start && hit.end <= e)) continue;
    hits.push(hit.payload);
  }
  return hits;
}

export function termHash(term: string): string {
  return createHash('sha256').update(term, 'utf8').digest('hex').slice(0, 16);
}

export function createTextRiskChecker(opts: TextRiskOptions = {}): TextRiskChecker {
  const sources: RiskLists[] = [];
  if (opts.shipped ?? true) {
    const shipped = loadRiskListDir(SHIPPED_LISTS_DIR);
    const withCopyright = opts.copyright ?? true;
    sources.push(withCopyright ? shipped : { ...shipped, terms: shipped.terms.filter((t) => t.category !== COPYRIGHT_CATEGORY) });
  }
  for (const dir of opts.dirs ?? []) sources.push(loadRiskListDir(dir));
  if (opts.extra) sources.push(opts.extra);
  const lists = mergeRiskLists(...sources);

  const cjk = newMatcher();
  const latin = newMatcher();
  const seen = new Set<string>();
  for (const t of lists.terms) {
    const { view, key } = normalizeTerm(t.term);
    if (key.length === 0) continue;
    const m = view === 'cjk' ? cjk : latin;
    const id = `${view}\u0000${key}\u0000${t.category}`;
    if (seen.has(id)) continue;
    seen.add(id);
    m.ac.add(key, t);
    // Multi-word English terms also match written solid ("childporn").
    if (view === 'latin' && key.includes(' ')) m.ac.add(key.replace(/ /g, ''), t);
  }
  for (const a of lists.allow) {
    const { view, key } = normalizeTerm(a.term);
    if (key.length > 0) (view === 'cjk' ? cjk : latin).allow.add(key, true);
  }

  function check(text: string): TextRiskResult {
    const n = normalizeText(text);
    const hits = [...allMatches(cjk, n.cjk, false), ...allMatches(latin, n.latin, true)];
    if (hits.length === 0) return { pass: true };
    // Prohibited content outranks copyright: it decides the code.
    const rule = hits.find((h) => h.category !== COPYRIGHT_CATEGORY) ?? hits[0]!;
    return { pass: false, rule: { list: rule.list, category: rule.category, term: rule.term } };
  }

  function assertTextSafe(text: string, stage: TextStage): void {
    const r = check(text);
    if (r.pass || !r.rule) return;
    const code = stage === 'rewritten' ? 50512 : r.rule.category === COPYRIGHT_CATEGORY ? 50413 : 50412;
    throw new CvError(code, undefined, {
      logDetail: `text risk (${stage}): list=${r.rule.list} category=${r.rule.category} term_sha256=${termHash(r.rule.term)}`,
    });
  }

  return { check, assertTextSafe, termCount: seen.size };
}

let defaultChecker: TextRiskChecker | undefined;

/** The process-wide checker built from the shipped lists and `MENGTU_RISK_LISTS_DIR`, created on first use. */
export function defaultTextRiskChecker(): TextRiskChecker {
  defaultChecker ??= createTextRiskChecker();
  return defaultChecker;
}

/** Screens `text` with the default checker; throws CvError 50412/50413 (input) or 50512 (rewritten). */
export function assertTextSafe(text: string, stage: TextStage): void {
  defaultTextRiskChecker().assertTextSafe(text, stage);
}

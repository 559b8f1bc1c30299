/** Reads position, size, colour, style and orientation words from the clause around a quoted span. */
import type { HPos, TextSize, TextStyle, VPos } from './types.js';
import { EN_COLORS, ZH_COLORS, normaliseHex } from './vocab/color.js';
import { EN_POSITIONS, ZH_POSITIONS, type PositionHint } from './vocab/position.js';
import { EN_SIZES, ZH_SIZES } from './vocab/size.js';
import { EN_STYLES, EN_VERTICAL, ZH_STYLES, ZH_VERTICAL } from './vocab/style.js';

export interface Hit<T> {
  index: number;
  end: number;
  word: string;
  value: T;
}

interface Entry<T> {
  /** The word as listed, lower-cased for English (matched case-insensitively on word boundaries). */
  w: string;
  v: T;
  en: boolean;
}
const compiled = new WeakMap<object, WeakMap<object, Entry<unknown>[]>>();

/** Vocabulary entries, longest first; built once per pair of lists. */
function compile<T>(zh: ReadonlyArray<readonly [string, T]>, en: ReadonlyArray<readonly [string, T]>): Entry<T>[] {
  let inner = compiled.get(zh);
  if (!inner) compiled.set(zh, (inner = new WeakMap()));
  const hit = inner.get(en);
  if (hit) return hit as Entry<T>[];
  const entries = [...zh.map(([w, v]) => ({ w, v, en: false })), ...en.map(([w, v]) => ({ w: w.toLowerCase(), v, en: true }))].sort(
    (a, b) => b.w.length - a.w.length,
  );
  inner.set(en, entries);
  return entries;
}

const WORD_CHAR = /[\p{L}\p{N}]/u;
const isWordChar = (c: string | undefined): boolean => c !== undefined && WORD_CHAR.test(c);

/**
 * All non-overlapping hits, longest vocabulary entries claiming their characters first. Plain indexOf
 * scans rather than one regex per entry: hundreds of regexes get their compiled code flushed by V8 in a
 * busy server and cost ~100 ms a prompt to recompile.
 */
export function findWords<T>(text: string, zh: ReadonlyArray<readonly [string, T]>, en: ReadonlyArray<readonly [string, T]>): Hit<T>[] {
  const entries = compile(zh, en);
  const lower = text.toLowerCase();
  // Lower-casing that changes lengths (rare letters such as İ) would shift indices; match those case-sensitively.
  const folded = lower.length === text.length ? lower : text;
  const taken = new Uint8Array(text.length);
  const hits: Hit<T>[] = [];
  for (const e of entries) {
    const hay = e.en ? folded : text;
    let from = 0;
    for (;;) {
      const s = hay.indexOf(e.w, from);
      if (s === -1) break;
      const end = s + e.w.length;
      if (e.en && (isWordChar(text[s - 1]) || isWordChar(text[end]))) {
        from = s + 1;
        continue;
      }
      from = end;
      if (taken.subarray(s, end).some((x) => x === 1)) continue;
      taken.fill(1, s, end);
      hits.push({ index: s, end, word: text.slice(s, end), value: e.v });
    }
  }
  return hits.sort((a, b) => a.index - b.index);
}

export function findPosition(text: string): Hit<PositionHint>[] {
  return findWords(text, ZH_POSITIONS, EN_POSITIONS);
}

export function findSizes(text: string): Hit<TextSize>[] {
  return findWords(text, ZH_SIZES, EN_SIZES);
}

export function findStyles(text: string): Hit<TextStyle>[] {
  return findWords(text, ZH_STYLES, EN_STYLES);
}

const ZH_VERTICAL_V = ZH_VERTICAL.map((w) => [w, true] as const);
const EN_VERTICAL_V = EN_VERTICAL.map((w) => [w, true] as const);

export function findVertical(text: string): Hit<boolean>[] {
  return findWords<boolean>(text, ZH_VERTICAL_V, EN_VERTICAL_V);
}

export function hasVertical(text: string): boolean {
  return findVertical(text).length > 0;
}

const NONE: ReadonlyArray<readonly [string, string]> = [];

const ZH_TEXT_NOUN = /^(?:的)?(?:[大小粗细]?字|文字|标题|标语|字体|艺术字)/;
const EN_TEXT_NOUN = /^\s*(?:[a-z-]+\s+)?(?:text|letters|lettering|title|words?|font|headline|heading|caption|type|typography|writing|characters|script|subtitle)\b/i;

/**
 * Colour hits that describe text: hex codes always; Chinese colour words with 色 or followed by a text
 * noun (红色文字, 金字); English ones after "in" or before a text noun (in gold, red letters). Words
 * that name a background (白底, white background) are skipped. Higher `value.score` = surer.
 */
export function findColors(text: string): Hit<{ hex: string; score: number }>[] {
  const out: Hit<{ hex: string; score: number }>[] = [];
  for (const m of text.matchAll(/#(?:[0-9a-f]{6}|[0-9a-f]{3})(?![0-9a-f])/gi)) {
    const hex = normaliseHex(m[0]);
    if (hex) out.push({ index: m.index, end: m.index + m[0].length, word: m[0], value: { hex, score: 3 } });
  }
  for (const h of findWords(text, ZH_COLORS, NONE)) {
    let end = h.end;
    const hasSe = text[end] === '色';
    if (hasSe) end++;
    const after = text.slice(end);
    if (/^(?:的)?(?:底|背景)/.test(after)) continue;
    const noun = ZH_TEXT_NOUN.test(after) || /^[^，。,.;；]{0,6}?(?:文字|字)/.test(after) && hasSe;
    if (!hasSe && !ZH_TEXT_NOUN.test(after)) continue;
    out.push({ index: h.index, end, word: text.slice(h.index, end), value: { hex: h.value, score: noun ? 2 : 1 } });
  }
  for (const h of findWords(text, NONE, EN_COLORS)) {
    const before = text.slice(0, h.index);
    const after = text.slice(h.end);
    if (/^\s*(?:-?colou?red\s+)?background/i.test(after)) continue;
    const inBefore = /\bin\s+(?:(?:bright|bold|shiny|metallic|light|dark|pure)\s+)?$/i.test(before);
    const noun = EN_TEXT_NOUN.test(after);
    if (!inBefore && !noun) continue;
    out.push({ index: h.index, end: h.end, word: h.word, value: { hex: h.value, score: 2 } });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** Merges position hits into one row/column, the nearest hit deciding each axis. */
export function mergePosition(hits: Hit<PositionHint>[], nearestLast: boolean): { v?: VPos; h?: HPos } {
  const ordered = nearestLast ? [...hits].reverse() : hits;
  const v = ordered.find((x) => x.value.v)?.value.v;
  const h = ordered.find((x) => x.value.h)?.value.h;
  return { ...(v ? { v } : {}), ...(h ? { h } : {}) };
}

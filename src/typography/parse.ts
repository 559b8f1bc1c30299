/** Prompt → TextPlan: which quoted text to draw, where, how big, in what colour and style. */
import { findColors, findPosition, findSizes, findStyles, findVertical, mergePosition, type Hit } from './attributes.js';
import { buildModelPrompt } from './model-prompt.js';
import { findQuotedSpans, type QuotedSpan, type SpanContext } from './spans.js';
import type { FaceId, HPos, TextBlock, TextColor, TextPlan, TextSize, TextStyle, VPos } from './types.js';

/** Clause boundaries. A colon is not one: 写着：“…” belongs with what came before. */
const BOUNDARY = /[，,。;；！!？?\n]|\.(?=\s|$)/g;

const CONJUNCTION = /\b(?:and|while|plus|but)\b|以及|并且|还有|同时|和/i;

const CJK = /[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]/;

function boundariesIn(prompt: string): number[] {
  return [...prompt.matchAll(BOUNDARY)].map((m) => m.index);
}

export function spanContexts(prompt: string, spans: QuotedSpan[]): SpanContext[] {
  const bounds = boundariesIn(prompt).filter((b) => !spans.some((s) => b >= s.start && b < s.end));
  const out: SpanContext[] = [];
  // Where the previous span's own words stop: its tail ends at a boundary, a conjunction or this span.
  let floor = 0;
  spans.forEach((s, i) => {
    const prevEnd = i > 0 ? (spans[i - 1]?.end ?? 0) : 0;
    const nextStart = i + 1 < spans.length ? (spans[i + 1]?.start ?? prompt.length) : prompt.length;
    const lastBound = bounds.filter((b) => b < s.start && b >= prevEnd).pop();
    // `"SALE" at the top and "50% OFF" at the bottom`: "at the top" is SALE's, not 50% OFF's.
    const preStart = Math.max(lastBound === undefined ? prevEnd : lastBound + 1, floor);
    const nextBound = bounds.find((b) => b >= s.end && b < nextStart);
    const tailLimit = nextBound ?? nextStart;
    // A conjunction starts the next thing described ("… and a small caption '…'").
    const conj = CONJUNCTION.exec(prompt.slice(s.end, tailLimit));
    const tailEnd = conj ? s.end + conj.index : tailLimit;
    floor = conj ? tailEnd + conj[0].length : tailEnd;
    out.push({ pre: [preStart, s.start], tail: [s.end, tailEnd], earlier: [Math.min(Math.max(prevEnd, i > 0 ? (out[i - 1]?.tail[1] ?? prevEnd) : prevEnd), preStart), preStart] });
  });
  return out;
}

type Pick<T> = (text: string) => Hit<T>[];

/** The attribute nearest the span: closest in the preceding clause, then the tail, then earlier clauses. */
function nearest<T>(prompt: string, ctx: SpanContext, find: Pick<T>): Hit<T> | undefined {
  const pre = find(prompt.slice(...ctx.pre));
  if (pre.length) return pre[pre.length - 1];
  const tail = find(prompt.slice(...ctx.tail));
  if (tail.length) return tail[0];
  const earlier = find(prompt.slice(...ctx.earlier));
  return earlier[earlier.length - 1];
}

function positionOf(prompt: string, ctx: SpanContext): { v?: VPos; h?: HPos; words: string[] } {
  for (const [seg, nearestLast] of [
    [ctx.pre, true],
    [ctx.tail, false],
    [ctx.earlier, true],
  ] as const) {
    const hits = findPosition(prompt.slice(...seg));
    const p = mergePosition(hits, nearestLast);
    if (p.v || p.h) return { ...p, words: hits.map((h) => h.word) };
  }
  return { words: [] };
}

function colorOf(prompt: string, ctx: SpanContext): TextColor {
  for (const seg of [ctx.pre, ctx.tail, ctx.earlier]) {
    const hits = findColors(prompt.slice(...seg));
    if (!hits.length) continue;
    const best = Math.max(...hits.map((h) => h.value.score));
    const chosen = seg === ctx.tail ? hits.find((h) => h.value.score === best) : hits.filter((h) => h.value.score === best).pop();
    if (chosen) return { name: chosen.word, hex: chosen.value.hex };
  }
  return { name: 'auto', hex: '#ffffff' };
}

function stylesOf(prompt: string, ctx: SpanContext): { styles: TextStyle[]; words: string[] } {
  for (const seg of [ctx.pre, ctx.tail, ctx.earlier]) {
    const hits = findStyles(prompt.slice(...seg));
    if (hits.length) return { styles: [...new Set(hits.map((h) => h.value))], words: hits.map((h) => h.word) };
  }
  return { styles: [], words: [] };
}

const EFFECTS: ReadonlySet<TextStyle> = new Set(['neon', 'outline', '3d', 'shadow', 'gradient', 'metallic']);

/** The face a block is drawn in: the first face-giving style wins; effects alone keep a bold sans. */
export function faceFor(styles: TextStyle[], lang: 'zh' | 'en', size: TextSize): FaceId {
  // 手写涂鸦: the doodle look wins over neat handwriting wherever it is named.
  if (styles.includes('doodle')) return 'doodle';
  const s = styles.find((x) => !EFFECTS.has(x));
  switch (s) {
    case 'brush':
      return 'brush';
    case 'handwritten':
      return lang === 'zh' ? 'handwriting' : 'script';
    case 'script':
      return lang === 'zh' ? 'handwriting' : 'script';
    case 'serif':
      return styles.includes('bold') || size === 'title' ? 'serif-bold' : 'serif';
    case 'sans':
      return size === 'title' || size === 'large' ? 'sans-bold' : 'sans';
    case 'bold':
      return 'sans-bold';
    case 'rounded':
      return 'rounded';
    case 'display':
      return 'display';
    default:
      return styles.length > 0 || size === 'title' || size === 'large' ? 'sans-bold' : 'sans';
  }
}

export function parseTextPlan(prompt: string): TextPlan {
  const spans = findQuotedSpans(prompt);
  const ctxs = spanContexts(prompt, spans);
  const blocks: TextBlock[] = [];
  spans.forEach((s, i) => {
    const ctx = ctxs[i];
    if (!ctx) return;
    const lang: 'zh' | 'en' = CJK.test(s.text) ? 'zh' : 'en';
    const pos = positionOf(prompt, ctx);
    const prev = blocks[blocks.length - 1];
    const explicit = pos.v !== undefined || pos.h !== undefined;
    // Unplaced blocks start at the top centre and later ones stack under the block before them.
    const v: VPos = pos.v ?? (pos.h ? 'middle' : (prev?.position.v ?? 'top'));
    const h: HPos = pos.h ?? (pos.v ? 'center' : (prev?.position.h ?? 'center'));
    const sizeHit = nearest(prompt, ctx, findSizes);
    const size: TextSize = sizeHit?.value ?? (blocks.length === 0 ? 'large' : 'medium');
    const { styles: style, words: styleWords } = stylesOf(prompt, ctx);
    const color = colorOf(prompt, ctx);
    const verticalWords = lang === 'zh' ? [ctx.pre, ctx.tail].flatMap((seg) => findVertical(prompt.slice(...seg)).map((h) => h.word)) : [];
    const text = s.text.trim().replace(/[ \t]*\n[ \t]*/g, '\n');
    blocks.push({
      text,
      lines: text.split('\n'),
      position: { v, h },
      positionExplicit: explicit,
      size,
      color,
      style,
      font: faceFor(style, lang, size),
      vertical: verticalWords.length > 0,
      lang,
      span: [s.start, s.end],
      cues: {
        position: pos.words,
        size: sizeHit ? [sizeHit.word] : [],
        color: color.name === 'auto' ? [] : [color.name],
        style: styleWords,
        vertical: verticalWords,
      },
    });
  });
  const { modelPrompt, negativePrompt } = buildModelPrompt(prompt, blocks, ctxs);
  return { blocks, modelPrompt, negativePrompt };
}

/**
 * Places each block in its cell of a 3×3 grid and picks the largest font size (binary search) at which
 * the wrapped text fits. Pure: text width comes from the injected `measure`, so tests need no fonts.
 * Regions never overlap and stay inside the margins, and each text box stays inside its region, so
 * blocks can't collide with each other or with the image edge.
 */
import { breakLines, breakLinesMeasured } from './linebreak.js';
import type { Box, HPos, LaidOutBlock, Layout, MeasureText, PlacedLine, TextBlock, TextPlan, TextSize, VPos } from './types.js';

/** Largest font size per class, as a fraction of the shorter image side. */
const MAX_SIZE: Record<TextSize, number> = { title: 0.15, large: 0.11, medium: 0.07, small: 0.045 };
/** Stacking weight when several blocks share a cell. */
const WEIGHT: Record<TextSize, number> = { title: 3, large: 2.2, medium: 1.5, small: 1 };
export const LINE_HEIGHT = 1.3;
/** Column pitch for vertical text, in ems. */
export const COLUMN_PITCH = 1.3;
/** Room around the ink for strokes, glows and backing plates, in ems. */
export const PAD_EM = 0.15;
const MIN_FONT = 10;

const ROWS: VPos[] = ['top', 'middle', 'bottom'];
const COLS: HPos[] = ['left', 'center', 'right'];

export interface LayoutOptions {
  /** Margin from the image edge as a fraction of the shorter side. */
  margin?: number;
  /** Gap between regions, as a fraction of the shorter side. */
  gap?: number;
}

/** Horizontal extent of each used column in one row: a lone column gets the full width. */
function columnSpans(used: Set<HPos>, left: number, right: number, gap: number, thirds = false): Map<HPos, [number, number]> {
  const w = right - left;
  const spans = new Map<HPos, [number, number]>();
  if (thirds) {
    COLS.forEach((c, i) => {
      if (used.has(c)) spans.set(c, [left + (w * i) / 3 + (i > 0 ? gap / 2 : 0), left + (w * (i + 1)) / 3 - (i < 2 ? gap / 2 : 0)]);
    });
  } else if (used.size === 1) {
    const only = [...used][0]!;
    spans.set(only, [left, right]);
  } else if (!used.has('center')) {
    spans.set('left', [left, left + w / 2 - gap / 2]);
    spans.set('right', [left + w / 2 + gap / 2, right]);
  } else {
    COLS.forEach((c, i) => {
      if (used.has(c)) spans.set(c, [left + (w * i) / 3 + (i > 0 ? gap / 2 : 0), left + (w * (i + 1)) / 3 - (i < 2 ? gap / 2 : 0)]);
    });
  }
  return spans;
}

/**
 * Regions for every block: rows are thirds; blocks sharing a cell split it top to bottom by weight.
 * A vertical block alone in the left or right column gets that whole column (top to bottom), and the
 * other rows then keep out of it.
 */
export function regionsFor(blocks: TextBlock[], width: number, height: number, opts: LayoutOptions = {}): Box[] {
  const short = Math.min(width, height);
  const m = Math.round((opts.margin ?? 0.04) * short);
  const gap = Math.round((opts.gap ?? 0.02) * short);
  const innerH = height - 2 * m;
  const regions: Box[] = new Array<Box>(blocks.length);
  const tall = new Set(
    blocks.filter((b) => b.vertical && b.position.h !== 'center' && blocks.filter((o) => o.position.h === b.position.h).length === 1).map((b) => b.position.h),
  );
  blocks.forEach((b, i) => {
    if (!tall.has(b.position.h)) return;
    const span = columnSpans(new Set([b.position.h]), m, width - m, gap, true).get(b.position.h);
    if (span) regions[i] = { x: Math.floor(span[0]), y: m, w: Math.floor(span[1] - span[0]), h: innerH };
  });
  ROWS.forEach((row, ri) => {
    const inRow = blocks.map((b, i) => ({ b, i })).filter(({ b }) => b.position.v === row && !tall.has(b.position.h));
    if (!inRow.length) return;
    const top = m + (innerH * ri) / 3 + (ri > 0 ? gap / 2 : 0);
    const bottom = m + (innerH * (ri + 1)) / 3 - (ri < 2 ? gap / 2 : 0);
    const spans = columnSpans(new Set([...inRow.map(({ b }) => b.position.h), ...tall]), m, width - m, gap, tall.size > 0);
    for (const col of COLS) {
      if (tall.has(col)) continue;
      const cell = inRow.filter(({ b }) => b.position.h === col);
      const span = spans.get(col);
      if (!cell.length || !span) continue;
      const total = cell.reduce((s, { b }) => s + WEIGHT[b.size], 0);
      const usable = bottom - top - gap * (cell.length - 1);
      let y = top;
      for (const { b, i } of cell) {
        const h = (usable * WEIGHT[b.size]) / total;
        regions[i] = { x: Math.floor(span[0]), y: Math.floor(y), w: Math.floor(span[1] - span[0]), h: Math.floor(h) };
        y += h + gap;
      }
    }
  });
  return regions;
}

interface Fitted {
  lines: string[];
  widths: number[];
  boxW: number;
  boxH: number;
  fits: boolean;
}

function fitAt(block: TextBlock, size: number, region: Box, measure: MeasureText, wrap = true): Fitted {
  const pad = Math.ceil(size * PAD_EM);
  const maxW = region.w - 2 * pad;
  const maxH = region.h - 2 * pad;
  if (block.vertical) {
    // Columns: each character takes one em going down; a column holds as many as fit the height.
    const perCol = wrap ? Math.max(1, Math.floor(maxH / size)) : Number.MAX_SAFE_INTEGER;
    const cols = breakLines(block.text, perCol, (s) => [...s].length, { everyChar: true });
    const colH = Math.max(...cols.map((c) => [...c].length)) * size;
    const boxW = (cols.length - 1) * size * COLUMN_PITCH + size;
    const fits = boxW <= maxW && colH <= maxH;
    return { lines: cols, widths: cols.map(() => size), boxW: boxW + 2 * pad, boxH: colH + 2 * pad, fits };
  }
  const m = (s: string): number => measure(s, size, block.font);
  const { lines, widths } = wrap
    ? breakLinesMeasured(block.text, maxW, m)
    : { lines: block.text.split('\n'), widths: block.text.split('\n').map(m) };
  const textW = Math.max(...widths);
  const textH = lines.length * size * LINE_HEIGHT;
  return { lines, widths, boxW: textW + 2 * pad, boxH: textH + 2 * pad, fits: textW <= maxW && textH <= maxH };
}

/** Binary search for the largest size in [MIN_FONT, maxSize] at which the block fits. */
function largestFit(block: TextBlock, region: Box, maxSize: number, measure: MeasureText, wrap: boolean): { size: number; f: Fitted } | undefined {
  let lo = MIN_FONT;
  let hi = maxSize;
  let best: { size: number; f: Fitted } | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const f = fitAt(block, mid, region, measure, wrap);
    if (f.fits) {
      best = { size: mid, f };
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}

/** Unwrapped text is kept when it costs less than this share of the wrapped size: 福星高 / 照 reads badly. */
const KEEP_WHOLE = 0.7;

/** Thin-stroked decorative faces (and doodle's marker-like ones) lose strokes at small sizes; their small/medium classes are drawn larger. */
const DECORATIVE_FACES: ReadonlySet<string> = new Set(['brush', 'handwriting', 'script', 'doodle']);
const DECORATIVE_BOOST = 1.35;

/** Lays one block out in its region at the largest size (≤ its class maximum) that fits. */
export function layoutBlock(block: TextBlock, region: Box, imageShort: number, measure: MeasureText): LaidOutBlock {
  const boost = DECORATIVE_FACES.has(block.font) && (block.size === 'small' || block.size === 'medium') ? DECORATIVE_BOOST : 1;
  const maxSize = Math.max(MIN_FONT, Math.floor(MAX_SIZE[block.size] * boost * imageShort));
  const wrapped = largestFit(block, region, maxSize, measure, true);
  const whole = largestFit(block, region, maxSize, measure, false);
  const best = whole && (!wrapped || whole.size >= KEEP_WHOLE * wrapped.size) ? whole : wrapped;
  const size = best?.size ?? MIN_FONT;
  const f = best?.f ?? fitAt(block, MIN_FONT, region, measure);
  const boxW = Math.min(region.w, Math.ceil(f.boxW));
  const boxH = Math.min(region.h, Math.ceil(f.boxH));
  const h = block.position.h;
  const v = block.position.v;
  const x = h === 'left' ? region.x : h === 'right' ? region.x + region.w - boxW : region.x + Math.floor((region.w - boxW) / 2);
  const y = v === 'top' ? region.y : v === 'bottom' ? region.y + region.h - boxH : region.y + Math.floor((region.h - boxH) / 2);
  const box: Box = { x, y, w: boxW, h: boxH };
  const pad = Math.ceil(size * PAD_EM);
  const lineHeight = Math.round(size * LINE_HEIGHT);
  const lines: PlacedLine[] = block.vertical
    ? // Columns run right to left, characters top to bottom.
      f.lines.map((text, i) => ({
        text,
        x: Math.round(box.x + box.w - pad - size - i * size * COLUMN_PITCH),
        y: box.y + pad,
        width: size,
        height: [...text].length * size,
      }))
    : f.lines.map((text, i) => {
        const w = f.widths[i] ?? 0;
        const inner = box.w - 2 * pad;
        const lx = h === 'left' ? box.x + pad : h === 'right' ? box.x + box.w - pad - w : box.x + pad + (inner - w) / 2;
        return { text, x: Math.round(lx), y: Math.round(box.y + pad + i * size * LINE_HEIGHT), width: w, height: lineHeight };
      });
  return { block, region, box, fontSize: size, lineHeight, lines, fits: best !== undefined };
}

export function layoutPlan(plan: TextPlan, width: number, height: number, measure: MeasureText, opts: LayoutOptions = {}): Layout {
  const regions = regionsFor(plan.blocks, width, height, opts);
  const short = Math.min(width, height);
  return {
    width,
    height,
    blocks: plan.blocks.map((b, i) => layoutBlock(b, regions[i]!, short, measure)),
  };
}

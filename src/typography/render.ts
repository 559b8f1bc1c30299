/**
 * Draws laid-out text onto an image with @napi-rs/canvas at the image's own (final) resolution.
 * The input image is not modified: a new RawImage is returned.
 */
import { ImageData, createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import type { RawImage } from '../engine/types.js';
import { autoColor, backgroundStats, decideLegibility, haloFor, hexToRgb, luminance, type LegibilityDecision, type Rgb } from './contrast.js';
import { advanceMeasure, fontString } from './fonts.js';
import { layoutPlan } from './layout.js';
import type { LaidOutBlock, Layout, MeasureText, TextPlan } from './types.js';

export interface RenderOptions {
  /** A layout computed earlier (e.g. to OCR the same boxes); computed here when absent. */
  layout?: Layout;
  measure?: MeasureText;
  /** Skip the contrast treatment (used to render the OCR judge's plain reference). */
  plain?: boolean;
}

export interface RenderReport {
  image: RawImage;
  layout: Layout;
  /** One per block, in block order. */
  legibility: LegibilityDecision[];
}

function css({ r, g, b }: Rgb, a = 1): string {
  return `rgba(${Math.round(r)},${Math.round(g)},${Math.round(b)},${a})`;
}

/** The side colour of 3D lettering: a darker shade, or a lighter one when the text is already dark. */
export function extrusionColor(c: Rgb): Rgb {
  const k = luminance(c) < 0.1 ? 0.5 : 0;
  return k ? { r: c.r + (255 - c.r) * k, g: c.g + (255 - c.g) * k, b: c.b + (255 - c.b) * k } : { r: c.r * 0.45, g: c.g * 0.45, b: c.b * 0.45 };
}

/** Calls `draw(text, x, y)` for every line (centre-left anchor) or every upright character of a column. */
function eachGlyphRun(lb: LaidOutBlock, draw: (text: string, x: number, y: number) => void): void {
  const size = lb.fontSize;
  for (const line of lb.lines) {
    if (lb.block.vertical) {
      [...line.text].forEach((ch, i) => draw(ch, line.x + size / 2, line.y + i * size + size / 2));
    } else {
      draw(line.text, line.x, line.y + line.height / 2);
    }
  }
}

function roundRect(ctx: SKRSContext2D, x: number, y: number, w: number, h: number, r: number): void {
  ctx.beginPath();
  ctx.roundRect(x, y, w, h, r);
  ctx.fill();
}

function drawBlock(ctx: SKRSContext2D, lb: LaidOutBlock, decision: LegibilityDecision): void {
  const { block, fontSize: size } = lb;
  const color = decision.textColor;
  ctx.font = fontString(block.font, size);
  ctx.textBaseline = 'middle';
  ctx.textAlign = block.vertical ? 'center' : 'left';
  ctx.lineJoin = 'round';
  const t = decision.treatment;
  if (t.kind === 'plate') {
    ctx.fillStyle = css(t.color, t.alpha);
    roundRect(ctx, lb.box.x, lb.box.y, lb.box.w, lb.box.h, Math.round(size * 0.2));
  }
  const styles = new Set(block.style);
  const haloColor = t.kind === 'outline' ? t.color : undefined;
  if (styles.has('3d')) {
    // Extruded look: stacked offset copies in a darker shade, back to front.
    const depth = Math.max(2, Math.round(size * 0.06));
    ctx.fillStyle = css(extrusionColor(color));
    for (let k = depth; k >= 1; k--) eachGlyphRun(lb, (s, x, y) => ctx.fillText(s, x + k, y + k));
  }
  if (styles.has('outline') || haloColor) {
    ctx.strokeStyle = css(haloColor ?? haloFor(luminance(color)));
    ctx.lineWidth = Math.max(2, Math.round(size * 0.12));
    eachGlyphRun(lb, (s, x, y) => ctx.strokeText(s, x, y));
  }
  if (styles.has('neon')) {
    ctx.shadowColor = css(color);
    ctx.shadowBlur = Math.max(3, size * 0.2);
    ctx.fillStyle = css(color);
    eachGlyphRun(lb, (s, x, y) => ctx.fillText(s, x, y));
    ctx.shadowBlur = 0;
    ctx.shadowColor = 'rgba(0,0,0,0)';
  }
  ctx.fillStyle = css(color);
  eachGlyphRun(lb, (s, x, y) => ctx.fillText(s, x, y));
}

/** The part of the image a block can touch: its box plus room for glows and shadows, clamped. */
function touchedArea(lb: LaidOutBlock, width: number, height: number): { x: number; y: number; w: number; h: number } {
  const grow = Math.ceil(lb.fontSize * 0.6);
  const x = Math.max(0, lb.box.x - grow);
  const y = Math.max(0, lb.box.y - grow);
  return { x, y, w: Math.min(width, lb.box.x + lb.box.w + grow) - x, h: Math.min(height, lb.box.y + lb.box.h + grow) - y };
}

function copyRect(src: Uint8ClampedArray, srcW: number, dst: Uint8ClampedArray, dstW: number, sx: number, sy: number, dx: number, dy: number, w: number, h: number): void {
  for (let row = 0; row < h; row++) {
    const s = ((sy + row) * srcW + sx) * 4;
    dst.set(src.subarray(s, s + w * 4), ((dy + row) * dstW + dx) * 4);
  }
}

/**
 * Renders every block and reports the layout and the legibility decision taken for each. Each block is
 * drawn on a canvas the size of the area it touches, not the whole image: copying a full 1024² image in
 * and out of the canvas would cost more than the drawing.
 */
export function renderTextPlanDetailed(image: RawImage, plan: TextPlan, opts: RenderOptions = {}): RenderReport {
  const layout = opts.layout ?? layoutPlan(plan, image.width, image.height, opts.measure ?? advanceMeasure);
  const out = new Uint8ClampedArray(image.data);
  const legibility = layout.blocks.map((lb) => {
    const bg = backgroundStats(image, lb.box);
    const requested = lb.block.color.name === 'auto' ? autoColor(bg) : hexToRgb(lb.block.color.hex);
    const decision: LegibilityDecision = opts.plain
      ? { textColor: requested, bareContrast: 0, treatment: { kind: 'none' }, effectiveContrast: 0 }
      : decideLegibility(requested, bg, { fontSize: lb.fontSize });
    const a = touchedArea(lb, image.width, image.height);
    if (a.w <= 0 || a.h <= 0) return decision;
    const patch = new Uint8ClampedArray(a.w * a.h * 4);
    copyRect(out, image.width, patch, a.w, a.x, a.y, 0, 0, a.w, a.h);
    const canvas = createCanvas(a.w, a.h);
    const ctx = canvas.getContext('2d');
    ctx.putImageData(new ImageData(patch, a.w, a.h), 0, 0);
    ctx.translate(-a.x, -a.y);
    drawBlock(ctx, lb, decision);
    const drawn = ctx.getImageData(0, 0, a.w, a.h).data;
    copyRect(drawn, a.w, out, image.width, 0, 0, a.x, a.y, a.w, a.h);
    return decision;
  });
  return { image: { width: image.width, height: image.height, data: out }, layout, legibility };
}

/** Draws the plan's text onto a copy of `image` and returns the copy. */
export function renderTextPlan(image: RawImage, plan: TextPlan, opts: RenderOptions = {}): RawImage {
  return renderTextPlanDetailed(image, plan, opts).image;
}


/** Reading rendered text back with OCR, block by block, the way the tests and the benchmark judge it. */
import sharp from 'sharp';
import type { RawImage } from '../../../src/engine/types.js';
import { haloFor, luminance, type LegibilityDecision, type Rgb } from '../../../src/typography/contrast.js';
import { ocrBatch, prepare, type OcrJob, type OcrLang } from './ocr.js';
import { cropRgb, tileHorizontally, type PaddleRecognizer } from './paddle-ocr.js';
import { extrusionColor, faceColorAt, mix, neonCore } from '../../../src/typography/render.js';
import { normaliseForCompare } from '../../../src/typography/textmetrics.js';
import type { LaidOutBlock } from '../../../src/typography/types.js';

/** What was drawn, as one comparable string (laid-out lines joined; caps-only faces upper-cased). */
export function drawnText(lb: LaidOutBlock): string {
  const joined = lb.lines.map((l) => l.text).join(lb.block.vertical || lb.block.lang === 'zh' ? '' : ' ');
  const s = normaliseForCompare(lb.block.font === 'display' ? joined.toUpperCase() : joined);
  // Tesseract's spacing inside Chinese lines is unreliable, so Chinese blocks compare without spaces.
  return lb.block.vertical || lb.block.lang === 'zh' ? s.replace(/ /g, '') : s;
}

export function ocrLangFor(lb: LaidOutBlock): OcrLang {
  if (lb.block.vertical) return 'chi_sim_vert';
  return lb.block.lang === 'zh' ? (/[A-Za-z]/.test(lb.block.text) ? 'chi_sim+eng' : 'chi_sim') : 'eng';
}

/**
 * The glyphs of one block as black on white. A pixel is glyph when the renderer changed it and its
 * colour is much nearer the text colour than to anything else that can be there: the original pixel
 * (seen through the plate, if any), the outline colour, the 3D shade. This separates the letters from
 * picture, plate, outline and glow the way the eye does, so OCR judges the glyphs and their order.
 */
export function glyphMask(after: RawImage, before: RawImage, lb: LaidOutBlock, decision: LegibilityDecision): { data: Buffer; width: number; height: number } {
  const box = lb.box;
  const text = decision.textColor;
  const t = decision.treatment;
  const fixed: Rgb[] = [];
  if (t.kind === 'outline') fixed.push(t.color);
  if (lb.block.style.includes('3d')) fixed.push(extrusionColor(text), mix(extrusionColor(text), { r: 0, g: 0, b: 0 }, 0.35));
  // Neon's glow is the colour itself; its glyphs are the near-white core.
  if (lb.block.style.includes('neon') && Math.hypot(text.r - neonCore(text).r, text.g - neonCore(text).g, text.b - neonCore(text).b) > 40) fixed.push(text);
  const shadow = lb.block.style.includes('shadow') ? (luminance(text) > 0.25 ? 0 : 255) : undefined;
  if (lb.block.style.includes('outline') && t.kind !== 'outline') fixed.push(haloFor(luminance(lb.block.style.includes('neon') ? neonCore(text) : text)));
  const plate = t.kind === 'plate' ? t : undefined;
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const w = Math.min(after.width, Math.ceil(box.x + box.w)) - x0;
  const h = Math.min(after.height, Math.ceil(box.y + box.h)) - y0;
  const out = Buffer.alloc(Math.max(0, w * h), 255);
  const a = after.data;
  const o = before.data;
  const dist = (r: number, g: number, b: number, c: Rgb): number => Math.hypot(r - c.r, g - c.g, b - c.b);
  for (let y = 0; y < h; y++) {
    // Gradient, metallic and 3D faces change colour down the box; neon's glyphs are its core.
    const ink = faceColorAt(lb, text, y0 + y);
    for (let x = 0; x < w; x++) {
      const i = ((y0 + y) * after.width + x0 + x) * 4;
      const r = a[i] ?? 0;
      const g = a[i + 1] ?? 0;
      const b = a[i + 2] ?? 0;
      const orig: Rgb = { r: o[i] ?? 0, g: o[i + 1] ?? 0, b: o[i + 2] ?? 0 };
      if (Math.abs(r - orig.r) + Math.abs(g - orig.g) + Math.abs(b - orig.b) < 12) continue;
      const dText = dist(r, g, b, ink);
      let dOther = Math.min(dist(r, g, b, orig), ...fixed.map((c) => dist(r, g, b, c)));
      // A drop shadow darkens (or lightens) the picture by up to 60 %.
      if (shadow !== undefined) dOther = Math.min(dOther, dist(r, g, b, mix(orig, { r: shadow, g: shadow, b: shadow }, 0.6)));
      if (plate) {
        // Through the plate, and (at its anti-aliased rim) anywhere between plate and picture.
        const k = plate.alpha;
        dOther = Math.min(dOther, dist(r, g, b, { r: k * plate.color.r + (1 - k) * orig.r, g: k * plate.color.g + (1 - k) * orig.g, b: k * plate.color.b + (1 - k) * orig.b }));
        dOther = Math.min(dOther, dist(r, g, b, { r: (k * plate.color.r) / 2 + (1 - k / 2) * orig.r, g: (k * plate.color.g) / 2 + (1 - k / 2) * orig.g, b: (k * plate.color.b) / 2 + (1 - k / 2) * orig.b }));
      }
      // Soft mask: 0 (ink) when much nearer the text colour, fading to 255 at the halfway point.
      const tness = dOther / (dText + dOther + 1e-6);
      out[y * w + x] = Math.round(255 * (1 - Math.min(1, Math.max(0, (tness - 0.5) / 0.3))));
    }
  }
  return { data: out, width: w, height: h };
}

/** Text height (px) the crop is scaled to before OCR. */
export const OCR_TEXT_HEIGHT = 40;

/** The Tesseract judge's input for one block: its glyph mask, scaled to ~40 px text, with the block's language and mode. */
export async function tesseractJob(after: RawImage, before: RawImage, lb: LaidOutBlock, decision: LegibilityDecision, opts: { textHeight?: number } = {}): Promise<OcrJob | undefined> {
  const m = glyphMask(after, before, lb, decision);
  if (m.width <= 0 || m.height <= 0) return undefined;
  const png = await sharp(m.data, { raw: { width: m.width, height: m.height, channels: 1 } }).png().toBuffer();
  const lang = ocrLangFor(lb);
  const psm = lb.block.vertical ? 5 : lb.lines.length === 1 ? 7 : 6;
  return { png: await prepare(png, { lang, psm, scaleTo: { textHeight: lb.fontSize, targetHeight: opts.textHeight ?? OCR_TEXT_HEIGHT } }), lang, psm };
}

/** Tesseract's raw reading of a block, normalised the way drawnText() is. */
export function tesseractReading(lb: LaidOutBlock, raw: string): string {
  const read = normaliseForCompare(raw);
  return lb.block.vertical || lb.block.lang === 'zh' ? read.replace(/ /g, '') : read;
}

/** OCR of one block with Tesseract (see tesseractJob). */
export async function readBackBlock(after: RawImage, before: RawImage, lb: LaidOutBlock, decision: LegibilityDecision, opts: { textHeight?: number } = {}): Promise<string> {
  const job = await tesseractJob(after, before, lb, decision, opts);
  return job ? tesseractReading(lb, (await ocrBatch([job], { parallel: 1 }))[0] ?? '') : '';
}

/**
 * The PaddleOCR judge for one block: each laid-out line is cut from the composited image with a margin
 * and read by PP-OCRv4, then the lines are joined like drawnText() joins them. A vertical column is cut
 * into its character cells (one em each, as laid out) and they are read side by side.
 */
export async function readBackBlockPaddle(rec: PaddleRecognizer, image: RawImage, lb: LaidOutBlock): Promise<string> {
  const parts: string[] = [];
  for (const crop of paddleCrops(image, lb)) parts.push((await rec.readLine(crop)).text);
  return paddleReading(lb, parts);
}

/**
 * The line crops the PaddleOCR judge reads for one block (cut now, so a caller can read them later
 * without keeping the picture).
 */
export function paddleCrops(image: RawImage, lb: LaidOutBlock): Array<{ data: Buffer; width: number; height: number }> {
  // A margin that holds glow and 3D depth but stays inside a backing plate: a plate's edge in the crop
  // is read as "]" or "l".
  const m = lb.fontSize * 0.15;
  const size = lb.fontSize;
  return lb.lines.map((line) =>
    lb.block.vertical
      ? tileHorizontally(Array.from({ length: Math.round(line.height / size) }, (_, i) => cropRgb(image, { x: line.x - m, y: line.y + i * size, w: line.width + 2 * m, h: size })))
      : cropRgb(image, { x: line.x - m, y: line.y, w: line.width + 2 * m, h: line.height }),
  );
}

/** The lines PaddleOCR read, joined and normalised the way drawnText() is. */
export function paddleReading(lb: LaidOutBlock, lines: string[]): string {
  const read = normaliseForCompare(lines.join(lb.block.vertical || lb.block.lang === 'zh' ? '' : ' '));
  return lb.block.vertical || lb.block.lang === 'zh' ? read.replace(/ /g, '') : read;
}

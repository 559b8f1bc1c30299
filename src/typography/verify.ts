/** Reading rendered text back with OCR, block by block, the way the tests and the benchmark judge it. */
import sharp from 'sharp';
import type { RawImage } from '../engine/types.js';
import { hexToRgb } from './contrast.js';
import { ocrText, type OcrLang } from './ocr.js';
import { normaliseForCompare } from './textmetrics.js';
import type { Box, LaidOutBlock } from './types.js';

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
 * The glyphs of one block as black on white: pixels the renderer changed (against the image before
 * the text) whose colour is near the text colour. This isolates the letters from the picture, the
 * plate and the outline, so the OCR judges the glyphs and their order, not the background.
 */
export function glyphMask(after: RawImage, before: RawImage, box: Box, textHex: string): { data: Buffer; width: number; height: number } {
  const { r, g, b } = hexToRgb(textHex);
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const w = Math.min(after.width, Math.ceil(box.x + box.w)) - x0;
  const h = Math.min(after.height, Math.ceil(box.y + box.h)) - y0;
  const out = Buffer.alloc(Math.max(0, w * h), 255);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = ((y0 + y) * after.width + x0 + x) * 4;
      const a = after.data;
      const o = before.data;
      const changed = Math.abs((a[i] ?? 0) - (o[i] ?? 0)) + Math.abs((a[i + 1] ?? 0) - (o[i + 1] ?? 0)) + Math.abs((a[i + 2] ?? 0) - (o[i + 2] ?? 0));
      const near = Math.abs((a[i] ?? 0) - r) + Math.abs((a[i + 1] ?? 0) - g) + Math.abs((a[i + 2] ?? 0) - b);
      if (changed > 24 && near < 110) out[y * w + x] = 0;
    }
  }
  return { data: out, width: w, height: h };
}

/** OCR of one block: its glyph mask, scaled to ~40 px text, read with the block's language. */
export async function readBackBlock(after: RawImage, before: RawImage, lb: LaidOutBlock, textHex: string): Promise<string> {
  const m = glyphMask(after, before, lb.box, textHex);
  if (m.width <= 0 || m.height <= 0) return '';
  const png = await sharp(m.data, { raw: { width: m.width, height: m.height, channels: 1 } }).png().toBuffer();
  const raw = await ocrText(png, {
    lang: ocrLangFor(lb),
    psm: lb.block.vertical ? 5 : lb.lines.length === 1 ? 7 : 6,
    scaleTo: { textHeight: lb.fontSize, targetHeight: 40 },
  });
  const read = normaliseForCompare(raw);
  return lb.block.vertical || lb.block.lang === 'zh' ? read.replace(/ /g, '') : read;
}

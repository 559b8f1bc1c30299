/** Reading rendered text back with OCR, block by block, the way the tests and the benchmark judge it. */
import sharp from 'sharp';
import type { RawImage } from '../../../src/engine/types.js';
import { haloFor, luminance, type LegibilityDecision, type Rgb } from '../../../src/typography/contrast.js';
import { ocrBatch, prepare, type OcrJob, type OcrLang } from './ocr.js';
import { cropRgb, tileHorizontally, type PaddleRecognizer } from './paddle-ocr.js';
import { extrusionColor, extrusionDepth, faceColorAt, mix, neonCore, neonGlow } from '../../../src/typography/render.js';
import { normaliseForCompare } from '../../../src/typography/textmetrics.js';
import { renderTextPlanDetailed } from '../../../src/typography/render.js';
import type { LaidOutBlock, Layout } from '../../../src/typography/types.js';

/** What was drawn, as one comparable string (laid-out lines joined; caps-only faces upper-cased). */
export function drawnText(lb: LaidOutBlock): string {
  const joined = lb.lines.map((l) => l.text).join(lb.block.vertical || lb.block.lang === 'zh' ? '' : ' ');
  const s = normaliseForCompare(lb.block.font === 'display' ? joined.toUpperCase() : joined);
  // Tesseract's spacing inside Chinese lines is unreliable, so Chinese blocks compare without spaces.
  return lb.block.vertical || lb.block.lang === 'zh' ? s.replace(/ /g, '') : s;
}

/** The plain rendering's legibility: black glyphs, nothing around them. */
export const PLAIN_INK: LegibilityDecision = { textColor: { r: 0, g: 0, b: 0 }, bareContrast: 21, treatment: { kind: 'none' }, effectiveContrast: 21 };

/**
 * The same lines, face and size, black on white, no effect: what a judge can read at best (its ceiling).
 * A block a judge misreads here is not judge-readable for it.
 */
export function plainRendering(layout: Layout, width: number, height: number): { image: RawImage; before: RawImage; layout: Layout } {
  const blocks: LaidOutBlock[] = layout.blocks.map((lb) => ({ ...lb, block: { ...lb.block, color: { name: 'black', hex: '#000000' }, style: [] } }));
  const plainLayout = { ...layout, blocks };
  const before: RawImage = { width, height, data: new Uint8ClampedArray(width * height * 4).fill(255) };
  const plan = { blocks: blocks.map((b) => b.block), modelPrompt: '', negativePrompt: '' };
  return { image: renderTextPlanDetailed(before, plan, { layout: plainLayout, plain: true }).image, before, layout: plainLayout };
}

export function ocrLangFor(lb: LaidOutBlock): OcrLang {
  if (lb.block.vertical) return 'chi_sim_vert';
  return lb.block.lang === 'zh' ? (/[A-Za-z]/.test(lb.block.text) ? 'chi_sim+eng' : 'chi_sim') : 'eng';
}

/**
 * The glyphs of one block as black on white, by unmixing each pixel the renderer changed. A pixel is
 * modelled as lying on a segment between two colours that can meet there: the ink and a backdrop the ink
 * is drawn over (the picture, the outline, the plate over the picture, the 3D side, the shadow), or two
 * non-ink colours (picture and outline, picture and neon glow). The segment nearest the pixel explains it,
 * and the position along an ink segment is the pixel's share of ink: a thin or anti-aliased stroke over
 * an outline stays half ink instead of being taken for a dark background. This separates the letters from
 * picture, plate, outline and glow the way the eye does, so OCR judges the glyphs and their order.
 */
export function glyphMask(after: RawImage, before: RawImage, lb: LaidOutBlock, decision: LegibilityDecision): { data: Buffer; width: number; height: number } {
  const box = lb.box;
  const text = decision.textColor;
  const t = decision.treatment;
  const style = new Set<string>(lb.block.style);
  const black: Rgb = { r: 0, g: 0, b: 0 };
  // Fixed colours the ink can be drawn over.
  const fixed: Rgb[] = [];
  if (t.kind === 'outline') fixed.push(t.color);
  if (style.has('outline') && t.kind !== 'outline') fixed.push(haloFor(luminance(style.has('neon') ? neonCore(text) : text)));
  // Each slice of the 3D side has its own shade (darkest at the back).
  if (style.has('3d')) for (let k = 1, depth = extrusionDepth(lb.fontSize); k <= depth; k++) fixed.push(mix(extrusionColor(text), black, (0.35 * k) / depth));
  // Neon's glow is the colour itself around the near-white core.
  const glow = style.has('neon') ? neonGlow(text) : undefined;
  if (glow) fixed.push(glow);
  const shadow = style.has('shadow') ? (luminance(text) > 0.25 ? 0 : 255) : undefined;
  const plate = t.kind === 'plate' ? t : undefined;
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const w = Math.min(after.width, Math.ceil(box.x + box.w)) - x0;
  const h = Math.min(after.height, Math.ceil(box.y + box.h)) - y0;
  const out = Buffer.alloc(Math.max(0, w * h), 255);
  const a = after.data;
  const o = before.data;
  for (let y = 0; y < h; y++) {
    // Gradient, metallic and 3D faces change colour down the box; neon's glyphs are its core.
    const ink = faceColorAt(lb, text, y0 + y);
    for (let x = 0; x < w; x++) {
      const i = ((y0 + y) * after.width + x0 + x) * 4;
      const p: Rgb = { r: a[i] ?? 0, g: a[i + 1] ?? 0, b: a[i + 2] ?? 0 };
      const orig: Rgb = { r: o[i] ?? 0, g: o[i + 1] ?? 0, b: o[i + 2] ?? 0 };
      if (Math.abs(p.r - orig.r) + Math.abs(p.g - orig.g) + Math.abs(p.b - orig.b) < 12) continue;
      const backdrops: Rgb[] = [orig, ...fixed];
      // The contact shadow that seats the text darkens the picture under it.
      if (decision.contactShadow) backdrops.push(mix(orig, decision.contactShadow.color, decision.contactShadow.alpha));
      // A drop shadow darkens (or lightens) the picture by up to 60 %.
      if (shadow !== undefined) backdrops.push(mix(orig, { r: shadow, g: shadow, b: shadow }, 0.6));
      if (plate) {
        // Through the plate, and (at its anti-aliased rim) halfway between plate and picture.
        backdrops.push(mix(orig, plate.color, plate.alpha), mix(orig, plate.color, plate.alpha / 2));
      }
      // What explains the pixel without ink: two non-ink colours meeting, one drawn over the other (a
      // glow over the picture or over the plate, an outline's rim, the 3D side's slices).
      let bestNone = Infinity;
      for (let i = 0; i < backdrops.length; i++) for (let j = i + 1; j < backdrops.length; j++) bestNone = Math.min(bestNone, onSegment(p, backdrops[i]!, backdrops[j]!).residual);
      let best = Infinity;
      let share = 0;
      for (const bd of backdrops) {
        const ink1 = onSegment(p, bd, ink);
        if (ink1.residual < best) (best = ink1.residual), (share = ink1.t);
      }
      // Near the picture's own colour every segment passes close, and 8-bit rounding decides between a
      // faint glow and faint ink: ink must explain the pixel clearly better.
      if (bestNone <= best + INK_MARGIN) share = 0;
      out[y * w + x] = Math.round(255 * (1 - share));
    }
  }
  return { data: out, width: w, height: h };
}

/** How much better (in RGB units) ink must explain a pixel than the non-ink colours do. */
const INK_MARGIN = 3;

/** Where `p` projects onto the segment a→b (0…1) and how far from the segment it lies. */
function onSegment(p: Rgb, a: Rgb, b: Rgb): { t: number; residual: number } {
  const dr = b.r - a.r;
  const dg = b.g - a.g;
  const db = b.b - a.b;
  const len2 = dr * dr + dg * dg + db * db;
  const t = len2 < 1 ? 0.5 : Math.min(1, Math.max(0, ((p.r - a.r) * dr + (p.g - a.g) * dg + (p.b - a.b) * db) / len2));
  return { t, residual: Math.hypot(p.r - a.r - t * dr, p.g - a.g - t * dg, p.b - a.b - t * db) };
}

/**
 * Text heights (px) the crop is scaled to before OCR: one reading at each, voted per character (see
 * voteReadings); the first is the tie-breaker. Five looks, not three: Tesseract's fast models flip
 * single characters on masks a dozen grey levels apart in a handful of pixels, and a three-look vote
 * left such flips to chance for the plain and the styled rendering alike (docs/benchmarks.md, session 7).
 */
export const OCR_TEXT_HEIGHTS = [40, 36, 48, 44, 32];

/** The Tesseract judge's inputs for one block: its glyph mask at each text height, with the block's language and mode. */
export async function tesseractJobs(after: RawImage, before: RawImage, lb: LaidOutBlock, decision: LegibilityDecision, opts: { textHeights?: number[] } = {}): Promise<OcrJob[]> {
  const m = glyphMask(after, before, lb, decision);
  if (m.width <= 0 || m.height <= 0) return [];
  const png = await sharp(m.data, { raw: { width: m.width, height: m.height, channels: 1 } }).png().toBuffer();
  const lang = ocrLangFor(lb);
  const psm = lb.block.vertical ? 5 : lb.lines.length === 1 ? 7 : 6;
  return Promise.all((opts.textHeights ?? OCR_TEXT_HEIGHTS).map(async (targetHeight) => ({ png: await prepare(png, { lang, psm, scaleTo: { textHeight: lb.fontSize, targetHeight } }), lang, psm })));
}

/**
 * One reading out of several of the same block (e.g. at different scales), by a vote per character:
 * each reading is aligned to the first (edit-distance alignment) and, at each position, the character
 * (or the gap) most readings agree on wins; ties keep the first reading's. Tesseract's errors on a
 * legible block are single characters that move with the scale, so the vote keeps what is stable.
 */
export function voteReadings(readings: string[]): string {
  const [pivot = [], ...rest] = readings.map((r) => [...r]);
  if (rest.length === 0) return pivot.join('');
  // For each pivot position: what each reading put there; for each gap before a position: insertions.
  const at: string[][] = pivot.map((c) => [c]);
  const before: string[][] = Array.from({ length: pivot.length + 1 }, () => []);
  for (const other of rest) {
    const { sub, ins } = alignTo(pivot, other);
    sub.forEach((c, i) => at[i]!.push(c));
    ins.forEach((c, i) => before[i]!.push(c));
  }
  const n = readings.length;
  const winner = (votes: string[], fallback: string): string => {
    const count = new Map<string, number>();
    for (const v of votes) count.set(v, (count.get(v) ?? 0) + 1);
    let best = fallback;
    for (const [v, k] of count) if (k > (count.get(best) ?? 0)) best = v;
    return best;
  };
  let out = '';
  for (let i = 0; i <= pivot.length; i++) {
    // An insertion wins only when most readings have it.
    const ins = winner([...before[i]!, ...Array<string>(n - before[i]!.length).fill('')], '');
    out += ins;
    if (i < pivot.length) out += winner(at[i]!, pivot[i]!);
  }
  return out;
}

/** Aligns `b` to `a`: what b has at each position of a ('' for a deletion) and what it inserts before each. */
function alignTo(a: string[], b: string[]): { sub: string[]; ins: string[] } {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  const sub = Array<string>(a.length).fill('');
  const ins = Array<string>(a.length + 1).fill('');
  let i = a.length;
  let j = b.length;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && d[i]![j] === d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)) sub[--i] = b[--j]!;
    else if (i > 0 && d[i]![j] === d[i - 1]![j]! + 1) sub[--i] = '';
    else ins[i] = b[--j]! + ins[i];
  }
  return { sub, ins };
}

/** Tesseract's raw readings of a block (one per text height), normalised the way drawnText() is and voted. */
export function tesseractReading(lb: LaidOutBlock, raws: string[]): string {
  return voteReadings(
    raws.map((raw) => {
      const read = normaliseForCompare(raw);
      return lb.block.vertical || lb.block.lang === 'zh' ? read.replace(/ /g, '') : read;
    }),
  );
}

/** OCR of one block with Tesseract (see tesseractJobs). */
export async function readBackBlock(after: RawImage, before: RawImage, lb: LaidOutBlock, decision: LegibilityDecision, opts: { textHeights?: number[] } = {}): Promise<string> {
  const jobs = await tesseractJobs(after, before, lb, decision, opts);
  return jobs.length ? tesseractReading(lb, await ocrBatch(jobs, { parallel: 1 })) : '';
}

/**
 * The PaddleOCR judge for one block: each laid-out line is cut from the composited image with a margin
 * and read by PP-OCRv4, then the lines are joined like drawnText() joins them. A vertical column is cut
 * into its character cells (one em each, as laid out) and they are read side by side. Horizontal lines
 * are cut as PADDLE_MARGINS says, the readings voted per character when there are several.
 */
export async function readBackBlockPaddle(rec: PaddleRecognizer, image: RawImage, lb: LaidOutBlock): Promise<string> {
  const variants: string[][] = [];
  for (const crops of paddleCrops(image, lb)) {
    const lines: string[] = [];
    for (const crop of crops) lines.push((await rec.readLine(crop)).text);
    variants.push(lines);
  }
  return paddleReading(lb, variants);
}

/**
 * Margins (em: horizontal, vertical) of the line crops: enough for glow and 3D depth, inside a backing
 * plate (a plate's edge in the crop is read as "]" or "l"). More variants are possible (later ones are
 * clipped to the block's box, where a plate ends) and are voted; two more with room above and below
 * (0.15/0.1, 0.3/0.15) put back a dropped "!" but their case slips ("FreE") outvoted more than they fixed
 * (bench:text: 98.5 % → 97.9 % on readable), so one is used.
 */
const PADDLE_MARGINS: Array<[number, number]> = [[0.15, 0]];

/**
 * The standard crop and the two with room above and below: case and "!" move between them on strings at
 * the edge of what PP-OCRv4 reads, so a string read exactly in all three is one it reads reliably.
 */
export const PADDLE_RELIABILITY_MARGINS: Array<[number, number]> = [...PADDLE_MARGINS, [0.15, 0.1], [0.3, 0.15]];

/**
 * The line crops the PaddleOCR judge reads for one block, per margin variant (cut now, so a caller can
 * read them later without keeping the picture).
 */
export function paddleCrops(image: RawImage, lb: LaidOutBlock, margins: Array<[number, number]> = PADDLE_MARGINS): Array<Array<{ data: Buffer; width: number; height: number }>> {
  const size = lb.fontSize;
  if (lb.block.vertical) {
    const m = size * 0.15;
    return [lb.lines.map((line) => tileHorizontally(Array.from({ length: Math.round(line.height / size) }, (_, i) => cropRgb(image, { x: line.x - m, y: line.y + i * size, w: line.width + 2 * m, h: size }))))];
  }
  const box = lb.box;
  return margins.map(([mx, my], k) =>
    lb.lines.map((line) => {
      let x0 = line.x - mx * size;
      let x1 = line.x + line.width + mx * size;
      let y0 = line.y - my * size;
      let y1 = line.y + line.height + my * size;
      if (k > 0) {
        x0 = Math.max(x0, box.x);
        x1 = Math.min(x1, box.x + box.w);
        y0 = Math.max(y0, box.y);
        y1 = Math.min(y1, box.y + box.h);
      }
      return cropRgb(image, { x: x0, y: y0, w: x1 - x0, h: y1 - y0 });
    }),
  );
}

/** The lines PaddleOCR read (per crop variant), joined and normalised the way drawnText() is, then voted. */
export function paddleReading(lb: LaidOutBlock, variants: string[][]): string {
  return voteReadings(
    variants.map((lines) => {
      const read = normaliseForCompare(lines.join(lb.block.vertical || lb.block.lang === 'zh' ? '' : ' '));
      return lb.block.vertical || lb.block.lang === 'zh' ? read.replace(/ /g, '') : read;
    }),
  );
}

/**
 * Text that sits in the picture: where the prompt names no position, the block goes where the generated
 * picture is calmest; where it names no colour, the colour comes from the picture's own palette, adjusted
 * just enough to read at ≥ 4.5:1 against what lies behind the block. The prompt's own position or colour
 * always wins. Both are measured from the image, so they run at render time.
 */
import type { RawImage } from '../engine/types.js';
import { luminance, MIN_CONTRAST, worstContrast, type BackgroundStats, type Rgb } from './contrast.js';
import type { HPos, TextPlan, VPos } from './types.js';

/** Mean luminance gradient (0…1 per pixel step) over `box`, sampled on a grid: how busy the picture is there. */
export function busyness(image: RawImage, box: { x: number; y: number; w: number; h: number }): number {
  const { width, data } = image;
  const x0 = Math.max(1, Math.floor(box.x));
  const y0 = Math.max(1, Math.floor(box.y));
  const x1 = Math.min(width - 1, Math.ceil(box.x + box.w));
  const y1 = Math.min(image.height - 1, Math.ceil(box.y + box.h));
  if (x1 <= x0 || y1 <= y0) return 0;
  const step = Math.max(1, Math.floor(Math.sqrt(((x1 - x0) * (y1 - y0)) / 6000)));
  const lum = (x: number, y: number): number => {
    const i = (y * width + x) * 4;
    return (0.2126 * data[i]! + 0.7152 * data[i + 1]! + 0.0722 * data[i + 2]!) / 255;
  };
  let sum = 0;
  let n = 0;
  for (let y = y0; y < y1; y += step) {
    for (let x = x0; x < x1; x += step) {
      const c = lum(x, y);
      sum += Math.abs(c - lum(x - 1, y)) + Math.abs(c - lum(x, y - 1));
      n++;
    }
  }
  return n ? sum / n : 0;
}

const ROWS: VPos[] = ['top', 'middle', 'bottom'];
const COLS: HPos[] = ['left', 'center', 'right'];

/**
 * Moves the blocks whose position the prompt did not give into the calmest free cell of the 3×3 grid,
 * keeping them together (a title and its subtitle stay stacked). A centre-column cell is judged by its whole
 * row, because a lone block there gets the full width. Cells that hold placed blocks are not used.
 */
export function placeInCalm(plan: TextPlan, image: RawImage): TextPlan {
  const loose = plan.blocks.filter((b) => !b.positionExplicit);
  if (loose.length === 0) return plan;
  const taken = new Set(plan.blocks.filter((b) => b.positionExplicit).map((b) => `${b.position.v}/${b.position.h}`));
  const rowsTaken = new Set(plan.blocks.filter((b) => b.positionExplicit).map((b) => b.position.v));
  const cw = image.width / 3;
  const ch = image.height / 3;
  let best: { v: VPos; h: HPos; score: number } | undefined;
  for (const [ri, v] of ROWS.entries()) {
    for (const [ci, h] of COLS.entries()) {
      if (taken.has(`${v}/${h}`)) continue;
      const wholeRow = h === 'center' && !rowsTaken.has(v);
      const box = wholeRow ? { x: 0, y: ri * ch, w: image.width, h: ch } : { x: ci * cw, y: ri * ch, w: cw, h: ch };
      // Ties go to the conventional places: centred, then top, then bottom.
      const bias = (h === 'center' ? 0 : 0.004) + (v === 'top' ? 0 : v === 'bottom' ? 0.001 : 0.002);
      const score = busyness(image, box) + bias;
      if (!best || score < best.score) best = { v, h, score };
    }
  }
  if (!best) return plan;
  const { v, h } = best;
  return { ...plan, blocks: plan.blocks.map((b) => (b.positionExplicit ? b : { ...b, position: { v, h } })) };
}

function hsl({ r, g, b }: Rgb): { s: number; l: number } {
  const max = Math.max(r, g, b) / 255;
  const min = Math.min(r, g, b) / 255;
  const l = (max + min) / 2;
  const s = max === min ? 0 : l > 0.5 ? (max - min) / (2 - max - min) : (max - min) / (max + min);
  return { s, l };
}

/** The picture's main colours: a 4-bit-per-channel histogram of a pixel sample, the fullest bins averaged. */
export function palette(image: RawImage, max = 8): Rgb[] {
  const { data } = image;
  const bins = new Map<number, { n: number; r: number; g: number; b: number }>();
  const total = image.width * image.height;
  const step = Math.max(1, Math.floor(total / 40000));
  for (let p = 0; p < total; p += step) {
    const i = p * 4;
    const r = data[i]!;
    const g = data[i + 1]!;
    const b = data[i + 2]!;
    const key = ((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4);
    const bin = bins.get(key) ?? { n: 0, r: 0, g: 0, b: 0 };
    bin.n++;
    bin.r += r;
    bin.g += g;
    bin.b += b;
    bins.set(key, bin);
  }
  return [...bins.values()]
    .sort((a, b) => b.n - a.n)
    .slice(0, max)
    .map((x) => ({ r: x.r / x.n, g: x.g / x.n, b: x.b / x.n }));
}

/**
 * A colour from the picture's palette that reads on `bg`: each palette colour is lightened (on a dark
 * background) or darkened (on a light one) in small steps until its worst-case contrast is ≥ 4.5:1; the
 * one that needed the least change wins, the more saturated on a tie. Undefined when the background is
 * so mixed that no colour reaches 4.5:1 bare (the legibility treatment then takes over).
 */
export function paletteColor(colors: Rgb[], bg: BackgroundStats): Rgb | undefined {
  const towards = worstContrast(1, bg) >= worstContrast(0, bg) ? { r: 255, g: 255, b: 255 } : { r: 0, g: 0, b: 0 };
  let best: { c: Rgb; k: number; s: number } | undefined;
  for (const p of colors) {
    const { s } = hsl(p);
    // Near-grey palette entries are the picture's light or shadow, not a colour worth echoing.
    if (s < 0.2) continue;
    for (let k = 0; k <= 0.9; k += 0.05) {
      const c = { r: p.r + (towards.r - p.r) * k, g: p.g + (towards.g - p.g) * k, b: p.b + (towards.b - p.b) * k };
      if (worstContrast(luminance(c), bg) >= MIN_CONTRAST) {
        if (!best || k < best.k - 1e-9 || (Math.abs(k - best.k) < 1e-9 && s > best.s)) best = { c, k, s };
        break;
      }
    }
  }
  return best && { r: Math.round(best.c.r), g: Math.round(best.c.g), b: Math.round(best.c.b) };
}

/**
 * The colour of the scene's light: the mean of its brightest twentieth (highlights show what colour the
 * light is), sampled on a grid of at most ~4k pixels.
 */
export function sceneLight(image: RawImage): Rgb {
  const step = Math.max(1, Math.floor(Math.sqrt((image.width * image.height) / 4096)));
  const px: Array<[number, number, number, number]> = [];
  for (let y = 0; y < image.height; y += step) {
    for (let x = 0; x < image.width; x += step) {
      const i = (y * image.width + x) * 4;
      const r = image.data[i] ?? 0;
      const g = image.data[i + 1] ?? 0;
      const b = image.data[i + 2] ?? 0;
      px.push([0.2126 * r + 0.7152 * g + 0.0722 * b, r, g, b]);
    }
  }
  px.sort((a, b) => b[0] - a[0]);
  const top = px.slice(0, Math.max(1, Math.ceil(px.length / 20)));
  const mean = (k: 1 | 2 | 3): number => top.reduce((s, p) => s + p[k], 0) / top.length;
  return { r: mean(1), g: mean(2), b: mean(3) };
}

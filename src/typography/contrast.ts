/**
 * Legibility: WCAG 2 contrast between the text colour and what lies behind it. The background is judged
 * by its luminance distribution (darkest and lightest tenth), not only its mean, so text over a busy
 * image is checked against both its dark and its light parts. Below 4.5:1 the text gets an outline
 * (a calm background) or a semi-opaque backing plate (a busy one).
 */
import type { RawImage } from '../engine/types.js';
import type { Box } from './types.js';

export const MIN_CONTRAST = 4.5;

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

export function hexToRgb(hex: string): Rgb {
  const n = Number.parseInt(hex.replace('#', ''), 16);
  return { r: (n >> 16) & 255, g: (n >> 8) & 255, b: n & 255 };
}

export function rgbToHex({ r, g, b }: Rgb): string {
  return `#${[r, g, b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
}

const LIN = new Float64Array(256).map((_, i) => {
  const c = i / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

/** Linear light → gamma-encoded 0…1 and back (the sRGB transfer curve). */
function encode(l: number): number {
  return l <= 0.0031308 ? 12.92 * l : 1.055 * l ** (1 / 2.4) - 0.055;
}
function decode(c: number): number {
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** WCAG relative luminance, 0 (black) … 1 (white). */
export function luminance({ r, g, b }: Rgb): number {
  const at = (v: number): number => LIN[Math.max(0, Math.min(255, Math.round(v)))] ?? 0;
  return 0.2126 * at(r) + 0.7152 * at(g) + 0.0722 * at(b);
}

export function contrastRatio(l1: number, l2: number): number {
  const [hi, lo] = l1 > l2 ? [l1, l2] : [l2, l1];
  return (hi + 0.05) / (lo + 0.05);
}

export interface BackgroundStats {
  mean: number;
  /** 10th and 90th percentile of luminance. */
  p10: number;
  p90: number;
  /** Standard deviation of luminance: how busy the background is. */
  spread: number;
  /** Mean colour, for choosing plate tints. */
  meanRgb: Rgb;
}

/** Luminance statistics of `box` (clamped to the image), sampled on a grid of at most ~4k pixels. */
export function backgroundStats(image: RawImage, box: Box): BackgroundStats {
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const x1 = Math.min(image.width, Math.ceil(box.x + box.w));
  const y1 = Math.min(image.height, Math.ceil(box.y + box.h));
  const step = Math.max(1, Math.floor(Math.sqrt(((x1 - x0) * (y1 - y0)) / 4096)));
  const lums: number[] = [];
  let sr = 0;
  let sg = 0;
  let sb = 0;
  for (let y = y0; y < y1; y += step) {
    for (let x = x0; x < x1; x += step) {
      const i = (y * image.width + x) * 4;
      const c = { r: image.data[i] ?? 0, g: image.data[i + 1] ?? 0, b: image.data[i + 2] ?? 0 };
      sr += c.r;
      sg += c.g;
      sb += c.b;
      lums.push(luminance(c));
    }
  }
  if (lums.length === 0) return { mean: 0, p10: 0, p90: 0, spread: 0, meanRgb: { r: 0, g: 0, b: 0 } };
  lums.sort((a, b) => a - b);
  const n = lums.length;
  const mean = lums.reduce((s, v) => s + v, 0) / n;
  const spread = Math.sqrt(lums.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
  return {
    mean,
    p10: lums[Math.floor(n * 0.1)] ?? mean,
    p90: lums[Math.min(n - 1, Math.floor(n * 0.9))] ?? mean,
    spread,
    meanRgb: { r: sr / n, g: sg / n, b: sb / n },
  };
}

/** The contrast against the worse of the background's dark and light parts. */
export function worstContrast(textLum: number, bg: Pick<BackgroundStats, 'p10' | 'p90'>): number {
  return Math.min(contrastRatio(textLum, bg.p10), contrastRatio(textLum, bg.p90));
}

/** Black or white, whichever stands out more against `textLum`. Always ≥ 4.58:1. */
export function haloFor(textLum: number): Rgb {
  return contrastRatio(textLum, 0) >= contrastRatio(textLum, 1) ? { r: 0, g: 0, b: 0 } : { r: 255, g: 255, b: 255 };
}

export type Treatment =
  | { kind: 'none' }
  | { kind: 'outline'; color: Rgb }
  | { kind: 'plate'; color: Rgb; alpha: number };

export interface LegibilityDecision {
  textColor: Rgb;
  /** Worst-case contrast of the bare text against the background. */
  bareContrast: number;
  treatment: Treatment;
  /** Worst-case contrast after the treatment (text against its outline, or against the plated background). */
  effectiveContrast: number;
  /** The soft contact shadow drawn under the glyphs to seat them in the scene, if any (render.ts). */
  contactShadow?: { color: Rgb; alpha: number };
}

/** An "auto" colour becomes white or black, whichever reads better on this background. */
export function autoColor(bg: BackgroundStats): Rgb {
  const white = worstContrast(1, bg);
  const black = worstContrast(0, bg);
  return white >= black ? { r: 255, g: 255, b: 255 } : { r: 17, g: 17, b: 17 };
}

/**
 * Keeps the requested colour and decides what to add so it reads at ≥ 4.5:1. A plate's alpha is the
 * lowest (in steps of 0.05) that lifts the worst case over the threshold, so the image shows through.
 * `faceColors` are the other colours the face takes (a gradient's or a metal's stops): every one of them
 * must read, not only the nominal colour — a metal's dark band judged as if it were the highlight left
 * the picture's specks showing through the plate beside it (one read as a full stop after `ONLY TODAY`).
 * The outline or plate colour is still chosen for the nominal colour, and a face colour that cannot
 * reach 4.5:1 even against it (a black metal's grey highlight on a white plate) is left to the design:
 * counting it would turn every such plate opaque.
 */
export function decideLegibility(textColor: Rgb, bg: BackgroundStats, opts: { fontSize: number; busy?: number; faceColors?: Rgb[] } = { fontSize: 32 }): LegibilityDecision {
  const tl = luminance(textColor);
  const halo = haloFor(tl);
  const haloLum = luminance(halo);
  const lums = [tl, ...(opts.faceColors ?? []).map(luminance).filter((l) => contrastRatio(l, haloLum) >= MIN_CONTRAST)];
  const worst = (b: Pick<BackgroundStats, 'p10' | 'p90'>): number => Math.min(...lums.map((l) => worstContrast(l, b)));
  const bare = worst(bg);
  if (bare >= MIN_CONTRAST) return { textColor, bareContrast: bare, treatment: { kind: 'none' }, effectiveContrast: bare };
  const againstHalo = Math.min(...lums.map((l) => contrastRatio(l, haloLum)));
  const busy = bg.spread > (opts.busy ?? 0.08) || opts.fontSize < 22;
  if (!busy) {
    return { textColor, bareContrast: bare, treatment: { kind: 'outline', color: halo }, effectiveContrast: againstHalo };
  }
  for (let alpha = 0.5; alpha <= 1.0001; alpha += 0.05) {
    // The canvas blends gamma-encoded values, so blend there (exact for greys).
    const mix = (l: number): number => decode(alpha * encode(haloLum) + (1 - alpha) * encode(l));
    const eff = worst({ p10: mix(bg.p10), p90: mix(bg.p90) });
    if (eff >= MIN_CONTRAST) {
      return { textColor, bareContrast: bare, treatment: { kind: 'plate', color: halo, alpha: Math.min(1, Math.round(alpha * 100) / 100) }, effectiveContrast: eff };
    }
  }
  return { textColor, bareContrast: bare, treatment: { kind: 'plate', color: halo, alpha: 1 }, effectiveContrast: againstHalo };
}

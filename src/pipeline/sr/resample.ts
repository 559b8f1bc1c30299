/**
 * Integer-factor upscaling with pixel centres aligned the way SR models and the downscalers that make
 * their training data align them (output x samples input (x + 0.5)/s − 0.5). sharp/libvips' enlargement
 * kernels were measured shifted against this convention (lower PSNR than pixel repetition on the
 * reference picture), so the fallback and the comparison baselines are computed here.
 */
import type { RawImage } from '../../engine/types.js';

export type UpscaleKernel = 'nearest' | 'bilinear' | 'lanczos3';

const SUPPORT: Record<UpscaleKernel, number> = { nearest: 0.5, bilinear: 1, lanczos3: 3 };

function sinc(x: number): number {
  if (x === 0) return 1;
  const p = Math.PI * x;
  return Math.sin(p) / p;
}

function weight(kernel: UpscaleKernel, t: number): number {
  const a = Math.abs(t);
  if (kernel === 'nearest') return a < 0.5 || t === -0.5 ? 1 : 0;
  if (kernel === 'bilinear') return Math.max(0, 1 - a);
  return a < 3 ? sinc(t) * sinc(t / 3) : 0;
}

/** Per output phase: the source offsets and normalized weights. */
function taps(kernel: UpscaleKernel, scale: number): Array<{ first: number; w: Float32Array }> {
  const r = Math.ceil(SUPPORT[kernel]);
  const out: Array<{ first: number; w: Float32Array }> = [];
  for (let phase = 0; phase < scale; phase++) {
    const centre = (phase + 0.5) / scale - 0.5; // position relative to source pixel 0
    const first = Math.floor(centre) - r + 1;
    const w = new Float32Array(2 * r);
    let sum = 0;
    for (let k = 0; k < w.length; k++) {
      w[k] = weight(kernel, first + k - centre);
      sum += w[k]!;
    }
    for (let k = 0; k < w.length; k++) w[k]! /= sum;
    out.push({ first, w });
  }
  return out;
}

/** Separable ×scale enlargement of all four channels, edges clamped. */
export function upscaleSeparable(img: RawImage, scale: number, kernel: UpscaleKernel): RawImage {
  const { width: w, height: h } = img;
  const W = w * scale;
  const H = h * scale;
  const phases = taps(kernel, scale);
  // Horizontal pass into floats (w → W), then vertical (h → H).
  const mid = new Float32Array(W * h * 4);
  for (let y = 0; y < h; y++) {
    const row = y * w * 4;
    for (let X = 0; X < W; X++) {
      const { first, w: k } = phases[X % scale]!;
      const base = Math.floor(X / scale) + first;
      let r = 0, g = 0, b = 0, a = 0;
      for (let t = 0; t < k.length; t++) {
        const sx = Math.min(w - 1, Math.max(0, base + t)) * 4 + row;
        const wt = k[t]!;
        r += img.data[sx]! * wt;
        g += img.data[sx + 1]! * wt;
        b += img.data[sx + 2]! * wt;
        a += img.data[sx + 3]! * wt;
      }
      const o = (y * W + X) * 4;
      mid[o] = r; mid[o + 1] = g; mid[o + 2] = b; mid[o + 3] = a;
    }
  }
  const out = new Uint8ClampedArray(W * H * 4);
  for (let Y = 0; Y < H; Y++) {
    const { first, w: k } = phases[Y % scale]!;
    const base = Math.floor(Y / scale) + first;
    for (let X = 0; X < W; X++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let t = 0; t < k.length; t++) {
        const sy = Math.min(h - 1, Math.max(0, base + t));
        const s = (sy * W + X) * 4;
        const wt = k[t]!;
        r += mid[s]! * wt;
        g += mid[s + 1]! * wt;
        b += mid[s + 2]! * wt;
        a += mid[s + 3]! * wt;
      }
      const o = (Y * W + X) * 4;
      out[o] = r; out[o + 1] = g; out[o + 2] = b; out[o + 3] = a;
    }
  }
  return { width: W, height: H, data: out };
}

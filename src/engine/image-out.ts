/** VAE output → RGBA bytes at exactly the requested size. */
import sharp from 'sharp';
import type { RawImage } from './types.js';

/** Planar [3, h, w] floats in [-1, 1] (the first image of a batch) → interleaved RGBA, alpha 255. */
export function planarToRgba(src: Float32Array, width: number, height: number): Uint8ClampedArray {
  const plane = width * height;
  const r = src.subarray(0, plane);
  const g = src.subarray(plane, 2 * plane);
  const b = src.subarray(2 * plane, 3 * plane);
  const out = new Uint8ClampedArray(plane * 4);
  // diffusers: (x / 2 + 0.5).clamp(0, 1) * 255, rounded half-to-even. A Uint8ClampedArray store clamps to
  // 0…255 and rounds half-to-even itself, so x * 127.5 + 127.5 is the whole mapping.
  for (let i = 0, j = 0; i < plane; i++, j += 4) {
    out[j] = r[i]! * 127.5 + 127.5;
    out[j + 1] = g[i]! * 127.5 + 127.5;
    out[j + 2] = b[i]! * 127.5 + 127.5;
    out[j + 3] = 255;
  }
  return out;
}

/** Resizes (Lanczos, aspect not kept) unless the image already has that size. */
export async function resizeRgba(img: RawImage, width: number, height: number): Promise<RawImage> {
  if (img.width === width && img.height === height) return img;
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8ClampedArray(buf.buffer, buf.byteOffset, buf.length) };
}

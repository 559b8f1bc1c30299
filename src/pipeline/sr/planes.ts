/** Moving pixels between RGBA bytes and the NCHW float (0…1) tensors SR graphs take. */
import type { RawImage } from '../../engine/types.js';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Copies `rect` of the image's RGB into a [3, th, tw] float plane set (th ≥ rect.h, tw ≥ rect.w);
 * cells beyond the rect repeat the rect's last row/column so fixed-size graphs see no hard black edge.
 */
export function rgbPlanes(img: RawImage, rect: Rect, tw: number, th: number): Float32Array {
  const out = new Float32Array(3 * tw * th);
  const plane = tw * th;
  for (let y = 0; y < th; y++) {
    const sy = rect.y + Math.min(y, rect.h - 1);
    for (let x = 0; x < tw; x++) {
      const sx = rect.x + Math.min(x, rect.w - 1);
      const si = (sy * img.width + sx) * 4;
      const di = y * tw + x;
      out[di] = img.data[si]! / 255;
      out[plane + di] = img.data[si + 1]! / 255;
      out[2 * plane + di] = img.data[si + 2]! / 255;
    }
  }
  return out;
}

/**
 * Writes a [3, ph, pw] float result into `dst` (RGBA), taking the source window starting at (sx, sy)
 * of size (w, h) and placing it at (dx, dy). Alpha is left as the caller set it.
 */
export function blitPlanes(
  src: Float32Array,
  pw: number,
  ph: number,
  sx: number,
  sy: number,
  w: number,
  h: number,
  dst: RawImage,
  dx: number,
  dy: number,
): void {
  const plane = pw * ph;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const si = (sy + y) * pw + sx + x;
      const di = ((dy + y) * dst.width + dx + x) * 4;
      // Uint8ClampedArray clamps and rounds: out-of-range model output saturates instead of wrapping.
      dst.data[di] = src[si]! * 255;
      dst.data[di + 1] = src[plane + si]! * 255;
      dst.data[di + 2] = src[2 * plane + si]! * 255;
    }
  }
}

/** Alpha upscaled by pixel repetition: SR models only see RGB. */
export function nearestAlpha(src: RawImage, dst: RawImage, scale: number): void {
  for (let y = 0; y < dst.height; y++) {
    const sy = Math.min(src.height - 1, Math.floor(y / scale));
    for (let x = 0; x < dst.width; x++) {
      const sx = Math.min(src.width - 1, Math.floor(x / scale));
      dst.data[(y * dst.width + x) * 4 + 3] = src.data[(sy * src.width + sx) * 4 + 3]!;
    }
  }
}

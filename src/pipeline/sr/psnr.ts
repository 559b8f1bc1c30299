/** Peak signal-to-noise ratio over RGB (alpha ignored), in dB: how SR methods are compared. */
import type { RawImage } from '../../engine/types.js';

export function psnr(a: RawImage, b: RawImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new RangeError('psnr: images differ in size');
  let se = 0;
  const n = a.width * a.height;
  for (let p = 0; p < n * 4; p += 4) {
    for (let c = 0; c < 3; c++) {
      const d = a.data[p + c]! - b.data[p + c]!;
      se += d * d;
    }
  }
  const mse = se / (n * 3);
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

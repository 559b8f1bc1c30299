/**
 * Resizing helpers. The ×2 fallback is a centre-aligned Lanczos-3 (resample.ts), not libvips'
 * enlargement, which measured misaligned; sharp stays the tool for downscaling and arbitrary sizes.
 */
import sharp from 'sharp';
import type { RawImage } from '../../engine/types.js';
import { upscaleSeparable } from './resample.js';

export type ResizeKernel = 'nearest' | 'linear' | 'cubic' | 'lanczos3';

export async function resizeRaw(img: RawImage, width: number, height: number, kernel: ResizeKernel): Promise<RawImage> {
  const buf = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 4 },
  })
    .resize(width, height, { kernel, fit: 'fill' })
    .ensureAlpha()
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8ClampedArray(buf.buffer, buf.byteOffset, buf.byteLength) };
}

export async function lanczosUpscale(img: RawImage, scale: number): Promise<RawImage> {
  return upscaleSeparable(img, scale, 'lanczos3');
}

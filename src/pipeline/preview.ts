/**
 * Step previews for progress streams: the engine's x̂₀ preview (TAESD when installed, else the linear
 * latent→RGB map) as a small JPEG, at most one per PREVIEW_EVERY_MS per job so a fast sampler does not spend
 * its time encoding pictures nobody can look at that quickly.
 */
import sharp from 'sharp';
import { latentPreview } from '../engine/preview.js';
import type { RawImage, StepInfo } from '../engine/types.js';

export const PREVIEW_EVERY_MS = 500;
/** Longest side of a preview; TAESD previews are full size and are scaled down to this. */
export const PREVIEW_MAX_SIDE = 256;

export interface EncodedPreview {
  mime: 'image/jpeg';
  /** base64 */
  data: string;
  width: number;
  height: number;
}

/** RGBA → a JPEG no larger than PREVIEW_MAX_SIDE a side (small enough for a queue message). */
export async function encodePreview(img: RawImage): Promise<EncodedPreview> {
  const scale = Math.min(1, PREVIEW_MAX_SIDE / Math.max(img.width, img.height));
  const width = Math.max(1, Math.round(img.width * scale));
  const height = Math.max(1, Math.round(img.height * scale));
  let pipe = sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: 4 } });
  if (scale < 1) pipe = pipe.resize(width, height);
  const jpeg = await pipe.removeAlpha().jpeg({ quality: 70 }).toBuffer();
  return { mime: 'image/jpeg', data: jpeg.toString('base64'), width, height };
}

/** The step's preview picture: the engine's decoded one when it attached it, else the linear map of x̂₀. */
export function stepPicture(info: StepInfo): RawImage {
  return info.preview ?? latentPreview(info.latents);
}

/** Decides, per job, which steps get a preview: the first, then one per interval. */
export function previewThrottle(everyMs = PREVIEW_EVERY_MS, now: () => number = () => performance.now()): () => boolean {
  let last = -Infinity;
  return () => {
    const t = now();
    if (t - last < everyMs) return false;
    last = t;
    return true;
  };
}

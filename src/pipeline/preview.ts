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

/** The most of a job's time its preview decodes may take (a slow TAESD decode is spaced out further). */
export const PREVIEW_MAX_SHARE = 0.2;

export interface PreviewCadence {
  /** Asked at a step before its preview is decoded: is one wanted now? */
  due(): boolean;
  /** The preview asked for is decoded: the interval to the next one counts from here. */
  delivered(): void;
}

/**
 * Decides, per job, which steps get a preview: the first, then one when PREVIEW_EVERY_MS have passed since
 * the last one was ready — and, when decoding costs more than that allows, when enough sampling time has
 * passed that decodes take at most `maxShare` of the job (a 2 s decode waits 8 s at 20 %).
 */
export function previewCadence(everyMs = PREVIEW_EVERY_MS, maxShare = PREVIEW_MAX_SHARE, now: () => number = () => performance.now()): PreviewCadence {
  let readyAt = -Infinity;
  let askedAt: number | null = null;
  let cost = 0;
  return {
    due() {
      const t = now();
      if (t - readyAt < Math.max(everyMs, (cost * (1 - maxShare)) / maxShare)) return false;
      askedAt = t;
      return true;
    },
    delivered() {
      if (askedAt === null) return;
      readyAt = now();
      cost = readyAt - askedAt;
      askedAt = null;
    },
  };
}

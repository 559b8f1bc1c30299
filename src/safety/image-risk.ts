/**
 * Image risk: classifies images with the NSFW classifier bundled in the `nsfwjs` package (MobileNetV2,
 * TensorFlow.js WebAssembly backend, fully offline). The unsafe score is P(Porn) + P(Hentai); above the
 * threshold an output image fails with 50511 and an input image (image actions) with 50411.
 */
import { CvError } from '../contract/errors.js';
import type { RawImage } from '../engine/types.js';
import type { TfBackend } from './nsfw-model.js';

export const DEFAULT_IMAGE_RISK_THRESHOLD = 0.8;

export interface ImageRiskScores {
  /** Probability per classifier class: Drawing, Hentai, Neutral, Porn, Sexy. */
  scores: Record<string, number>;
  /** Sum of the unsafe classes (Porn + Hentai), 0…1. */
  unsafeScore: number;
  /** Classification time in milliseconds. */
  ms: number;
}

export interface ImageRiskChecker {
  readonly threshold: number;
  classify(image: RawImage): Promise<ImageRiskScores>;
  /** Output images: throws CvError 50511 when the unsafe score is above the threshold. */
  assertImageSafe(image: RawImage): Promise<ImageRiskScores>;
  /** Input images (image-to-image actions): throws CvError 50411 above the threshold. */
  assertInputImageSafe(image: RawImage): Promise<ImageRiskScores>;
}

export interface ImageRiskOptions {
  /** Unsafe-score threshold in [0, 1]; default 0.8. */
  threshold?: number;
  /** tfjs backend; default wasm (~15× faster than the pure-JS cpu backend). */
  backend?: TfBackend;
}

export class ImageRiskConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageRiskConfigError';
  }
}

export function resolveThreshold(explicit: number | undefined): number {
  const raw = explicit ?? DEFAULT_IMAGE_RISK_THRESHOLD;
  if (!Number.isFinite(raw) || raw < 0 || raw > 1) {
    throw new ImageRiskConfigError(`image risk threshold must be a number in [0, 1], got ${String(explicit)}`);
  }
  return raw;
}

export async function createImageRiskChecker(opts: ImageRiskOptions = {}): Promise<ImageRiskChecker> {
  const threshold = resolveThreshold(opts.threshold);
  // Loaded on demand: a process whose classifier runs on the worker-thread pool never loads tfjs itself.
  const { loadNsfwClassifier } = await import('./nsfw-model.js');
  return imageRiskCheckerFrom(threshold, await loadNsfwClassifier(opts.backend ?? 'wasm'));
}

/**
 * A checker around any classifier (in-process, or on the worker-thread pool): the threshold rule and the
 * 50511 / 50411 refusals with their log detail live here once.
 */
export function imageRiskCheckerFrom(threshold: number, classify: (image: RawImage) => Promise<ImageRiskScores>): ImageRiskChecker {
  async function assertWith(code: 50511 | 50411, image: RawImage): Promise<ImageRiskScores> {
    const r = await classify(image);
    if (r.unsafeScore > threshold) {
      const detail = Object.entries(r.scores)
        .map(([k, v]) => `${k.toLowerCase()}=${v.toFixed(3)}`)
        .join(' ');
      throw new CvError(code, undefined, {
        logDetail: `image risk (${code === 50511 ? 'output' : 'input'}): unsafe=${r.unsafeScore.toFixed(3)} > threshold=${threshold} (${detail})`,
      });
    }
    return r;
  }

  return {
    threshold,
    classify,
    assertImageSafe: (image) => assertWith(50511, image),
    assertInputImageSafe: (image) => assertWith(50411, image),
  };
}

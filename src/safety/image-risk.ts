/**
 * Image risk: classifies images with the NSFW classifier bundled in the `nsfwjs` package (MobileNetV2,
 * TensorFlow.js WebAssembly backend, fully offline). The unsafe score is P(Porn) + P(Hentai); above the
 * threshold an output image fails with 50511 and an input image (image actions) with 50411.
 */
import * as tf from '@tensorflow/tfjs';
import { CvError } from '../contract/errors.js';
import type { RawImage } from '../engine/types.js';
import { CLASS_NAMES, loadNsfwModel, MODEL_INPUT_SIZE, UNSAFE_CLASSES, type TfBackend } from './nsfw-model.js';

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

let modelPromise: Promise<tf.LayersModel> | undefined;

/** RGBA bytes → [1, 224, 224, 3] floats in [0, 1] (bilinear, as nsfwjs feeds the classifier). */
function toInput(image: RawImage): tf.Tensor4D {
  const { width, height, data } = image;
  const rgb = new Float32Array(width * height * 3);
  for (let i = 0, j = 0; i < data.length; i += 4, j += 3) {
    rgb[j] = data[i]! / 255;
    rgb[j + 1] = data[i + 1]! / 255;
    rgb[j + 2] = data[i + 2]! / 255;
  }
  return tf.tidy(() => {
    const t = tf.tensor4d(rgb, [1, height, width, 3]);
    return width === MODEL_INPUT_SIZE && height === MODEL_INPUT_SIZE
      ? t
      : tf.image.resizeBilinear(t, [MODEL_INPUT_SIZE, MODEL_INPUT_SIZE], true);
  });
}

export async function createImageRiskChecker(opts: ImageRiskOptions = {}): Promise<ImageRiskChecker> {
  const threshold = resolveThreshold(opts.threshold);
  // One model per process: tfjs state is global and the weights are read-only.
  modelPromise ??= loadNsfwModel(opts.backend ?? 'wasm');
  let model: tf.LayersModel;
  try {
    model = await modelPromise;
  } catch (err) {
    modelPromise = undefined;
    throw err;
  }

  async function classify(image: RawImage): Promise<ImageRiskScores> {
    if (image.data.length !== image.width * image.height * 4) {
      throw new CvError(50500, undefined, { logDetail: `image risk: RGBA buffer size mismatch ${image.width}x${image.height}` });
    }
    const t0 = performance.now();
    const out = tf.tidy(() => model.predict(toInput(image)) as tf.Tensor2D);
    const probs = await out.data();
    out.dispose();
    const scores: Record<string, number> = {};
    CLASS_NAMES.forEach((c, i) => (scores[c] = probs[i]!));
    const unsafeScore = UNSAFE_CLASSES.reduce((s, c) => s + scores[c]!, 0);
    return { scores, unsafeScore, ms: performance.now() - t0 };
  }

  return imageRiskCheckerFrom(threshold, classify);
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

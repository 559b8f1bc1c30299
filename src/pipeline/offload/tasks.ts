/**
 * The CPU-heavy work that runs on worker threads instead of the event loop, as plain messages.
 * Pixel buffers travel by transfer (no copy): the sender's buffer is detached until the answer brings it back.
 */
import type { GeneratedImage, RawImage } from '../../engine/types.js';
import type { ImageRiskScores } from '../../safety/image-risk.js';
import type { AiLabelMeta } from '../encode/ai-label.js';
import type { EncodeOptions } from '../encode/encode-png.js';
import type { SuperResolverOptions } from '../sr/index.js';
import type { TextPlan } from '../../typography/types.js';

/**
 * For the drawing threads: typography, and the PNG encode with its AI label (sharp runs on libuv's pool
 * anyway, but the opacity scan and the label's copy of the whole file into fresh memory held the loop ~15–35 ms).
 */
export type DrawTask = { kind: 'typography'; image: RawImage; plan: TextPlan } | { kind: 'encode'; image: RawImage; meta: AiLabelMeta | null; options: EncodeOptions };

/** For the classifier thread: `load` is sent once at start, so every `classify` queues behind the load. */
export type ClassifierTask = { kind: 'load' } | { kind: 'classify'; image: RawImage };

/**
 * For the super-resolution thread: `load` builds the resolver there (once), `upscale` runs it (building it
 * first on a thread piscina started again after a crash), `close` releases it.
 */
export type SrTask = { kind: 'load'; options: SuperResolverOptions } | { kind: 'upscale'; image: RawImage; options: SuperResolverOptions } | { kind: 'close' };

export interface OffloadResult {
  /** The (new or returned) image; absent for `load`. */
  image?: RawImage;
  scores?: ImageRiskScores;
  /** The engine thread's answer to `generate`, but for the image. */
  generated?: Omit<GeneratedImage, 'image'>;
  /** The encoded file, answered to `encode` (a Uint8Array once it has crossed). */
  png?: Uint8Array;
  /** The SR thread's resolver, answered to `load`. */
  sr?: { method: string; status: string };
  /** Time spent in the worker, ms. */
  ms: number;
}

/** The buffers to transfer for an image: its own ArrayBuffer when the view spans all of it, else none (copied). */
export function transferablesOf(image: RawImage | undefined): ArrayBuffer[] {
  return image ? transferableOf(image.data) : [];
}

/** A view's ArrayBuffer when the view spans all of it, else none (copied). */
export function transferableOf(data: ArrayBufferView | undefined): ArrayBuffer[] {
  if (!data) return [];
  const buf = data.buffer;
  const whole = buf instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === buf.byteLength;
  return whole ? [buf] : [];
}

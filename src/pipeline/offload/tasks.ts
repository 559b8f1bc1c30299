/**
 * The CPU-heavy work that runs on the worker-thread pool instead of the event loop, as plain messages.
 * Pixel buffers travel by transfer (no copy): the sender's buffer is detached until the answer brings it back.
 */
import type { RawImage } from '../../engine/types.js';
import type { ImageRiskScores } from '../../safety/image-risk.js';
import type { FaceId, TextPlan } from '../../typography/types.js';

export type OffloadTask =
  | { kind: 'typography'; image: RawImage; plan: TextPlan }
  | { kind: 'classify'; image: RawImage }
  /** Opens fonts and the classifier before the first request needs them. */
  | { kind: 'warm'; faces: FaceId[]; text: string; classifier: boolean };

export interface OffloadResult {
  /** The (new or returned) image; absent for `warm`. */
  image?: RawImage;
  scores?: ImageRiskScores;
  /** Time spent in the worker, ms. */
  ms: number;
}

/** The buffers to transfer for an image: its own ArrayBuffer when the view spans all of it, else none (copied). */
export function transferablesOf(image: RawImage | undefined): ArrayBuffer[] {
  if (!image) return [];
  const { data } = image;
  const buf = data.buffer;
  const whole = buf instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === buf.byteLength;
  return whole ? [buf] : [];
}

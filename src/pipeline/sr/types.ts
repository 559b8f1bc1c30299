/** The super-resolution surface the pipeline uses (contract §4: use_sr delivers 2× width and height). */
import type { RawImage } from '../../engine/types.js';

/** Echoed as infer_ctx.params.sr_strength (contract §5); the cloud's value, not a knob of ours. */
export const SR_STRENGTH = 0.4;

export type SrMode = 'auto' | 'model' | 'lanczos';

export interface SuperResolver {
  /** Which method runs: 'onnx:<name>', 'esrgan-slim' or 'lanczos'. */
  readonly method: string;
  /** One line for the start-up log saying what runs and, when falling back, why. */
  readonly status: string;
  upscale(image: RawImage, scale: 2): Promise<RawImage>;
  close(): Promise<void>;
}

/** No SR model could be loaded although mode 'model' asked for one, or a model misbehaved. */
export class SuperResolutionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SuperResolutionError';
  }
}

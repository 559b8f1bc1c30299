/** Runs the diffusion engine at the requested render size and records what it actually used. */
import { REQ_KEY_V21 } from '../../contract/cvprocess.js';
import { CvError } from '../../contract/errors.js';
import type { Engine, StepInfo } from '../../engine/types.js';
import type { Job, Stage } from '../types.js';

/** jimeng_i2i_v30's default `scale` (the engine's strength). */
const DEFAULT_I2I_SCALE = 0.5;

export interface GenerateStageOptions {
  /** Ask the engine for decoded step previews (TAESD when installed, else the linear map), when ctx.wantPreview says so. */
  previews?: boolean;
  onTimings?: (t: { textEncoderMs: number; unetMs: number; vaeMs: number; totalMs: number }) => void;
}

/** Models trained at this side or larger (SDXL-class) draw a use_sr picture at its delivered size themselves. */
export const NATIVE_DIRECT_MIN = 1024;
/** …up to this multiple of their native area (SDXL: 1024² → 1536×1024); larger pictures go through SR. */
export const NATIVE_AREA_FACTOR = 1.5;

/**
 * The size the engine renders: the request's, or — for use_sr on an SDXL-class model — the delivered (×2) size
 * directly when the model draws that size natively, instead of half of it upscaled ×2. Deliveries larger than
 * that are drawn at the model's native area in the delivery's shape (SDXL at 1536²: 1024², not 768²), then SR
 * doubles it and the result is resized to the delivery.
 */
export function renderSize(job: Pick<Job, 'request' | 'outputWidth' | 'outputHeight'>, engine: Pick<Engine, 'nativeSize'>): { width: number; height: number; native: boolean } {
  const native = engine.nativeSize ?? 0;
  const { outputWidth: w, outputHeight: h } = job;
  const asked = { width: job.request.width, height: job.request.height, native: false };
  if (!job.request.use_sr) {
    // The 3.x req_keys deliver the size asked (up to 2048²) without use_sr. Far above its native area a model
    // repeats subjects and its attention outgrows memory (SD 2.x at 1328²: ~27 k tokens a layer), so it draws
    // at its native area in the delivery's shape and the super-resolution stage brings it up to the delivery.
    if (job.request.req_key === REQ_KEY_V21 || native === 0 || w * h <= NATIVE_AREA_FACTOR * native * native) return asked;
    return atNativeArea(w, h, native);
  }
  if (native < NATIVE_DIRECT_MIN) return asked;
  if (w * h <= NATIVE_AREA_FACTOR * native * native) return { width: w, height: h, native: true };
  const at = atNativeArea(w, h, native);
  return at.width * at.height > asked.width * asked.height ? at : asked;
}

/** The model's native area in the delivery's shape (multiples of 8), drawn there and brought up by SR. */
function atNativeArea(w: number, h: number, native: number): { width: number; height: number; native: false } {
  const k = native / Math.sqrt(w * h);
  return { width: Math.max(8, Math.round((w * k) / 8) * 8), height: Math.max(8, Math.round((h * k) / 8) * 8), native: false };
}

export function generateStage(opts: GenerateStageOptions = {}): Stage {
  return {
    name: 'generate',
    async run(job, ctx) {
      const engine = ctx.engine;
      if (!engine) throw new CvError(50501, undefined, { logDetail: 'generate stage ran without an engine' });
      const progress = ctx.progress;
      const size = renderSize(job, engine);
      const out = await engine.generate({
        prompt: job.modelPrompt,
        ...(job.negativePrompt ? { negativePrompt: job.negativePrompt } : {}),
        width: size.width,
        height: size.height,
        seed: job.seed,
        ...(job.scheduler ? { scheduler: job.scheduler } : {}),
        ...(job.request.steps != null ? { steps: job.request.steps } : {}),
        ...(job.request.guidance_scale != null ? { guidanceScale: job.request.guidance_scale } : {}),
        ...(progress
          ? {
              onStep: (info: StepInfo) =>
                progress({ stage: 'generate', step: info.step, totalSteps: info.totalSteps, ...(info.preview ? { preview: info.preview } : {}) }),
              ...(opts.previews ? { previews: ctx.wantPreview ? () => ctx.wantPreview!() : true } : {}),
            }
          : {}),
        ...(job.initImage ? { init: { image: job.initImage, strength: job.request.scale ?? DEFAULT_I2I_SCALE } } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      job.model = engine.modelName;
      job.image = out.image;
      job.initImage = null;
      job.steps = out.steps;
      job.guidanceScale = out.guidanceScale;
      job.negativePrompt = out.negativePrompt;
      job.scheduler = out.scheduler;
      // Already at the delivered size: the super-resolution stage has nothing to do (echoed as sr_upscaler).
      if (size.native) job.srMethod = 'native';
      opts.onTimings?.(out.timings);
      return job;
    },
  };
}

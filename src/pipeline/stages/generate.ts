/** Runs the diffusion engine at the requested render size and records what it actually used. */
import { CvError } from '../../contract/errors.js';
import type { StepInfo } from '../../engine/types.js';
import type { Stage } from '../types.js';

export interface GenerateStageOptions {
  /** Ask the engine for decoded step previews (TAESD when installed, else the linear map), when ctx.wantPreview says so. */
  previews?: boolean;
  onTimings?: (t: { textEncoderMs: number; unetMs: number; vaeMs: number; totalMs: number }) => void;
}

export function generateStage(opts: GenerateStageOptions = {}): Stage {
  return {
    name: 'generate',
    async run(job, ctx) {
      const engine = ctx.engine;
      if (!engine) throw new CvError(50501, undefined, { logDetail: 'generate stage ran without an engine' });
      const progress = ctx.progress;
      const out = await engine.generate({
        prompt: job.modelPrompt,
        ...(job.negativePrompt ? { negativePrompt: job.negativePrompt } : {}),
        width: job.request.width,
        height: job.request.height,
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
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      job.model = engine.modelName;
      job.image = out.image;
      job.steps = out.steps;
      job.guidanceScale = out.guidanceScale;
      job.negativePrompt = out.negativePrompt;
      job.scheduler = out.scheduler;
      opts.onTimings?.(out.timings);
      return job;
    },
  };
}

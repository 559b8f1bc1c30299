/** Runs the diffusion engine at the requested render size and records what it actually used. */
import type { Stage } from '../types.js';
import type { StepInfo } from '../../engine/types.js';

export interface GenerateStageOptions {
  onStep?: (requestId: string, info: StepInfo) => void;
  /** Ask the engine for a decoded preview on each step's info (TAESD when installed, else the linear map). */
  previews?: boolean;
  onTimings?: (t: { textEncoderMs: number; unetMs: number; vaeMs: number; totalMs: number }) => void;
}

export function generateStage(opts: GenerateStageOptions = {}): Stage {
  return {
    name: 'generate',
    async run(job, ctx) {
      const out = await ctx.engine.generate({
        prompt: job.modelPrompt,
        ...(job.negativePrompt ? { negativePrompt: job.negativePrompt } : {}),
        width: job.request.width,
        height: job.request.height,
        seed: job.seed,
        ...(job.scheduler ? { scheduler: job.scheduler } : {}),
        ...(job.request.steps != null ? { steps: job.request.steps } : {}),
        ...(job.request.guidance_scale != null ? { guidanceScale: job.request.guidance_scale } : {}),
        ...(opts.onStep ? { onStep: (info: StepInfo) => opts.onStep!(job.requestId, info), ...(opts.previews ? { previews: true } : {}) } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
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

/**
 * Typography stages. Before the engine: the quoted text is planned from the caller's prompt and removed from
 * what the model sees (it would paint garbled letters); after super-resolution: the text is drawn as a type
 * layer at the delivered size.
 */
import { applyTypography, parseTextPlan } from '../../typography/index.js';
import type { CpuPool } from '../offload/pool.js';
import type { Stage } from '../types.js';

/** Runs before the rewrite: the caller's own words say where and how the text goes, and the rewrite then
 *  expands and translates a prompt that no longer holds the literal text ("…上方有留白" → "… blank space"). */
export const typographyPlanStage: Stage = {
  name: 'typography_plan',
  run(job) {
    const plan = parseTextPlan(job.request.prompt);
    if (plan.blocks.length === 0) return job;
    job.textPlan = plan;
    job.modelPrompt = plan.modelPrompt;
    job.negativePrompt = [job.negativePrompt, plan.negativePrompt].filter((s) => s.length > 0).join(', ');
    return job;
  },
};

export const typographyRenderStage: Stage = {
  name: 'typography_render',
  run(job) {
    const plan = job.textPlan;
    if (!plan || !job.image) return job;
    job.image = applyTypography(job.image, plan);
    return job;
  },
};

/** The same stage with the drawing on the worker-thread pool (the pixels travel there and back, no copy). */
export function typographyRenderStageOn(pool: Pick<CpuPool, 'renderTypography'>): Stage {
  return {
    name: 'typography_render',
    async run(job) {
      const plan = job.textPlan;
      if (!plan || !job.image) return job;
      job.image = await pool.renderTypography(job.image, plan);
      return job;
    },
  };
}

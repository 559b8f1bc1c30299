/**
 * Typography stages. Before the engine: the quoted text is planned from the caller's prompt and removed from
 * what the model sees (it would paint garbled letters); after super-resolution: the text is drawn as a type
 * layer at the delivered size.
 */
import { applyTypography, parseTextPlan, type TextPlan } from '../../typography/index.js';
import type { Job, Stage } from '../types.js';

const PLAN_KEY = 'textPlan';

export function textPlanOf(job: Job): TextPlan | undefined {
  return job.extras[PLAN_KEY] as TextPlan | undefined;
}

/** Runs before the rewrite: the caller's own words say where and how the text goes, and the rewrite then
 *  expands and translates a prompt that no longer holds the literal text ("…上方有留白" → "… blank space"). */
export const typographyPlanStage: Stage = {
  name: 'typography_plan',
  run(job) {
    const plan = parseTextPlan(job.request.prompt);
    if (plan.blocks.length === 0) return job;
    job.extras[PLAN_KEY] = plan;
    job.modelPrompt = plan.modelPrompt;
    job.negativePrompt = [job.negativePrompt, plan.negativePrompt].filter((s) => s.length > 0).join(', ');
    return job;
  },
};

export const typographyRenderStage: Stage = {
  name: 'typography_render',
  run(job) {
    const plan = textPlanOf(job);
    if (!plan || !job.image) return job;
    job.image = applyTypography(job.image, plan);
    return job;
  },
};

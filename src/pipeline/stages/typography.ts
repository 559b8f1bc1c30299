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

/** Runs after the rewrite, which keeps quoted text verbatim: blocks come from the original prompt (its
 *  position/colour/style words are the caller's), the model prompt from the rewritten one. */
export const typographyPlanStage: Stage = {
  name: 'typography_plan',
  run(job) {
    const plan = parseTextPlan(job.request.prompt);
    if (plan.blocks.length === 0) return job;
    job.extras[PLAN_KEY] = plan;
    const forModel = job.modelPrompt === job.request.prompt ? plan : parseTextPlan(job.modelPrompt);
    job.modelPrompt = forModel.modelPrompt;
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

/**
 * The prompt-rewrite stage: expands (use_pre_llm) and/or translates the prompt for the model, and
 * screens rewritten text (CvError 50512) because an LLM can introduce words the input did not have.
 */
import type { TextRiskChecker } from '../../safety/text-risk.js';
import type { PromptRewriter } from '../rewrite/rewriter.js';
import type { Stage } from '../types.js';

export function rewriteStage(rewriter: PromptRewriter, textRisk?: TextRiskChecker): Stage {
  return {
    name: 'rewrite',
    async run(job, ctx) {
      const r = await rewriter.rewrite(job.modelPrompt, {
        usePreLlm: job.request.use_pre_llm,
        log: ctx.log,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      if (textRisk && r.rephraser) textRisk.assertTextSafe(r.rephraser, 'rewritten');
      job.rewrittenPrompt = r.rephraser;
      job.translatedPrompt = r.translated;
      job.modelPrompt = r.modelPrompt;
      job.rewrite = {
        source: r.source,
        ...(r.subject ? { subject: r.subject } : {}),
        ...(r.fallbackReason ? { fallbackReason: r.fallbackReason } : {}),
      };
      return job;
    },
  };
}

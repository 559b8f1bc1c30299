/** Chains the stages; records each stage's milliseconds on the job and reports them to an observer. */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { CVProcessRequest } from '../contract/cvprocess.js';
import { SR_STRENGTH } from './sr/types.js';
import type { Job, Stage, StageContext } from './types.js';

/** A fresh job for `request`; `model` is the engine's model name when known (the generate stage sets it). */
export function newJob(request: CVProcessRequest, requestId: string, model = ''): Job {
  return {
    requestId,
    request,
    model,
    seed: request.seed,
    modelPrompt: request.prompt,
    negativePrompt: request.negative_prompt?.trim() ?? '',
    rewrittenPrompt: '',
    translatedPrompt: '',
    rewrite: null,
    textPlan: null,
    steps: 0,
    guidanceScale: 0,
    scheduler: request.scheduler ?? undefined,
    outputWidth: request.use_sr ? request.width * 2 : request.width,
    outputHeight: request.use_sr ? request.height * 2 : request.height,
    srStrength: SR_STRENGTH,
    srMethod: '',
    imageRisk: null,
    delivery: { returnUrl: request.return_url, logo: request.logo_info, aigcMeta: null },
    initImage: null,
    image: null,
    encoded: [],
    imageUrls: null,
    stageMs: {},
  };
}

export type StageObserver = (stage: string, ms: number) => void;

export async function runPipeline(job: Job, stages: readonly Stage[], ctx: StageContext, observe?: StageObserver): Promise<Job> {
  let current = job;
  for (const [i, stage] of stages.entries()) {
    // One event-loop turn between stages: the stages that compute on the loop (text risk, the typography
    // plan, the rewrite of a 1000-character prompt) would otherwise chain as one task of 20–100 ms.
    if (i > 0) await nextTurn();
    ctx.signal?.throwIfAborted();
    ctx.progress?.({ stage: stage.name, step: 0, totalSteps: 0 });
    const t0 = performance.now();
    current = await stage.run(current, ctx);
    const ms = performance.now() - t0;
    current.stageMs[stage.name] = ms;
    observe?.(stage.name, ms);
  }
  return current;
}

/** Chains the stages; records each stage's milliseconds on the job and reports them to an observer. */
import type { CVProcessRequest } from '../contract/cvprocess.js';
import type { Job, Stage, StageContext } from './types.js';

export function newJob(request: CVProcessRequest, requestId: string): Job {
  return {
    requestId,
    request,
    seed: request.seed,
    modelPrompt: request.prompt,
    negativePrompt: request.negative_prompt?.trim() ?? '',
    rewrittenPrompt: '',
    translatedPrompt: '',
    steps: 0,
    guidanceScale: 0,
    scheduler: request.scheduler ?? undefined,
    outputWidth: request.use_sr ? request.width * 2 : request.width,
    outputHeight: request.use_sr ? request.height * 2 : request.height,
    srStrength: 0.4,
    image: null,
    aigcMeta: null,
    encoded: [],
    stageMs: {},
    extras: {},
  };
}

export type StageObserver = (stage: string, ms: number) => void;

export async function runPipeline(job: Job, stages: readonly Stage[], ctx: StageContext, observe?: StageObserver): Promise<Job> {
  let current = job;
  for (const stage of stages) {
    ctx.signal?.throwIfAborted();
    const t0 = performance.now();
    current = await stage.run(current, ctx);
    const ms = performance.now() - t0;
    current.stageMs[stage.name] = ms;
    observe?.(stage.name, ms);
  }
  return current;
}

/**
 * The job that flows through the pipeline stages. Each stage is `(job, ctx) => job` (or a Promise of it)
 * and throws a typed CvError to stop the request with a Volcengine code.
 */
import type { AigcMeta } from '../contract/async-task.js';
import type { CVProcessRequest } from '../contract/cvprocess.js';
import type { Engine, RawImage, SchedulerName } from '../engine/types.js';
import type { Logger } from 'pino';

/** The logging surface stages use; satisfied by pino loggers and Fastify's request loggers. */
export type Log = Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;

export interface TextBlockPlanRef {
  /** Opaque to the pipeline runner; produced and consumed by src/typography. */
  readonly kind: 'text-plan';
}

export interface Job {
  requestId: string;
  request: CVProcessRequest;
  /** The seed actually used (never -1 once resolved). */
  seed: number;
  /** What the diffusion model is asked for (after typography extraction and rewrite). */
  modelPrompt: string;
  negativePrompt: string;
  /** Text after use_pre_llm rewrite, else "" (echoed as rephraser_result / llm_result). */
  rewrittenPrompt: string;
  /** English prompt the model sees when the original was Chinese (echoed as translate_prompt). */
  translatedPrompt: string;
  steps: number;
  guidanceScale: number;
  scheduler: SchedulerName | undefined;
  /** Render size (multiple of 8 handled by the engine) and delivered size. */
  outputWidth: number;
  outputHeight: number;
  srStrength: number;
  /** Set by the engine stage; later stages transform it. */
  image: RawImage | null;
  /** Label fields the caller set for its copy (async GetResult's req_json.aigc_meta); null = ours. */
  aigcMeta: AigcMeta | null;
  /** Encoded output images (PNG), set by the encode stage. */
  encoded: Buffer[];
  /** Per-stage milliseconds, for logs, metrics and benchmarks. */
  stageMs: Record<string, number>;
  /** Free-form stage outputs (e.g. the typography plan). */
  extras: Record<string, unknown>;
}

export interface StageContext {
  engine: Engine;
  log: Log;
  signal?: AbortSignal;
}

export type Stage = {
  readonly name: string;
  run(job: Job, ctx: StageContext): Job | Promise<Job>;
};

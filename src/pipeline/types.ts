/**
 * The job that flows through the pipeline stages. Each stage is `(job, ctx) => job` (or a Promise of it)
 * and throws a typed CvError to stop the request with a Volcengine code.
 *
 * Every field is typed and, apart from `image` and `encoded`, JSON-serialisable: a job record crosses
 * processes (queue → worker → task store → the gateway that delivers it), so nothing here may be a
 * callback or a class instance.
 */
import type { AigcMeta } from '../contract/async-task.js';
import type { CVProcessRequest, LogoInfo } from '../contract/cvprocess.js';
import type { Engine, RawImage, SchedulerName } from '../engine/types.js';
import type { ImageRiskScores } from '../safety/image-risk.js';
import type { TextPlan } from '../typography/index.js';
import type { SubjectType } from './rewrite/subject.js';
import type { Logger } from 'pino';

/** The logging surface stages use; satisfied by pino loggers and Fastify's request loggers. */
export type Log = Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;

/**
 * How the caller wants its copy: CVProcess takes these from its body, the async pair from GetResult's
 * req_json (so one finished picture can be delivered several ways).
 */
export interface Delivery {
  returnUrl: boolean;
  logo: LogoInfo | null;
  /** Label fields the caller set for its copy; null = ours. */
  aigcMeta: AigcMeta | null;
}

/** What the prompt rewrite decided (logs, benches). */
export interface RewriteInfo {
  source: 'rules' | 'llm' | 'none';
  subject?: SubjectType;
  fallbackReason?: string;
}

export interface Job {
  requestId: string;
  request: CVProcessRequest;
  /** The model that made (or will make) the picture; the AI label names it, so delivery needs no engine. */
  model: string;
  /** The seed actually used (never -1 once resolved). */
  seed: number;
  /** What the diffusion model is asked for (after typography extraction and rewrite). */
  modelPrompt: string;
  negativePrompt: string;
  /** Text after use_pre_llm rewrite, else "" (echoed as rephraser_result / llm_result). */
  rewrittenPrompt: string;
  /** English prompt the model sees when the original was Chinese (echoed as translate_prompt). */
  translatedPrompt: string;
  rewrite: RewriteInfo | null;
  /** Quoted text planned from the prompt, drawn after super-resolution; null when there is none. */
  textPlan: TextPlan | null;
  steps: number;
  guidanceScale: number;
  scheduler: SchedulerName | undefined;
  /** Render size (multiple of 8 handled by the engine) and delivered size. */
  outputWidth: number;
  outputHeight: number;
  srStrength: number;
  /** Which upscaler ran (echoed as sr_upscaler); "" when use_sr is off. */
  srMethod: string;
  /** The output-image classifier's scores; null when it did not run. */
  imageRisk: ImageRiskScores | null;
  delivery: Delivery;
  /** Image-to-image: the decoded input picture (the input_image stage); null otherwise. Never stored. */
  initImage: RawImage | null;
  /** Set by the engine stage; later stages transform it. */
  image: RawImage | null;
  /** Encoded output images (PNG), set by the encode stage. */
  encoded: Buffer[];
  /** URLs the store stage published (return_url); null when delivered inline. */
  imageUrls: string[] | null;
  /** Per-stage milliseconds, for logs, metrics and benchmarks. */
  stageMs: Record<string, number>;
}

/** A job without its pixels: what a queue returns and a task store keeps (the picture travels apart). */
export type JobRecord = Omit<Job, 'image' | 'encoded' | 'initImage'>;

/** Step progress a stage reports (the generate stage: one per denoising step). */
export interface StageProgress {
  stage: string;
  step: number;
  totalSteps: number;
  /** The decoded step preview, when the generate stage asks for previews (stays in-process: pixels). */
  preview?: RawImage;
}

export interface StageContext {
  /** The loaded engine; absent where no stage needs it (delivery runs on gateways with no engine). */
  engine?: Engine;
  log: Log;
  signal?: AbortSignal;
  progress?: (p: StageProgress) => void;
  /** Asked at each denoising step: is a preview wanted now? (absent: every step, when previews are on) */
  wantPreview?: () => boolean;
}

export type Stage = {
  readonly name: string;
  run(job: Job, ctx: StageContext): Job | Promise<Job>;
};

/**
 * The in-process job service: a bounded queue in front of the engine, the pipeline stages, and delivery
 * (base64 or signed URLs). Used by the gateway and by `mengtu generate`.
 */
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { CVProcessRequest } from '../contract/cvprocess.js';
import { CvError } from '../contract/errors.js';
import { buildCVProcessData, type CVProcessData } from '../contract/response.js';
import { newJob, runPipeline, type StageObserver } from '../pipeline/runner.js';
import type { Engine } from '../engine/types.js';
import type { Job, Log, Stage } from '../pipeline/types.js';
import type { EngineHost } from './engine-host.js';

export interface DeliveredImages {
  base64: string[];
  urls: string[] | null;
}

export type Deliver = (job: Job, returnUrl: boolean) => Promise<DeliveredImages>;

/** base64 in the body, or the URLs the store stage published (contract §3 return_url). */
export const inlineOrUrls: Deliver = async (job, returnUrl) => {
  if (!returnUrl) return { base64: job.encoded.map((b) => b.toString('base64')), urls: null };
  const urls = job.extras.imageUrls;
  if (!Array.isArray(urls)) throw new Error('return_url requested but no image store is configured');
  return { base64: [], urls: urls as string[] };
};

export interface GeneratorOptions {
  host: EngineHost;
  stages: readonly Stage[];
  deliver: Deliver;
  workers: number;
  maxQueue: number;
  srUpscaler: () => string;
  log: Logger;
  observeStage?: StageObserver;
}

export interface SubmitMeta {
  requestId: string;
  accessKey: string;
  signal?: AbortSignal;
  log?: Log;
}

export class Generator {
  private readonly queue: PQueue;

  constructor(private readonly opts: GeneratorOptions) {
    this.queue = new PQueue({ concurrency: opts.workers });
  }

  /** Jobs waiting (not yet running). */
  get waiting(): number {
    return this.queue.size;
  }

  get running(): number {
    return this.queue.pending;
  }

  /** The engine, when it is ready and the queue has room; else the contract's error (50501 / 50430). */
  assertCapacity(): Engine {
    const engine = this.opts.host.engine();
    if (this.queue.size >= this.opts.maxQueue) {
      throw new CvError(50430, undefined, { logDetail: `engine queue full (${this.queue.size} waiting)` });
    }
    return engine;
  }

  /**
   * Queues `stages` over `job` on the engine's queue; refuses with 50430 when the queue is full.
   * `onStart` is called when a worker picks the job up (async tasks turn in_queue → generating then).
   */
  async run(job: Job, stages: readonly Stage[], meta: Omit<SubmitMeta, 'accessKey'> & { onStart?: () => void }): Promise<Job> {
    const engine = this.assertCapacity();
    const log = meta.log ?? this.opts.log;
    return this.queue.add(() => {
      meta.onStart?.();
      return runPipeline(job, stages, { engine, log, ...(meta.signal ? { signal: meta.signal } : {}) }, this.opts.observeStage);
    });
  }

  /** Runs `stages` at once, outside the queue: cheap steps such as delivering a finished async result. */
  async runNow(job: Job, stages: readonly Stage[], log?: Log): Promise<Job> {
    return runPipeline(job, stages, { engine: this.opts.host.engine(), log: log ?? this.opts.log }, this.opts.observeStage);
  }

  /** The §5 data for a finished job, delivered inline or as URLs. */
  async respond(job: Job, accessKey: string, log?: Log): Promise<CVProcessData> {
    const delivered = await this.opts.deliver(job, job.request.return_url);
    const data = buildCVProcessData(job, {
      base64: delivered.base64,
      urls: delivered.urls,
      appKey: accessKey,
      srUpscaler: job.request.use_sr ? this.opts.srUpscaler() : '',
      createdAt: new Date(),
    });
    (log ?? this.opts.log).info({ seed: job.seed, stage_ms: roundAll(job.stageMs), size: `${job.outputWidth}x${job.outputHeight}` }, 'job done');
    return data;
  }

  /** Runs the whole pipeline for one request (CVProcess). */
  async submit(request: CVProcessRequest, meta: SubmitMeta): Promise<{ job: Job; data: CVProcessData }> {
    const job = await this.run(newJob(request, meta.requestId), this.opts.stages, meta);
    return { job, data: await this.respond(job, meta.accessKey, meta.log) };
  }

  /** Waits for running and queued jobs (graceful shutdown). */
  async drain(): Promise<void> {
    await this.queue.onIdle();
  }
}

function roundAll(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v * 10) / 10]));
}

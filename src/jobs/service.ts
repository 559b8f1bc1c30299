/**
 * The job service the gateway calls, over any JobQueue and TaskStore:
 *  - CVProcess: queue the picture, wait, deliver (watermark, encode, store) for the request's choices;
 *  - the async pair: submit checks the prompt's text risk, creates the task and queues it; GetResult runs
 *    the delivery stages for the fetch's req_json over the stored picture.
 * Delivery needs no engine (the job records its model), so any gateway can answer for any worker.
 * Errors before a task exists are thrown (no task); a task that fails later is reported by GetResult.
 */
import type { Logger } from 'pino';
import { newTaskId, pendingData, type GetResultRequest } from '../contract/async-task.js';
import type { CVProcessRequest } from '../contract/cvprocess.js';
import { CvError } from '../contract/errors.js';
import { Base64Bytes } from '../contract/base64.js';
import { buildCVProcessData, type CVProcessData } from '../contract/response.js';
import { newJob, runPipeline, type StageObserver } from '../pipeline/runner.js';
import { splitDelivery, SUBMIT_CHECK_STAGES } from '../pipeline/stages/index.js';
import type { Delivery, Job, JobRecord, Log, Stage } from '../pipeline/types.js';
import { resolveSeed } from '../engine/rng.js';
import type { RawImage } from '../engine/types.js';
import { END_STAGE, watchKey, type JobQueue, type ProgressEvent, type TaskStore } from './types.js';

/** GetResult's extension while a task is waiting or running; the official clients ignore unknown fields. */
export interface ProgressData {
  stage: string;
  step: number;
  total_steps: number;
  elapsed_ms: number;
  queue_position?: number;
}

/** The pictures stay bytes until the gateway writes the answer (JSON.stringify gives the wire's base64). */
export type DeliveredCVProcessData = CVProcessData<Base64Bytes>;

export type GetResultData = (DeliveredCVProcessData & { status: 'done' }) | (ReturnType<typeof pendingData> & { progress?: ProgressData });

export interface JobServiceOptions {
  queue: JobQueue;
  tasks: TaskStore;
  /** The full stage list; the service runs the submit checks and the delivery stages of it. */
  stages: readonly Stage[];
  /** The configured model's name, put on each payload. */
  model: string;
  /** The model serving a req_key (MENGTU_MODEL_<REQ_KEY>); default: `model` for all. */
  modelFor?: (reqKey: string) => string;
  log: Logger;
  observeStage?: StageObserver;
  now?: () => Date;
}

export interface CallMeta {
  requestId: string;
  accessKey: string;
  log?: Log;
}

export class JobService {
  private readonly delivery: Stage[];
  private readonly checks: Stage[];
  private readonly now: () => Date;

  constructor(private readonly opts: JobServiceOptions) {
    const { production, delivery } = splitDelivery(opts.stages);
    this.delivery = delivery;
    this.checks = production.filter((s) => SUBMIT_CHECK_STAGES.has(s.name));
    this.now = opts.now ?? (() => new Date());
  }

  private modelFor(reqKey: string): string {
    return this.opts.modelFor?.(reqKey) ?? this.opts.model;
  }

  get queue(): JobQueue {
    return this.opts.queue;
  }

  /**
   * CVProcess: the whole pipeline for one request. With a progress_id its events (and, at the end, the
   * outcome) go out under the caller's watch key, so the caller can stream them (GET /v1/tasks/{id}/events).
   */
  async process(request: CVProcessRequest, meta: CallMeta & { signal?: AbortSignal }): Promise<{ job: Job; data: DeliveredCVProcessData }> {
    request = withSeed(request);
    const queue = this.opts.queue;
    const watch = await this.claimWatch(request, meta);
    const t0 = performance.now();
    // One after another, so the end is never published before a stage that came earlier.
    let published = Promise.resolve();
    const publish = (e: Pick<ProgressEvent, 'stage' | 'end'>): void => {
      if (!watch) return;
      const event: ProgressEvent = { requestId: meta.requestId, watch, step: 0, totalSteps: 0, elapsedMs: Math.round(performance.now() - t0), ...e };
      published = published.then(() => queue.publish(event)).catch(() => undefined);
    };
    try {
      const produced = await queue.run(
        { request, requestId: meta.requestId, accessKey: meta.accessKey, model: this.modelFor(request.req_key), ...(watch ? { watch } : {}) },
        { ...(meta.signal ? { signal: meta.signal } : {}), ...(meta.log ? { log: meta.log } : {}) },
      );
      const delivery: Delivery = { returnUrl: request.return_url, logo: request.logo_info, aigcMeta: null };
      const out = await this.deliver(produced.job, produced.picture, delivery, meta, watch ? (stage) => publish({ stage }) : undefined);
      publish({ stage: END_STAGE, end: { status: 'done' } });
      return out;
    } catch (err) {
      publish({ stage: END_STAGE, end: meta.signal?.aborted ? { status: 'cancelled' } : failedEnd(err) });
      throw err;
    }
  }

  /** CVSync2AsyncSubmitTask: queues a task; throws the contract's error (and creates no task) when it cannot be taken. */
  async submitTask(request: CVProcessRequest, meta: CallMeta): Promise<string> {
    const log = meta.log ?? this.opts.log;
    // With a progress_id, a stream opened before the submit follows the task (its events carry the task id)
    // or, when the submit is refused, ends with the refusal.
    const watch = await this.claimWatch(request, meta);
    try {
      // Refusals a caller must see now: risky prompt text, nothing to run it, a full queue.
      const model = this.modelFor(request.req_key);
      await runPipeline(newJob(request, meta.requestId, model), this.checks, { log }, this.opts.observeStage);
      await this.opts.queue.assertCapacity(model);
      request = withSeed(request);
      const taskId = newTaskId();
      await this.opts.tasks.create(taskId, meta.accessKey);
      try {
        await this.opts.queue.enqueue({ request, requestId: meta.requestId, accessKey: meta.accessKey, taskId, model, ...(watch ? { watch } : {}) });
      } catch (err) {
        // Not accepted after all (a full queue raced us): the task never existed for the caller.
        await this.opts.tasks.cancel(taskId);
        throw err;
      }
      return taskId;
    } catch (err) {
      if (watch) await this.opts.queue.publish(endEvent(meta.requestId, watch, err)).catch(() => undefined);
      throw err;
    }
  }

  /** The caller's watch key for the request's progress_id, held for this call; none without a progress_id. */
  private async claimWatch(request: CVProcessRequest, meta: CallMeta): Promise<string | undefined> {
    if (!request.progress_id) return undefined;
    const watch = watchKey(meta.accessKey, request.progress_id);
    if (!(await this.opts.queue.claimWatch(watch))) throw new CvError(50200, 'Invalid Param: progress_id is in use by a request still running');
    return watch;
  }

  /** CVSync2AsyncGetResult: the status; when done, the §5 data for this fetch's delivery choices, or the task's error. */
  async getResult(req: GetResultRequest, meta: Omit<CallMeta, 'requestId'>): Promise<GetResultData> {
    const found = await this.opts.tasks.get(req.task_id, meta.accessKey);
    if (found.kind !== 'found') return pendingData(found.kind);
    const task = found.task;
    if (task.state === 'in_queue' || task.state === 'generating') {
      return { ...pendingData(task.state), ...(task.progress ? { progress: progressData(task.progress) } : {}) };
    }
    if (task.state === 'cancelled') return pendingData('cancelled');
    if (task.error) throw new CvError(task.error.code, task.error.message || undefined);
    const picture = task.job ? await this.opts.tasks.picture(task.id) : null;
    if (!task.job || !picture) return pendingData('expired');
    const { data } = await this.deliver(task.job, picture, { returnUrl: req.return_url, logo: req.logo_info, aigcMeta: req.aigc_meta }, meta);
    return { ...data, status: 'done' };
  }

  /**
   * CVCancelTask: a waiting task is removed, a running one stops at its next step; either then answers
   * `cancelled`. A finished task stays as it is. Same per-key visibility as GetResult.
   */
  async cancelTask(taskId: string, meta: Omit<CallMeta, 'requestId'>): Promise<{ status: string }> {
    const found = await this.opts.tasks.get(taskId, meta.accessKey);
    if (found.kind !== 'found') return { status: found.kind };
    const { task } = found;
    if (task.state === 'done' || task.state === 'cancelled') return { status: task.state };
    // The record first: a worker that finishes in between must not turn it into done.
    await this.opts.tasks.cancel(taskId);
    const outcome = await this.opts.queue.cancel(taskId);
    (meta.log ?? this.opts.log).info({ task_id: taskId, outcome }, 'task cancelled');
    return { status: 'cancelled' };
  }

  /** Runs the delivery stages over a finished picture and builds the §5 data. */
  private async deliver(record: JobRecord, picture: RawImage, delivery: Delivery, meta: Omit<CallMeta, 'requestId'>, onStage?: (stage: string) => void): Promise<{ job: Job; data: DeliveredCVProcessData }> {
    const log = meta.log ?? this.opts.log;
    const job: Job = { ...record, delivery, initImage: null, image: picture, encoded: [], imageUrls: null, stageMs: { ...record.stageMs } };
    const done = await runPipeline(job, this.delivery, { log, ...(onStage ? { progress: (p) => onStage(p.stage) } : {}) }, this.opts.observeStage);
    if (done.delivery.returnUrl && !done.imageUrls) throw new Error('return_url requested but no image store is configured');
    const data = buildCVProcessData(done, {
      base64: done.delivery.returnUrl ? [] : done.encoded.map((b) => new Base64Bytes(b)),
      urls: done.delivery.returnUrl ? done.imageUrls : null,
      appKey: meta.accessKey,
      createdAt: this.now(),
    });
    log.info({ seed: done.seed, stage_ms: roundAll(done.stageMs), size: `${done.outputWidth}x${done.outputHeight}` }, 'job done');
    return { job: done, data };
  }
}

/**
 * Seed -1 is resolved before the job is queued: a job re-run on another worker (its first one died) makes
 * the same pixels.
 */
function withSeed(request: CVProcessRequest): CVProcessRequest {
  return request.seed === -1 ? { ...request, seed: resolveSeed(-1) } : request;
}

/** How a call that failed ends: its error as the caller may see it. */
function failedEnd(err: unknown): NonNullable<ProgressEvent['end']> {
  const cv = CvError.from(err);
  return { status: 'failed', code: cv.code, message: cv.publicMessage };
}

/** The end of a watched call that failed before it was queued. */
function endEvent(requestId: string, watch: string, err: unknown): ProgressEvent {
  return { requestId, watch, stage: END_STAGE, step: 0, totalSteps: 0, elapsedMs: 0, end: failedEnd(err) };
}

function progressData(p: ProgressEvent): ProgressData {
  return {
    stage: p.stage,
    step: p.step,
    total_steps: p.totalSteps,
    elapsed_ms: p.elapsedMs,
    ...(p.queuePosition !== undefined ? { queue_position: p.queuePosition } : {}),
  };
}

function roundAll(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v * 10) / 10]));
}

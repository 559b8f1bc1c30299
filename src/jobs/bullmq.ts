/**
 * The scaled queue: BullMQ on Redis. Gateways enqueue and wait (this file); `mengtu worker` processes pull
 * and run the stages (bullmq-worker.ts). BullMQ's own semantics carry the reliability: job locks renewed
 * while a worker runs, stalled jobs (a worker that died) moved back to wait and taken by another worker,
 * retries with backoff for internal failures only.
 *
 * Across processes:
 *  - results: a task's picture goes to the task store; a CVProcess picture to the picture store under
 *    `results/<requestId>.png`, named in the job's return value (queue messages stay small);
 *  - failures: the job's failedReason is `cv:<code>:<public message>` (see failureReason);
 *  - progress: job.updateProgress(ProgressEvent), seen by every gateway through QueueEvents; a gateway's own
 *    events (a watched CVProcess call's delivery stages and end) go out on `<prefix>:progress` (pub/sub);
 *    the replay for late streams (latest state, preview, end) is the hash `<prefix>:progress:<key>`, and a
 *    running watched call holds `<prefix>:progress-live:<key>`;
 *  - cancel: a waiting job is removed; a running one is cancelled by a message on `<prefix>:cancel`, which
 *    every worker subscribes to (the one running it aborts between steps);
 *  - liveness: workers keep a heartbeat in the sorted set `<prefix>:workers` (score = expiry, epoch ms).
 */
import { Job as BullJob, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { CvError, CV_ERRORS, type CvErrorCode } from '../contract/errors.js';
import type { JobRecord } from '../pipeline/types.js';
import type { ImageStore } from '../storage/types.js';
import { failTask } from './processor.js';
import { decodePicture } from './task-store.js';
import { REPLAY_TTL_MS, replayField } from './progress-replay.js';
import { jobIdOf, progressBase, progressKeysOf, type CancelOutcome, type JobPayload, type JobQueue, type Produced, type ProgressEvent, type ProgressReplay, type QueueCounts, type RunOptions, type TaskStore } from './types.js';

/**
 * The BullMQ id of a job (jobIdOf: the task id, or the CVProcess request id). BullMQ refuses a custom id that
 * reads as an integer ("Custom Id cannot be integers"), and task ids are decimal: about 1 submit in 177
 * (those whose digits survive a round trip through a double) failed with 50500. A letter in front avoids it.
 */
export function bullJobId(id: string): string {
  return `j${id}`;
}

/** Where a worker leaves a CVProcess picture for the gateway that waits for it. */
export function resultPictureKey(requestId: string): string {
  return `results/${requestId}.png`;
}

/** What a worker returns: the record, and where the picture is (CVProcess only; tasks write the store). */
export interface WorkerResult {
  job: JobRecord;
  pictureKey: string | null;
}

export interface BullOptions {
  redisUrl: string;
  /** The BullMQ queue; gateways and workers of one deployment must agree. */
  queueName: string;
  /** Prefix of every key (several deployments can share one Redis). */
  prefix: string;
}

/** A connection for BullMQ (its blocking commands need maxRetriesPerRequest null); the caller closes it. */
export function bullConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null });
}

export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}

export function workersKey(prefix: string): string {
  return `${prefix}:workers`;
}

export function progressChannel(prefix: string): string {
  return `${prefix}:progress`;
}

function replayKey(prefix: string, key: string): string {
  return `${prefix}:progress:${key}`;
}

function liveKey(prefix: string, key: string): string {
  return `${prefix}:progress-live:${key}`;
}

/** How long a watched call may hold its key without ending (a gateway that died mid-call lets go then). */
const WATCH_HOLD_MS = 30 * 60_000;

/** Keeps an event in its job's replay hash (worker and gateway write; any gateway reads). */
export async function recordReplay(redis: Redis, prefix: string, e: ProgressEvent): Promise<void> {
  const keys = progressKeysOf(e);
  if (keys.length === 0) return;
  const m = redis.multi();
  for (const key of keys) m.hset(replayKey(prefix, key), replayField(e), JSON.stringify(e)).pexpire(replayKey(prefix, key), REPLAY_TTL_MS);
  await m.exec();
}

/**
 * Publishes an event from outside a worker's job progress (a gateway's, or a watched task's end from its
 * worker) to every gateway, keeps it in the replay, and lets go of a watch key at its end.
 */
export async function publishProgress(redis: Redis, prefix: string, e: ProgressEvent): Promise<void> {
  await recordReplay(redis, prefix, e);
  if (e.end && e.watch) await redis.del(liveKey(prefix, e.watch));
  await redis.publish(progressChannel(prefix), JSON.stringify(e));
}

async function readReplay(redis: Redis, prefix: string, key: string): Promise<ProgressReplay | null> {
  const h = await redis.hgetall(replayKey(prefix, key));
  const out: ProgressReplay = {};
  for (const f of ['state', 'preview', 'end'] as const) if (h[f]) out[f] = JSON.parse(h[f]) as ProgressEvent;
  return Object.keys(out).length ? out : null;
}

/** How many workers have a live heartbeat (readiness: a gateway is ready when one does). */
export async function liveWorkers(redis: Redis, prefix: string, now = Date.now()): Promise<number> {
  return redis.zcount(workersKey(prefix), now, '+inf');
}

/**
 * The failedReason of a job stopped because its task or call was cancelled (not a `cv:` reason, so the
 * worker's metrics count it as cancelled; a gateway still waiting reads it as 50500).
 */
export const CANCELLED_REASON = 'cancelled';

/** The failedReason a worker throws with; the gateway turns it back into the same CvError. */
export function failureReason(err: CvError): string {
  return `cv:${err.code}:${err.publicMessage}`;
}

export function errorFromReason(reason: string | undefined): CvError {
  const m = /^cv:(\d{5}):(.*)$/s.exec(reason ?? '');
  if (m && Number(m[1]) in CV_ERRORS && m[1] !== '10000') {
    const code = Number(m[1]) as CvErrorCode;
    return new CvError(code, m[2] || undefined, { logDetail: `worker: ${reason}` });
  }
  return new CvError(50500, undefined, { logDetail: `worker: ${reason ?? 'unknown failure'}` });
}

/** Retry policy: internal failures (50500/50501, a worker that died) are retried with backoff. */
export const JOB_ATTEMPTS = 3;
const BACKOFF = { type: 'exponential', delay: 1000 } as const;

export interface BullJobQueueOptions extends BullOptions {
  /** Jobs allowed to wait; beyond that 50430. */
  maxQueue: number;
  tasks: TaskStore;
  /** Where workers leave CVProcess pictures (the shared folder or the bucket). */
  pictures: ImageStore;
  log: Logger;
}

export class BullJobQueue implements JobQueue {
  readonly kind = 'bullmq' as const;
  private readonly queue: Queue<JobPayload, WorkerResult>;
  private readonly events: QueueEvents;
  private readonly redis: Redis;
  private readonly listeners = new Set<(e: ProgressEvent) => void>();
  private readonly ready: Promise<unknown>;
  private readonly connections: Redis[];

  constructor(private readonly opts: BullJobQueueOptions) {
    this.redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 3 });
    const sub = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
    this.connections = [bullConnection(opts.redisUrl), bullConnection(opts.redisUrl), this.redis, sub];
    this.queue = new Queue<JobPayload, WorkerResult>(opts.queueName, { connection: this.connections[0]!, prefix: opts.prefix });
    this.events = new QueueEvents(opts.queueName, { connection: this.connections[1]!, prefix: opts.prefix });
    this.events.on('progress', ({ data }) => {
      if (typeof data === 'object' && data !== null && 'stage' in data) for (const l of this.listeners) l(data as ProgressEvent);
    });
    // A job that failed for good without its worker recording it (stalled too often, a worker that died on
    // its last attempt): any gateway records the task's failure; recording is idempotent.
    this.events.on('failed', ({ jobId, failedReason }) => {
      void this.recordLostTask(jobId, failedReason);
    });
    // Events published by gateways (this one included): a watched CVProcess call's delivery stages and end.
    sub.on('message', (_channel: string, message: string) => {
      let e: ProgressEvent;
      try {
        e = JSON.parse(message) as ProgressEvent;
      } catch {
        return;
      }
      for (const l of this.listeners) l(e);
    });
    this.ready = Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady(), sub.subscribe(progressChannel(opts.prefix))]);
    this.queue.on('error', (err) => opts.log.warn({ err }, 'queue connection error'));
    this.events.on('error', (err) => opts.log.warn({ err }, 'queue events connection error'));
  }

  private async recordLostTask(jobId: string, failedReason: string): Promise<void> {
    try {
      const job = await BullJob.fromId<JobPayload, WorkerResult>(this.queue, jobId);
      const taskId = job?.data.taskId;
      if (!job || !taskId) return;
      const found = await this.opts.tasks.get(taskId, job.data.accessKey);
      if (found.kind === 'found' && (found.task.state === 'in_queue' || found.task.state === 'generating')) {
        await failTask(this.opts.tasks, taskId, errorFromReason(failedReason), this.opts.log.child({ task_id: taskId }));
      }
    } catch (err) {
      this.opts.log.warn({ err, jobId }, 'could not record a failed task');
    }
  }

  async assertCapacity(): Promise<void> {
    await this.ready;
    const [counts, workers] = await Promise.all([this.queue.getJobCounts('waiting', 'prioritized', 'delayed'), liveWorkers(this.redis, this.opts.prefix)]);
    // Nothing would ever run it: the same answer as an engine that is not loaded.
    if (workers === 0) throw new CvError(50501, undefined, { logDetail: 'no worker has a live heartbeat' });
    const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
    if (waiting >= this.opts.maxQueue) throw new CvError(50430, undefined, { logDetail: `queue full (${waiting} waiting)` });
  }

  private add(payload: JobPayload): Promise<BullJob<JobPayload, WorkerResult>> {
    return this.queue.add('generate', payload, {
      jobId: bullJobId(jobIdOf(payload)),
      attempts: JOB_ATTEMPTS,
      backoff: BACKOFF,
      // Results are fetched at once (CVProcess) or live in the task store: Redis keeps only a short tail.
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 24 * 3600, count: 5000 },
    });
  }

  async run(payload: JobPayload, opts: RunOptions = {}): Promise<Produced> {
    await this.assertCapacity();
    await this.announce(payload);
    const job = await this.add(payload);
    let onAbort: (() => void) | undefined;
    // A caller that went away cancels the job and stops waiting (a removed job never reports back).
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        void this.cancel(jobIdOf(payload)).catch(() => undefined);
        reject(CvError.from(opts.signal?.reason));
      };
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    let result: WorkerResult;
    try {
      result = await Promise.race([job.waitUntilFinished(this.events), aborted]);
    } catch (err) {
      if (err instanceof CvError) throw err;
      throw errorFromReason(err instanceof Error ? err.message : String(err));
    } finally {
      if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
    }
    if (!result.pictureKey) throw new CvError(50500, undefined, { logDetail: 'worker returned no picture' });
    const stored = await this.opts.pictures.get(result.pictureKey);
    if (!stored) throw new CvError(50500, undefined, { logDetail: `picture ${result.pictureKey} is missing from the picture store` });
    const picture = await decodePicture(stored);
    await this.opts.pictures.delete(result.pictureKey).catch(() => undefined);
    return { job: result.job, picture };
  }

  async enqueue(payload: JobPayload & { taskId: string }): Promise<void> {
    await this.assertCapacity();
    await this.announce(payload);
    await this.add(payload);
  }

  /**
   * A job with a progress_id says it is queued on the feed (a task's stream reads that from the task store;
   * a progress_id's stream has nothing else) — before the job is added, or a worker's first step could
   * overtake it.
   */
  private async announce(payload: JobPayload): Promise<void> {
    if (!payload.watch) return;
    const waiting = await this.queue.getWaitingCount().catch(() => null);
    await this.publish({ ...progressBase(payload), stage: 'queued', step: 0, totalSteps: 0, elapsedMs: 0, ...(waiting !== null ? { queuePosition: waiting + 1 } : {}) }).catch(() => undefined);
  }

  async cancel(id: string): Promise<CancelOutcome> {
    const job = await BullJob.fromId(this.queue, bullJobId(id));
    if (!job) return 'unknown';
    const state = await job.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
      try {
        await job.remove();
        return 'removed';
      } catch {
        // A worker took it in between (it is locked): cancel it where it runs.
      }
    } else if (state !== 'active') {
      return 'unknown';
    }
    await this.redis.publish(cancelChannel(this.opts.prefix), bullJobId(id));
    return 'aborting';
  }

  onProgress(listener: (e: ProgressEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  latest(key: string): Promise<ProgressReplay | null> {
    return readReplay(this.redis, this.opts.prefix, key);
  }

  publish(e: ProgressEvent): Promise<void> {
    return publishProgress(this.redis, this.opts.prefix, e);
  }

  async claimWatch(key: string): Promise<boolean> {
    const ok = await this.redis.set(liveKey(this.opts.prefix, key), '1', 'PX', WATCH_HOLD_MS, 'NX');
    if (ok !== 'OK') return false;
    await this.redis.del(replayKey(this.opts.prefix, key));
    return true;
  }

  async counts(): Promise<QueueCounts> {
    const c = await this.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    return { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0), running: c.active ?? 0 };
  }

  /** Live worker count (readiness). */
  workers(): Promise<number> {
    return liveWorkers(this.redis, this.opts.prefix);
  }

  /** Jobs keep running on the workers; a gateway only lets go of its connections. */
  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
    for (const c of this.connections) c.disconnect();
  }
}

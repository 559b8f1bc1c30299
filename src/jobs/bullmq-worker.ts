/**
 * The worker side of the scaled queue: pulls jobs from BullMQ, runs the production stages on the local
 * engine (createJobProcessor), and leaves the outcome where the gateways look: the task store for async
 * tasks, the picture store + the job's return value for CVProcess. See bullmq.ts for the protocol.
 *
 * Reliability is BullMQ's: the job lock is renewed on a timer while the job runs (the engine's ONNX runs
 * are async on onnxruntime's own threads, so the event loop stays free to renew it); a worker that dies
 * loses its lock and the job is moved back to wait by another worker's stalled check; internal failures
 * are retried with backoff, refusals (50412, 50511, …) fail at once (UnrecoverableError). close() lets the
 * running job finish and takes no new one (SIGTERM).
 */
import { UnrecoverableError, Worker, type Job as BullJob } from 'bullmq';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { CvError } from '../contract/errors.js';
import type { ImageStore } from '../storage/types.js';
import { bullConnection, CANCELLED_REASON, cancelChannel, failureReason, publishProgress, recordReplay, resultPictureKey, workersKey, type BullOptions, type WorkerResult } from './bullmq.js';
import { failTask, type JobProcessor } from './processor.js';
import { encodePicture } from './task-store.js';
import { END_STAGE, progressBase, type JobPayload, type ProgressEvent, type TaskStore } from './types.js';

export interface BullWorkerOptions extends BullOptions {
  process: JobProcessor;
  tasks: TaskStore;
  pictures: ImageStore;
  log: Logger;
  /** Jobs this worker runs at once (one per engine; the engine uses all its threads). */
  concurrency: number;
  /** The model this worker serves (shown in its heartbeat). */
  model: string;
  /** How long a job's lock lasts without renewal (renewed every half of it). Default 30 s. */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose worker died. Default 30 s. */
  stalledIntervalMs?: number;
  heartbeatMs?: number;
}

export interface RunningBullWorker {
  readonly id: string;
  readonly worker: Worker<JobPayload, WorkerResult>;
  /** Starts pulling jobs and publishing the heartbeat (call once the engine is loaded). */
  start(): Promise<void>;
  /** Finishes the running job(s), takes no new one, drops the heartbeat. */
  close(): Promise<void>;
}

/** A job's replay is rewritten at most this often for steps within a stage (stage changes and previews always). */
const REPLAY_STATE_EVERY_MS = 250;

/** Records a job's progress into its replay hash, steps throttled. */
function replayRecorder(redis: Redis, prefix: string): (e: ProgressEvent) => void {
  let at = -Infinity;
  let stage = '';
  return (e) => {
    const t = performance.now();
    if (!e.preview && e.stage === stage && t - at < REPLAY_STATE_EVERY_MS && !(e.step > 0 && e.step === e.totalSteps)) return;
    if (!e.preview) {
      at = t;
      stage = e.stage;
    }
    void recordReplay(redis, prefix, e).catch(() => undefined);
  };
}

/** How long a CVProcess picture waits in the picture store for its gateway. */
const RESULT_TTL_MS = 10 * 60_000;

export function createBullWorker(opts: BullWorkerOptions): RunningBullWorker {
  const id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const heartbeatMs = opts.heartbeatMs ?? 5000;
  const conn = bullConnection(opts.redisUrl);
  const sub: Redis = bullConnection(opts.redisUrl);
  const cmd: Redis = bullConnection(opts.redisUrl);

  const processJob = async (bjob: BullJob<JobPayload, WorkerResult>, _token?: string, signal?: AbortSignal): Promise<WorkerResult> => {
    const payload = bjob.data;
    const { taskId } = payload;
    const log = opts.log.child({ request_id: payload.requestId, ...(taskId ? { task_id: taskId } : {}), job_attempt: bjob.attemptsMade + 1 });
    if (taskId) {
      const found = await opts.tasks.get(taskId, payload.accessKey);
      // Cancelled (or gone) while it waited: nothing to make.
      if (found.kind !== 'found' || found.task.state === 'cancelled' || found.task.state === 'done') {
        throw new UnrecoverableError(CANCELLED_REASON);
      }
    }
    const replay = replayRecorder(cmd, opts.prefix);
    // A task with a progress_id: its watch key is let go once the task's outcome is recorded (streams of the
    // progress_id follow the task from its task_id; the outcome comes from the task store).
    const endWatch = (): Promise<void> =>
      taskId && payload.watch
        ? publishProgress(cmd, opts.prefix, { ...progressBase(payload), stage: END_STAGE, step: 0, totalSteps: 0, elapsedMs: 0, end: { status: 'done' } }).catch(() => undefined)
        : Promise.resolve();
    try {
      const job = await opts.process(payload, {
        log,
        ...(signal ? { signal } : {}),
        // Steps and their small JPEG previews travel on the job's progress channel to every gateway, and the
        // latest of each into the job's replay for streams that open later.
        onProgress: (e) => {
          void bjob.updateProgress(e).catch(() => undefined);
          replay(e);
        },
      });
      if (!job.image) throw new Error('the pipeline produced no picture');
      const { image, encoded: _encoded, initImage: _init, ...record } = job;
      if (taskId) {
        await opts.tasks.finish(taskId, record, image);
        await endWatch();
        log.info('task done');
        return { job: record, pictureKey: null };
      }
      const key = resultPictureKey(payload.requestId);
      await opts.pictures.put(key, await encodePicture(image), { contentType: 'image/png', expiresAt: new Date(Date.now() + RESULT_TTL_MS) });
      return { job: record, pictureKey: key };
    } catch (err) {
      if (signal?.aborted) {
        if (taskId) await opts.tasks.cancel(taskId);
        await endWatch();
        log.info('job cancelled');
        throw new UnrecoverableError(CANCELLED_REASON);
      }
      const cv = CvError.from(err);
      const final = !cv.internal || bjob.attemptsMade + 1 >= (bjob.opts.attempts ?? 1);
      if (taskId && final) {
        await failTask(opts.tasks, taskId, err, log);
        await endWatch();
      }
      else if (cv.internal) log.warn({ err, detail: cv.logDetail }, 'job failed; it will be retried');
      // Refusals are answers, not faults: no retry.
      if (!cv.internal) throw new UnrecoverableError(failureReason(cv));
      throw new Error(failureReason(cv));
    }
  };

  const worker = new Worker<JobPayload, WorkerResult>(opts.queueName, processJob, {
    connection: conn,
    prefix: opts.prefix,
    concurrency: opts.concurrency,
    autorun: false,
    lockDuration: opts.lockDurationMs ?? 30_000,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    // A job whose worker died twice is more likely a job that kills workers: fail it then.
    maxStalledCount: 2,
    name: id,
  });
  worker.on('error', (err) => opts.log.warn({ err }, 'worker connection error'));

  let timer: NodeJS.Timeout | null = null;
  const member = JSON.stringify({ id, model: opts.model, pid: process.pid });
  const beat = async (): Promise<void> => {
    await cmd.zadd(workersKey(opts.prefix), Date.now() + 3 * heartbeatMs, member);
    // Drop the heartbeats of workers that stopped without saying so.
    await cmd.zremrangebyscore(workersKey(opts.prefix), '-inf', Date.now());
  };

  return {
    id,
    worker,
    async start() {
      await sub.subscribe(cancelChannel(opts.prefix));
      sub.on('message', (_channel: string, jobId: string) => {
        if (worker.cancelJob(jobId, 'cancelled')) opts.log.info({ job_id: jobId }, 'cancelling the running job');
      });
      await beat();
      timer = setInterval(() => void beat().catch((err: unknown) => opts.log.warn({ err }, 'heartbeat failed')), heartbeatMs);
      timer.unref();
      void worker.run().catch((err: unknown) => opts.log.error({ err }, 'worker stopped'));
      await worker.waitUntilReady();
      opts.log.info({ worker: id, concurrency: opts.concurrency }, 'worker taking jobs');
    },
    async close() {
      if (timer) clearInterval(timer);
      await cmd.zrem(workersKey(opts.prefix), member).catch(() => undefined);
      await worker.close();
      sub.disconnect();
      cmd.disconnect();
      conn.disconnect();
    },
  };
}

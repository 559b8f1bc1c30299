/**
 * The in-process queue (embedded mode): a bounded p-queue in front of the local engine. Jobs run in this
 * process; async tasks' outcomes go to the task store here.
 */
import PQueue from 'p-queue';
import { CvError } from '../contract/errors.js';
import type { Logger } from 'pino';
import type { Job } from '../pipeline/types.js';
import type { EngineHost } from './engine-host.js';
import { failTask, type JobProcessor } from './processor.js';
import { ReplayCache } from './progress-replay.js';
import { END_STAGE, jobIdOf, progressBase, type CancelOutcome, type JobPayload, type JobQueue, type Produced, type ProgressEvent, type ProgressReplay, type QueueCounts, type RunOptions, type TaskStore } from './types.js';

export interface InProcessQueueOptions {
  host: EngineHost;
  process: JobProcessor;
  tasks: TaskStore;
  /** Jobs running at once on the engine. */
  workers: number;
  /** Jobs allowed to wait; beyond that 50430. */
  maxQueue: number;
  log: Logger;
}

interface Entry {
  abort: AbortController;
  started: boolean;
}

export class InProcessQueue implements JobQueue {
  readonly kind = 'in-process' as const;
  private readonly queue: PQueue;
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(e: ProgressEvent) => void>();
  private readonly replay = new ReplayCache();
  /** Tasks whose outcome is still being written to the store (drain waits for them too). */
  private readonly settling = new Set<Promise<void>>();

  constructor(private readonly opts: InProcessQueueOptions) {
    this.queue = new PQueue({ concurrency: opts.workers });
  }

  async assertCapacity(model?: string): Promise<void> {
    this.checkCapacity(model);
  }

  private checkCapacity(model?: string): void {
    this.opts.host.engine(model);
    if (this.queue.size >= this.opts.maxQueue) {
      throw new CvError(50430, undefined, { logDetail: `engine queue full (${this.queue.size} waiting)` });
    }
  }

  async run(payload: JobPayload, opts: RunOptions = {}): Promise<Produced> {
    this.checkCapacity(payload.model);
    const job = await this.add(payload, opts);
    if (!job.image) throw new Error('the pipeline produced no picture');
    const { image, encoded: _encoded, initImage: _init, ...record } = job;
    return { job: record, picture: image };
  }

  async enqueue(payload: JobPayload & { taskId: string }): Promise<void> {
    this.checkCapacity(payload.model);
    const log = this.opts.log;
    const taskLog = log.child({ task_id: payload.taskId, request_id: payload.requestId });
    const settled: Promise<void> = this.add(payload, { log: taskLog })
      .then(async (job) => {
        if (!job.image) throw new Error('the pipeline produced no picture');
        const { image, encoded: _encoded, initImage: _init, ...record } = job;
        await this.opts.tasks.finish(payload.taskId, record, image);
        taskLog.info('task done');
      })
      .catch(async (err: unknown) => {
        if (this.entries.get(payload.taskId)?.abort.signal.aborted || isAbort(err)) {
          await this.opts.tasks.cancel(payload.taskId);
          taskLog.info('task cancelled');
          return;
        }
        await failTask(this.opts.tasks, payload.taskId, err, taskLog);
      })
      .catch((err: unknown) => taskLog.error({ err }, 'could not record the task outcome'))
      .finally(() => {
        this.entries.delete(payload.taskId);
        // A finished task's stream answers from the task store; its replay is no longer needed. A progress_id's
        // streams learn the task id from its end and follow the task (and the id is free again).
        if (payload.watch) this.emit({ ...progressBase(payload), stage: END_STAGE, step: 0, totalSteps: 0, elapsedMs: 0, end: { status: 'done' } });
        this.replay.forget(payload.taskId);
        this.settling.delete(settled);
      });
    this.settling.add(settled);
  }

  private add(payload: JobPayload, opts: RunOptions): Promise<Job> {
    const id = jobIdOf(payload);
    const abort = new AbortController();
    const entry: Entry = { abort, started: false };
    this.entries.set(id, entry);
    if (opts.signal) {
      if (opts.signal.aborted) abort.abort(opts.signal.reason);
      else opts.signal.addEventListener('abort', () => abort.abort(opts.signal!.reason), { once: true });
    }
    this.emit({ ...progressBase(payload), stage: 'queued', step: 0, totalSteps: 0, elapsedMs: 0, queuePosition: this.queue.size + 1 });
    const p = this.queue.add(
      () => {
        entry.started = true;
        return this.opts.process(payload, { signal: abort.signal, ...(opts.log ? { log: opts.log } : {}), onProgress: (e) => this.emit(e) });
      },
      { signal: abort.signal },
    );
    // CVProcess callers get their promise; tasks forget the entry when the outcome is recorded.
    return payload.taskId ? p : p.finally(() => this.entries.delete(id));
  }

  async cancel(id: string): Promise<CancelOutcome> {
    const entry = this.entries.get(id);
    if (!entry) return 'unknown';
    entry.abort.abort(new CvError(50500, undefined, { logDetail: 'cancelled' }));
    return entry.started ? 'aborting' : 'removed';
  }

  onProgress(listener: (e: ProgressEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async latest(key: string): Promise<ProgressReplay | null> {
    return this.replay.get(key);
  }

  async publish(e: ProgressEvent): Promise<void> {
    this.emit(e);
  }

  async claimWatch(key: string): Promise<boolean> {
    return this.replay.claim(key);
  }

  private emit(e: ProgressEvent): void {
    this.replay.record(e);
    for (const l of this.listeners) l(e);
  }

  async counts(): Promise<QueueCounts> {
    return { waiting: this.queue.size, running: this.queue.pending };
  }

  /** Waits for running and queued jobs (graceful shutdown). */
  async drain(): Promise<void> {
    await this.queue.onIdle();
    await Promise.all([...this.settling]);
  }

  async close(): Promise<void> {
    await this.drain();
  }
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

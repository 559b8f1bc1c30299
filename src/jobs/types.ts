/**
 * The job layer's interfaces: what the gateway asks of "something that makes pictures", whichever process
 * does it. Two queue implementations exist: the in-process one (p-queue in front of a local engine; the
 * embedded default) and BullMQ on Redis (gateways enqueue, `mengtu worker` processes run the stages).
 * Task stores keep the async pair's records and pictures: in memory + files here; SQLite and Redis ones
 * implement the same interface.
 *
 * What crosses a process boundary is plain JSON: the payload (the validated request and who asked), the
 * job record (the pipeline's Job without pixels) and progress events. Pictures travel apart, through an
 * image store (files or a bucket), never inside queue messages.
 */
import { createHash } from 'node:crypto';
import type { CVProcessRequest } from '../contract/cvprocess.js';
import type { CvErrorCode } from '../contract/errors.js';
import type { RawImage } from '../engine/types.js';
import type { EncodedPreview } from '../pipeline/preview.js';
import type { JobRecord, Log } from '../pipeline/types.js';

export type { JobRecord } from '../pipeline/types.js';

/** What goes on the queue: enough for any worker to make the picture, nothing process-local. */
export interface JobPayload {
  request: CVProcessRequest;
  requestId: string;
  accessKey: string;
  /** Set for async tasks: the worker records the outcome in the task store under this id. */
  taskId?: string;
  /** The model the submitter expects; the job records the model that actually ran. */
  model: string;
  /** Set for a call (or task) with a progress_id: its events carry it (watchKey), so its caller can stream them. */
  watch?: string;
}

/** The id a job is known by on its queue: the task id for async tasks, else the request id. */
export function jobIdOf(payload: Pick<JobPayload, 'taskId' | 'requestId'>): string {
  return payload.taskId ?? payload.requestId;
}

/**
 * The key a CVProcess caller's progress_id is known by on the progress feed: scoped to its access key (a
 * stream of another key computes another key, so it never sees the job), hashed so queue messages and Redis
 * keys carry neither the access key nor the id.
 */
export function watchKey(accessKey: string, progressId: string): string {
  return `w${createHash('sha256').update(`${accessKey}\n${progressId}`).digest('hex').slice(0, 32)}`;
}

/** What streams of this job subscribe by: its task id and/or the watch key of its progress_id. */
export function progressKeysOf(e: Pick<ProgressEvent, 'taskId' | 'watch'>): string[] {
  return [e.taskId, e.watch].filter((k): k is string => k !== undefined);
}

/** The identifying fields every progress event of a job carries. */
export function progressBase(payload: Pick<JobPayload, 'requestId' | 'taskId' | 'watch'>): Pick<ProgressEvent, 'requestId' | 'taskId' | 'watch'> {
  return { requestId: payload.requestId, ...(payload.taskId ? { taskId: payload.taskId } : {}), ...(payload.watch ? { watch: payload.watch } : {}) };
}

/**
 * Progress of one job, published through the queue so any gateway can report or stream it.
 * `stage` is 'queued' while waiting (with `queuePosition`, 1 = next), then the running stage's name;
 * `step`/`totalSteps` count denoising steps in 'generate' and are 0/0 for single-step stages.
 */
export interface ProgressEvent {
  requestId: string;
  taskId?: string;
  /** The watch key of a CVProcess call with a progress_id (see watchKey). */
  watch?: string;
  stage: string;
  step: number;
  totalSteps: number;
  /** Milliseconds since a worker took the job (0 while queued). */
  elapsedMs: number;
  queuePosition?: number;
  /**
   * A small JPEG of the picture so far, when the runtime asked for previews (the progress stream): at most
   * one per PREVIEW_EVERY_MS per job, a few KB, so the BullMQ progress channel carries it to any gateway.
   * Task stores never keep it.
   */
  preview?: EncodedPreview;
  /**
   * The end of a watched CVProcess call (stage END_STAGE), published by the gateway that answered it: the
   * stream's last event. Tasks end through the task store instead.
   */
  end?: ProgressEnd;
}

export type ProgressEnd = { status: 'done' | 'cancelled' } | { status: 'failed'; code: CvErrorCode; message: string };

/** The stage of a ProgressEvent that carries `end`. */
export const END_STAGE = 'end';

/** What a stream that opens late is told first: the latest state, the latest preview, and the end if known. */
export interface ProgressReplay {
  state?: ProgressEvent;
  preview?: ProgressEvent;
  end?: ProgressEvent;
}

/** The stage a task reports after the pipeline, while its picture is written to the task store. */
export const STORING_STAGE = 'storing';

/** A finished picture and its record: what a queue hands back to the side that delivers it. */
export interface Produced {
  job: JobRecord;
  picture: RawImage;
}

export interface RunOptions {
  /** Aborting it cancels the job (a CVProcess caller that hung up). */
  signal?: AbortSignal;
  log?: Log;
}

/** 'removed': it was waiting and never ran; 'aborting': it is running and stops at the next step. */
export type CancelOutcome = 'removed' | 'aborting' | 'unknown';

export interface QueueCounts {
  waiting: number;
  running: number;
}

export interface JobQueue {
  readonly kind: 'in-process' | 'bullmq';
  /** Throws 50501 when nothing can take work (no engine loaded) and 50430 when the queue is full. */
  assertCapacity(model?: string): Promise<void>;
  /** Enqueues and waits for the picture (CVProcess). Rejects with the job's CvError. */
  run(payload: JobPayload, opts?: RunOptions): Promise<Produced>;
  /**
   * Enqueues an async task and returns once it is accepted (after assertCapacity's checks). The outcome is
   * written to the task store by whoever runs the job: finish, fail or cancel.
   */
  enqueue(payload: JobPayload & { taskId: string }): Promise<void>;
  /** Cancels a waiting or running job by its id (jobIdOf). */
  cancel(id: string): Promise<CancelOutcome>;
  /** Subscribes to every job's progress; returns the unsubscribe function. */
  onProgress(listener: (e: ProgressEvent) => void): () => void;
  /** The replay of a task's or watched call's progress (a task id or a watch key), null when none is known. */
  latest(key: string): Promise<ProgressReplay | null>;
  /**
   * Publishes an event from the gateway's side of a watched CVProcess call (its delivery stages and its end)
   * to every gateway's listeners and the replay.
   */
  publish(e: ProgressEvent): Promise<void>;
  /**
   * Claims a watch key for a new CVProcess call (forgetting a finished call's replay under it); false while
   * another call with it is still running. Its end (publish with `end`) releases it.
   */
  claimWatch(key: string): Promise<boolean>;
  counts(): Promise<QueueCounts>;
  /** Stops taking work, lets running and queued jobs finish, releases connections. */
  close(): Promise<void>;
}

/** in_queue → generating → done (with a result or an error) | cancelled. */
export type TaskState = 'in_queue' | 'generating' | 'done' | 'cancelled';

export interface TaskRecord {
  id: string;
  /** Tasks are per access key: another key's GetResult sees not_found. */
  accessKey: string;
  state: TaskState;
  /** Epoch ms when it reached done or cancelled (the TTL counts from here). */
  finishedAt?: number;
  /** The finished job without its picture (the picture is in the image store). */
  job?: JobRecord;
  error?: { code: CvErrorCode; message: string };
  /** The latest progress while generating. */
  progress?: ProgressEvent;
}

export type TaskLookup = { kind: 'found'; task: TaskRecord } | { kind: 'expired' } | { kind: 'not_found' };

/**
 * The async pair's records, by id. Implementations: MemoryTaskStore (records in memory, pictures in an
 * ImageStore), and durable SQLite/Redis ones. Every method is safe to call from another process than the
 * one that created the task (a worker finishes what a gateway created).
 */
export interface TaskStore {
  create(id: string, accessKey: string): Promise<TaskRecord>;
  /** The task as `accessKey` may see it: someone else's task is not_found; old results expire. */
  get(id: string, accessKey: string): Promise<TaskLookup>;
  /** in_queue → generating (no effect on a cancelled task). */
  markGenerating(id: string): Promise<void>;
  /** Records the latest progress of a generating task (best effort, may be throttled). */
  progress(id: string, event: ProgressEvent): Promise<void>;
  /** Stores the picture (before watermark and label, which each GetResult decides) and the record. */
  finish(id: string, job: JobRecord, picture: RawImage): Promise<void>;
  fail(id: string, code: CvErrorCode, message: string): Promise<void>;
  /** Marks an unfinished task cancelled; false when it already finished or does not exist. */
  cancel(id: string): Promise<boolean>;
  /** The finished picture, or null when it is gone (expired and swept). */
  picture(id: string): Promise<RawImage | null>;
  /** Forgets tasks past both windows and deletes expired pictures; returns how many records went. */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The in-process task store: records in memory, each finished picture (before watermark and label, which
 * GetResult's req_json decides) in an ImageStore, so results live in files (or a bucket) rather than in
 * the heap. The durable stores (SQLite, Redis) implement the same TaskStore interface.
 */
import { buffer } from 'node:stream/consumers';
import sharp from 'sharp';
import type { CvErrorCode } from '../contract/errors.js';
import type { RawImage } from '../engine/types.js';
import { encodePng } from '../pipeline/encode/encode-png.js';
import type { ImageStore } from '../storage/types.js';
import type { JobRecord, ProgressEvent, TaskLookup, TaskRecord, TaskState, TaskStore } from './types.js';

export interface TaskStoreOptions {
  /** How long a finished result can be fetched; then `expired` for as long again, then `not_found`. */
  ttlMs: number;
  now?: () => number;
}

/** Where a task's picture is kept in the image store. */
export function taskPictureKey(id: string): string {
  return `${id}.png`;
}

/** Lossless, fast and unlabelled: this copy is decoded again at delivery, never served as is. */
export function encodePicture(picture: RawImage): Promise<Buffer> {
  return encodePng(picture, null, { compressionLevel: 1 });
}

export async function decodePicture(stored: { body: Buffer | NodeJS.ReadableStream }): Promise<RawImage> {
  const bytes = Buffer.isBuffer(stored.body) ? stored.body : await buffer(stored.body);
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
}

/** Whether a finished task is still fetchable, expired, or to be forgotten (shared by every store). */
export function ageOf(task: Pick<TaskRecord, 'state' | 'finishedAt'>, now: number, ttlMs: number): 'live' | 'expired' | 'gone' {
  if ((task.state !== 'done' && task.state !== 'cancelled') || task.finishedAt === undefined) return 'live';
  const age = now - task.finishedAt;
  if (age >= 2 * ttlMs) return 'gone';
  if (age >= ttlMs) return 'expired';
  return 'live';
}

/** A task's stored columns (JSON strings as the SQLite and Redis stores keep them). */
export interface StoredTaskColumns {
  accessKey: string;
  state: TaskState;
  finishedAt: number | null;
  job: string | null;
  error: string | null;
  progress: string | null;
}

/** The lookup both durable stores answer: the record rebuilt from its columns, aged by the TTL windows. */
export function lookupStored(id: string, c: StoredTaskColumns, now: number, ttlMs: number): TaskLookup {
  const task: TaskRecord = {
    id,
    accessKey: c.accessKey,
    state: c.state,
    ...(c.finishedAt !== null ? { finishedAt: c.finishedAt } : {}),
    ...(c.job ? { job: JSON.parse(c.job) as JobRecord } : {}),
    ...(c.error ? { error: JSON.parse(c.error) as { code: CvErrorCode; message: string } } : {}),
    ...(c.progress ? { progress: JSON.parse(c.progress) as ProgressEvent } : {}),
  };
  const age = ageOf(task, now, ttlMs);
  if (age === 'gone') return { kind: 'not_found' };
  if (age === 'expired') return { kind: 'expired' };
  return { kind: 'found', task };
}

export class MemoryTaskStore implements TaskStore {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly now: () => number;

  constructor(
    private readonly images: ImageStore,
    private readonly opts: TaskStoreOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.tasks.size;
  }

  async create(id: string, accessKey: string): Promise<TaskRecord> {
    const task: TaskRecord = { id, accessKey, state: 'in_queue' };
    this.tasks.set(id, task);
    return { ...task };
  }

  async get(id: string, accessKey: string): Promise<TaskLookup> {
    const task = this.tasks.get(id);
    if (!task || task.accessKey !== accessKey) return { kind: 'not_found' };
    const age = ageOf(task, this.now(), this.opts.ttlMs);
    if (age === 'gone') return { kind: 'not_found' };
    if (age === 'expired') return { kind: 'expired' };
    return { kind: 'found', task: { ...task } };
  }

  async markGenerating(id: string): Promise<void> {
    const task = this.tasks.get(id);
    if (task?.state === 'in_queue') task.state = 'generating';
  }

  async progress(id: string, event: ProgressEvent): Promise<void> {
    const task = this.tasks.get(id);
    if (task && (task.state === 'in_queue' || task.state === 'generating')) task.progress = event;
  }

  async finish(id: string, job: JobRecord, picture: RawImage): Promise<void> {
    const task = this.tasks.get(id);
    if (!task || task.state === 'cancelled') return;
    const png = await encodePicture(picture);
    const finishedAt = this.now();
    await this.images.put(taskPictureKey(id), png, { contentType: 'image/png', expiresAt: new Date(finishedAt + this.opts.ttlMs) });
    // Cancelled while the picture was being written: the cancel stands.
    if ((task.state as TaskState) === 'cancelled') return;
    task.job = job;
    task.finishedAt = finishedAt;
    task.state = 'done';
    delete task.progress;
  }

  async fail(id: string, code: CvErrorCode, message: string): Promise<void> {
    const task = this.tasks.get(id);
    if (!task || task.state === 'cancelled') return;
    task.error = { code, message };
    task.finishedAt = this.now();
    task.state = 'done';
    delete task.progress;
  }

  async cancel(id: string): Promise<boolean> {
    const task = this.tasks.get(id);
    if (!task || task.state === 'done' || task.state === 'cancelled') return false;
    task.state = 'cancelled';
    task.finishedAt = this.now();
    delete task.progress;
    return true;
  }

  async picture(id: string): Promise<RawImage | null> {
    const stored = await this.images.get(taskPictureKey(id));
    return stored ? decodePicture(stored) : null;
  }

  async sweep(): Promise<number> {
    const now = this.now();
    let n = 0;
    for (const [id, t] of this.tasks) {
      if (ageOf(t, now, this.opts.ttlMs) === 'gone') {
        this.tasks.delete(id);
        n++;
      }
    }
    await this.images.sweep(new Date(now));
    return n;
  }

  async close(): Promise<void> {}
}

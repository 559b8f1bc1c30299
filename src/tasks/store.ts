/**
 * Where async tasks live between submit and fetch. The in-process store keeps task records in memory and
 * each finished picture (before watermark and label, which GetResult's req_json decides) in an ImageStore,
 * so results survive in files (or a bucket) rather than in the heap.
 */
import { buffer } from 'node:stream/consumers';
import sharp from 'sharp';
import type { CvErrorCode } from '../contract/errors.js';
import type { RawImage } from '../engine/types.js';
import { encodePng } from '../pipeline/encode/encode-png.js';
import type { Job } from '../pipeline/types.js';
import type { ImageStore } from '../storage/types.js';

export type RunState = 'in_queue' | 'generating' | 'done';

export interface TaskRecord {
  id: string;
  /** Tasks are per access key: another key's GetResult sees not_found. */
  accessKey: string;
  state: RunState;
  finishedAt?: number;
  /** The finished job without its picture (the picture is in the image store). */
  job?: Omit<Job, 'image' | 'encoded'>;
  error?: { code: CvErrorCode; message: string };
}

export interface TaskStoreOptions {
  /** How long a finished result can be fetched; then `expired` for as long again, then `not_found`. */
  ttlMs: number;
  now?: () => number;
}

export type Lookup = { kind: 'found'; task: TaskRecord } | { kind: 'expired' } | { kind: 'not_found' };

export class TaskStore {
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

  create(id: string, accessKey: string): TaskRecord {
    const task: TaskRecord = { id, accessKey, state: 'in_queue' };
    this.tasks.set(id, task);
    return task;
  }

  lookup(id: string, accessKey: string): Lookup {
    const task = this.tasks.get(id);
    if (!task || task.accessKey !== accessKey) return { kind: 'not_found' };
    if (task.state === 'done' && task.finishedAt !== undefined) {
      const age = this.now() - task.finishedAt;
      if (age >= 2 * this.opts.ttlMs) return { kind: 'not_found' };
      if (age >= this.opts.ttlMs) return { kind: 'expired' };
    }
    return { kind: 'found', task };
  }

  markGenerating(task: TaskRecord): void {
    task.state = 'generating';
  }

  async finish(task: TaskRecord, job: Job): Promise<void> {
    if (!job.image) throw new Error('task finished without a picture');
    // Lossless, fast and unlabelled: this copy is decoded again at fetch, never served as is.
    const png = await encodePng(job.image, null, { compressionLevel: 1 });
    const finishedAt = this.now();
    await this.images.put(imageKey(task.id), png, { contentType: 'image/png', expiresAt: new Date(finishedAt + this.opts.ttlMs) });
    const { image: _image, encoded: _encoded, ...rest } = job;
    task.job = rest;
    task.finishedAt = finishedAt;
    task.state = 'done';
  }

  fail(task: TaskRecord, code: CvErrorCode, message: string): void {
    task.error = { code, message };
    task.finishedAt = this.now();
    task.state = 'done';
  }

  /** The finished picture, or null when it is gone (expired and swept). */
  async picture(task: TaskRecord): Promise<RawImage | null> {
    const stored = await this.images.get(imageKey(task.id));
    if (!stored) return null;
    const bytes = Buffer.isBuffer(stored.body) ? stored.body : await buffer(stored.body);
    const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
  }

  /** Forgets tasks past both windows and deletes expired pictures; returns how many records went. */
  async sweep(): Promise<number> {
    const now = this.now();
    let n = 0;
    for (const [id, t] of this.tasks) {
      if (t.state === 'done' && t.finishedAt !== undefined && now - t.finishedAt >= 2 * this.opts.ttlMs) {
        this.tasks.delete(id);
        n++;
      }
    }
    await this.images.sweep(new Date(now));
    return n;
  }
}

function imageKey(id: string): string {
  return `${id}.png`;
}

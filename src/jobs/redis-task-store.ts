/**
 * Task records in Redis (scaled mode): one hash per task, `<prefix>:task:<id>`, written by the gateway that
 * took the submit and by the worker that runs it, read by any gateway. State changes are Lua scripts, so a
 * cancel and a finishing worker cannot both win. Pictures live in the shared picture store (a bucket or a
 * shared folder). Records expire by Redis TTL: twice the result TTL after they finish (expired, then gone).
 */
import { Redis } from 'ioredis';
import type { CvErrorCode } from '../contract/errors.js';
import type { RawImage } from '../engine/types.js';
import type { ImageStore } from '../storage/types.js';
import { decodePicture, lookupStored, encodePicture, taskPictureKey, type TaskStoreOptions } from './task-store.js';
import type { JobRecord, ProgressEvent, TaskLookup, TaskRecord, TaskState, TaskStore } from './types.js';

/** A task nobody finishes (all workers gone for days) is forgotten after this long. */
const UNFINISHED_TTL_MS = 7 * 24 * 3_600_000;

// KEYS[1] the task; ARGV[1] allowed states (comma-separated), then field/value pairs; ARGV[2] pexpire ms or "".
const TRANSITION = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
local ok = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == state then ok = true end end
if not ok then return 0 end
for i = 3, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i]) else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
if ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
`;

export interface RedisTaskStoreOptions extends TaskStoreOptions {
  redisUrl: string;
  prefix: string;
}

export class RedisTaskStore implements TaskStore {
  private readonly redis: Redis;
  private readonly now: () => number;

  constructor(
    private readonly images: ImageStore,
    private readonly opts: RedisTaskStoreOptions,
  ) {
    this.redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 3 });
    this.now = opts.now ?? Date.now;
  }

  private key(id: string): string {
    return `${this.opts.prefix}:task:${id}`;
  }

  private transition(id: string, from: TaskState[], fields: Record<string, string>, expireMs?: number): Promise<boolean> {
    const args = [from.join(','), expireMs === undefined ? '' : String(Math.round(expireMs)), ...Object.entries(fields).flat()];
    return this.redis.eval(TRANSITION, 1, this.key(id), ...args).then((n) => n === 1);
  }

  async create(id: string, accessKey: string): Promise<TaskRecord> {
    await this.redis.multi().hset(this.key(id), { state: 'in_queue', accessKey }).pexpire(this.key(id), UNFINISHED_TTL_MS).exec();
    return { id, accessKey, state: 'in_queue' };
  }

  async get(id: string, accessKey: string): Promise<TaskLookup> {
    const h = await this.redis.hgetall(this.key(id));
    if (!h.state || h.accessKey !== accessKey) return { kind: 'not_found' };
    return lookupStored(id, { accessKey: h.accessKey, state: h.state as TaskState, finishedAt: h.finishedAt ? Number(h.finishedAt) : null, job: h.job ?? null, error: h.error ?? null, progress: h.progress ?? null }, this.now(), this.opts.ttlMs);
  }

  async markGenerating(id: string): Promise<void> {
    await this.transition(id, ['in_queue', 'generating'], { state: 'generating' });
  }

  async progress(id: string, event: ProgressEvent): Promise<void> {
    await this.transition(id, ['in_queue', 'generating'], { progress: JSON.stringify(event) });
  }

  private finished(): { finishedAt: string; progress: string } {
    return { finishedAt: String(this.now()), progress: '' };
  }

  async finish(id: string, job: JobRecord, picture: RawImage): Promise<void> {
    const finishedAt = this.now();
    await this.images.put(taskPictureKey(id), await encodePicture(picture), { contentType: 'image/png', expiresAt: new Date(finishedAt + this.opts.ttlMs) });
    await this.transition(id, ['in_queue', 'generating'], { state: 'done', job: JSON.stringify(job), ...this.finished() }, 2 * this.opts.ttlMs);
  }

  async fail(id: string, code: CvErrorCode, message: string): Promise<void> {
    await this.transition(id, ['in_queue', 'generating'], { state: 'done', error: JSON.stringify({ code, message }), ...this.finished() }, 2 * this.opts.ttlMs);
  }

  async cancel(id: string): Promise<boolean> {
    return this.transition(id, ['in_queue', 'generating'], { state: 'cancelled', ...this.finished() }, 2 * this.opts.ttlMs);
  }

  async picture(id: string): Promise<RawImage | null> {
    const stored = await this.images.get(taskPictureKey(id));
    return stored ? decodePicture(stored) : null;
  }

  /** Records expire by themselves; expired pictures are deleted here. */
  async sweep(): Promise<number> {
    await this.images.sweep(new Date(this.now()));
    return 0;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

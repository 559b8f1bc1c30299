/**
 * Worker threads (piscina) for the CPU-heavy stages: typography layout and drawing, and the PNG encode with its
 * AI label, on `size` drawing threads, the image-risk classifier on one thread of its own. Running them on the
 * event loop held every other request, /healthz included, for seconds.
 *
 * The classifier thread loads its model once, in the background, as soon as the pool starts: a request that
 * needs it meanwhile queues behind that load (one thread, first in, first out) instead of racing it, and
 * `classifierStatus` says 'loading' until it is done (/readyz). Loading it in every drawing thread instead
 * (the first attempt) made N threads import tfjs and the weights at once and held the typography tasks that
 * landed behind the warm-up: the first request waited > 100 s under load.
 *
 * One pool per process, shared by every runtime built in it (the first caller's size wins).
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { RawImage } from '../../engine/types.js';
import type { ImageRiskScores } from '../../safety/image-risk.js';
import type { AiLabelMeta } from '../encode/ai-label.js';
import type { EncodeOptions } from '../encode/encode-png.js';
import type { TextPlan } from '../../typography/types.js';
import { transferablesOf, type ClassifierTask, type DrawTask, type OffloadResult, type SrTask } from './tasks.js';

export interface CpuPoolOptions {
  /** Drawing threads (≥ 1). */
  size: number;
  /** Start the classifier thread and load the NSFW model on it now (when image risk is on). */
  classifier?: boolean;
}

export type ClassifierStatus =
  | { state: 'off' }
  | { state: 'loading' }
  /** loadMs: how long the load at start took (absent after a retry). */
  | { state: 'ready'; loadMs?: number }
  | { state: 'failed'; detail: string };

export interface CpuPool {
  readonly size: number;
  /** Draws the plan's text; `image`'s buffer is transferred away and a new image comes back. */
  renderTypography(image: RawImage, plan: TextPlan): Promise<RawImage>;
  /**
   * Classifies `image` on the classifier thread (after its model load, when that is still running); its
   * buffer travels there and back into the same object. Rejects when the pool has no classifier.
   */
  classify(image: RawImage): Promise<ImageRiskScores>;
  /**
   * Encodes `image` as PNG with the AI label (`meta`) on a drawing thread; its buffer travels there and back
   * into the same object, the file comes back by transfer.
   */
  encodePng(image: RawImage, meta: AiLabelMeta | null, options: EncodeOptions): Promise<Buffer>;
  readonly classifierStatus: ClassifierStatus;
  /** Settles once the classifier's first load has ended, loaded or failed (at once without a classifier). */
  classifierSettled(): Promise<void>;
  /** Drawing tasks waiting for a free thread. */
  readonly queued: number;
  /** Tasks this pool finished, by kind (for checks that the work really left the event loop). */
  readonly completed: Readonly<Record<'typography' | 'classify' | 'encode', number>>;
  /** Drops this user's hold; the threads stop when the last user closes. */
  close(): Promise<void>;
}

type RunOptions = Parameters<Piscina['run']>[1];

interface Shared<T> {
  pool: Piscina;
  users: number;
  extra: T;
}
let drawing: Shared<{ size: number }> | undefined;
let classifying: Shared<{ status: ClassifierStatus; settled: Promise<void> }> | undefined;

export function workerOptions(name: 'worker' | 'classifier-worker' | 'sr-worker' | 'engine-worker'): { filename: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return { filename: here.replace(/pool\.js$/, `${name}.js`), execArgv: process.execArgv };
  // A source checkout runs through tsx (bin/mengtu.js registers it in-process, which threads do not inherit).
  const tsx = import.meta.resolve('tsx');
  return { filename: here.replace(/pool\.ts$/, `${name}.ts`), execArgv: [...process.execArgv.filter((a) => a !== tsx), '--import', tsx] };
}

export async function runOn(pool: Piscina, task: DrawTask | ClassifierTask | SrTask): Promise<OffloadResult> {
  const transferList = transferablesOf('image' in task ? task.image : undefined);
  // piscina's TransferList type is inferred from @types/node's postMessage overloads; an array is what it takes.
  return (await pool.run(task, { transferList } as unknown as RunOptions)) as OffloadResult;
}

function startClassifier(): NonNullable<typeof classifying> {
  const pool = new Piscina({ ...workerOptions('classifier-worker'), minThreads: 1, maxThreads: 1, idleTimeout: Infinity, atomics: 'disabled' });
  const extra: { status: ClassifierStatus; settled: Promise<void> } = { status: { state: 'loading' }, settled: Promise.resolve() };
  const t0 = performance.now();
  extra.settled = runOn(pool, { kind: 'load' }).then(
    () => void (extra.status = { state: 'ready', loadMs: performance.now() - t0 }),
    (err: unknown) => void (extra.status = { state: 'failed', detail: `NSFW classifier failed to load: ${(err as Error)?.message ?? String(err)}` }),
  );
  return { pool, users: 0, extra };
}

/** Starts the process's pool, or joins the running one. */
export function startCpuPool(opts: CpuPoolOptions): CpuPool {
  if (!drawing) {
    const size = Math.max(1, Math.floor(opts.size));
    // Fonts are not warmed: each slice opens on first use, in the worker, off the event loop.
    drawing = { pool: new Piscina({ ...workerOptions('worker'), minThreads: size, maxThreads: size, idleTimeout: 60_000, atomics: 'disabled' }), users: 0, extra: { size } };
  }
  const d = drawing;
  d.users++;
  let c: typeof classifying;
  if (opts.classifier) {
    classifying ??= startClassifier();
    c = classifying;
    c.users++;
  }
  let closed = false;
  const completed = { typography: 0, classify: 0, encode: 0 };
  return {
    size: d.extra.size,
    get queued() {
      return d.pool.queueSize;
    },
    completed,
    get classifierStatus(): ClassifierStatus {
      return c ? c.extra.status : { state: 'off' };
    },
    classifierSettled: () => c?.extra.settled ?? Promise.resolve(),
    async renderTypography(image, plan) {
      const r = await runOn(d.pool, { kind: 'typography', image, plan });
      completed.typography++;
      return r.image!;
    },
    async encodePng(image, meta, options) {
      const r = await runOn(d.pool, { kind: 'encode', image, meta, options });
      completed.encode++;
      image.data = r.image!.data;
      const png = r.png!;
      return Buffer.from(png.buffer, png.byteOffset, png.byteLength);
    },
    async classify(image) {
      if (!c) throw new Error('this worker pool was started without the image-risk classifier');
      const r = await runOn(c.pool, { kind: 'classify', image });
      completed.classify++;
      // A load that failed at start and worked on this retry.
      if (c.extra.status.state === 'failed') c.extra.status = { state: 'ready' };
      // The buffer came back: hand it to the caller's image again.
      image.data = r.image!.data;
      return r.scores!;
    },
    async close() {
      if (closed) return;
      closed = true;
      const stops: Array<Promise<void>> = [];
      if (--d.users === 0 && drawing === d) {
        drawing = undefined;
        stops.push(d.pool.destroy());
      }
      if (c && --c.users === 0 && classifying === c) {
        classifying = undefined;
        stops.push(c.pool.destroy());
      }
      await Promise.all(stops);
    },
  };
}

/**
 * The worker-thread pool (piscina) for CPU-heavy stages: typography layout and drawing, the image-risk
 * classifier. Running them on the event loop held every other request, /healthz included, for seconds.
 * One pool per process, shared by every runtime built in it; threads start at once (and load the classifier).
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { RawImage } from '../../engine/types.js';
import type { ImageRiskScores } from '../../safety/image-risk.js';
import type { TextPlan } from '../../typography/types.js';
import { transferablesOf, type OffloadResult, type OffloadTask } from './tasks.js';

export interface CpuPoolOptions {
  /** Worker threads (≥ 1). */
  size: number;
  /** Load the NSFW classifier in each thread at start (when image risk is on). */
  warmClassifier?: boolean;
}

export interface CpuPool {
  readonly size: number;
  /** Draws the plan's text; `image`'s buffer is transferred away and a new image comes back. */
  renderTypography(image: RawImage, plan: TextPlan): Promise<RawImage>;
  /** Classifies `image`; its buffer travels to the worker and back into the same object. */
  classify(image: RawImage): Promise<ImageRiskScores>;
  /** Tasks waiting for a free thread. */
  readonly queued: number;
  /** Tasks this pool finished, by kind (for /metrics-style checks that the work really left the event loop). */
  readonly completed: Readonly<Record<'typography' | 'classify', number>>;
  /** Drops this user's hold; the threads stop when the last user closes. */
  close(): Promise<void>;
}

type RunOptions = Parameters<Piscina['run']>[1];

let shared: { pool: Piscina; users: number; size: number } | undefined;

function workerFile(): { filename: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return { filename: here.replace(/pool\.js$/, 'worker.js'), execArgv: process.execArgv };
  // A source checkout runs through tsx (bin/mengtu.js registers it in-process, which threads do not inherit).
  const tsx = import.meta.resolve('tsx');
  return { filename: here.replace(/pool\.ts$/, 'worker.ts'), execArgv: [...process.execArgv.filter((a) => a !== tsx), '--import', tsx] };
}

/** Starts the process's pool, or joins the running one (its size is the first caller's). */
export function startCpuPool(opts: CpuPoolOptions): CpuPool {
  if (!shared) {
    const size = Math.max(1, Math.floor(opts.size));
    const { filename, execArgv } = workerFile();
    const pool = new Piscina({ filename, execArgv, minThreads: size, maxThreads: size, idleTimeout: 60_000, atomics: 'disabled' });
    shared = { pool, users: 0, size };
    // Every thread loads the classifier now, not during someone's request. Fonts are not warmed: a thread
    // busy opening font slices would hold the first request's image check behind it; each slice opens on
    // first use instead (in the worker, off the event loop).
    if (opts.warmClassifier) for (let i = 0; i < size; i++) pool.run({ kind: 'warm', faces: [], text: '', classifier: true } satisfies OffloadTask).catch(() => undefined);
  }
  const s = shared;
  s.users++;
  let closed = false;
  const completed = { typography: 0, classify: 0 };
  const run = async (task: OffloadTask): Promise<OffloadResult> => {
    const transferList = transferablesOf('image' in task ? task.image : undefined);
    // piscina's TransferList type is inferred from @types/node's postMessage overloads; an array is what it takes.
    return (await s.pool.run(task, { transferList } as unknown as RunOptions)) as OffloadResult;
  };
  return {
    size: s.size,
    get queued() {
      return s.pool.queueSize;
    },
    completed,
    async renderTypography(image, plan) {
      const r = await run({ kind: 'typography', image, plan });
      completed.typography++;
      return r.image!;
    },
    async classify(image) {
      const r = await run({ kind: 'classify', image });
      completed.classify++;
      // The buffer came back: hand it to the caller's image again.
      image.data = r.image!.data;
      return r.scores!;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (--s.users > 0 || shared !== s) return;
      shared = undefined;
      await s.pool.destroy();
    },
  };
}

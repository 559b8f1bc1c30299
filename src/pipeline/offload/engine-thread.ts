/**
 * The diffusion engine on a worker thread of its own (see engine-worker.ts for why): the same Engine surface,
 * with steps, previews and aborts carried over a MessageChannel per request. Concurrent requests interleave
 * on that thread as they did on the event loop (each awaits its graph runs).
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { CV_ERRORS, CvError, EngineError, type CvErrorCode } from '../../contract/errors.js';
import type { LoadEngineOptions } from '../../engine/index.js';
import type { Engine, GeneratedImage, GenerateRequest, StepInfo } from '../../engine/types.js';
import type { EngineFailure, EngineTask } from './engine-worker.js';
import { workerOptions } from './pool.js';
import type { OffloadResult } from './tasks.js';

export interface ThreadedEngine extends Engine {
  /** Requests this engine finished (a check that the work really left the event loop). */
  readonly completed: number;
}

type RunOptions = Parameters<Piscina['run']>[1];

/** The worker's error as the class the in-process engine would have thrown (codes survive). */
function rebuild({ failed }: EngineFailure): Error {
  if (failed.name === 'EngineError') return new EngineError(failed.message);
  if (failed.code !== undefined && failed.code in CV_ERRORS) return new CvError(failed.code as CvErrorCode, failed.message, failed.logDetail === undefined ? undefined : { logDetail: failed.logDetail });
  const err = new Error(failed.message);
  err.name = failed.name;
  return err;
}

async function call(pool: Piscina, task: EngineTask, transferList: unknown[] = []): Promise<Record<string, unknown>> {
  const r = (await pool.run(task, { transferList } as unknown as RunOptions)) as Record<string, unknown> | EngineFailure;
  if ('failed' in r) throw rebuild(r as EngineFailure);
  return r as Record<string, unknown>;
}

/** Loads the model on a new thread; rejects (and stops the thread) as loadEngine would. */
export async function loadEngineThread(dir: string, options: LoadEngineOptions): Promise<ThreadedEngine> {
  const pool = new Piscina({ ...workerOptions('engine-worker'), minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: 64, idleTimeout: Infinity, atomics: 'disabled' });
  let info: { modelName: string; img2img: boolean; nativeSize?: number };
  try {
    info = (await call(pool, { kind: 'load', dir, options })) as typeof info;
  } catch (err) {
    await pool.destroy();
    throw err;
  }
  let closed = false;
  let completed = 0;
  const inflight = new Set<Promise<unknown>>();

  async function generate(req: GenerateRequest): Promise<GeneratedImage> {
    if (closed) throw new EngineError(`engine ${info.modelName} is closed`);
    req.signal?.throwIfAborted();
    const { onStep, previews, signal, ...plain } = req;
    const { port1, port2 } = new MessageChannel();
    const answer = typeof previews === 'function' ? new Int32Array(new SharedArrayBuffer(8)) : undefined;
    // The worker posts 'done' after its last step: the steps are handled before the result is returned.
    let portDone!: () => void;
    const drained = new Promise<void>((resolve) => (portDone = resolve));
    port1.on('message', (m: { type: 'step'; info: StepInfo } | { type: 'ask'; step: number; totalSteps: number } | { type: 'done' }) => {
      if (m.type === 'step') onStep?.(m.info);
      else if (m.type === 'ask' && answer && typeof previews === 'function') {
        Atomics.store(answer, 1, previews(m.step, m.totalSteps) ? 1 : 0);
        Atomics.store(answer, 0, 1);
        Atomics.notify(answer, 0);
      } else if (m.type === 'done') portDone();
    });
    port1.on('close', () => portDone());
    const onAbort = (): void => port1.postMessage({ type: 'abort' });
    signal?.addEventListener('abort', onAbort, { once: true });
    const task: EngineTask = { kind: 'generate', load: { dir, options }, req: plain, port: port2, steps: onStep !== undefined, previews: typeof previews === 'function' ? 'ask' : previews, answer };
    try {
      const r = (await call(pool, task, [port2]).catch((err: unknown) => {
        // An aborted request fails with the caller's reason, as the in-process engine does.
        throw signal?.aborted ? signal.reason : err;
      })) as unknown as OffloadResult;
      await drained;
      completed++;
      return { ...r.generated!, image: r.image! };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      port1.close();
    }
  }

  return {
    modelName: info.modelName,
    img2img: info.img2img,
    ...(info.nativeSize !== undefined ? { nativeSize: info.nativeSize } : {}),
    get completed() {
      return completed;
    },
    generate(req) {
      const p = generate(req);
      inflight.add(p);
      const done = (): void => void inflight.delete(p);
      p.then(done, done);
      return p;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...inflight]);
      await call(pool, { kind: 'close' }).catch(() => undefined);
      await pool.destroy();
    },
  };
}

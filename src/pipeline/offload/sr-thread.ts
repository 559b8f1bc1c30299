/**
 * Super-resolution on a worker thread of its own: the same SuperResolver surface, with the model loaded and
 * run there (see sr-worker.ts for why). One thread per resolver, stopped by its `close()`.
 */
import { Piscina } from 'piscina';
import type { SuperResolverOptions } from '../sr/index.js';
import type { SuperResolver } from '../sr/types.js';
import { runOn, workerOptions } from './pool.js';

export interface ThreadedSuperResolver extends SuperResolver {
  /** Upscales this resolver finished (a check that the work really left the event loop). */
  readonly completed: number;
}

/** Loads the resolver on its thread and resolves once it is ready; rejects as createSuperResolver would. */
export async function startSuperResolverThread(options: SuperResolverOptions): Promise<ThreadedSuperResolver> {
  const pool = new Piscina({ ...workerOptions('sr-worker'), minThreads: 1, maxThreads: 1, idleTimeout: Infinity, atomics: 'disabled' });
  let loaded: { method: string; status: string };
  try {
    loaded = (await runOn(pool, { kind: 'load', options })).sr!;
  } catch (err) {
    await pool.destroy();
    throw err;
  }
  let completed = 0;
  let closed = false;
  return {
    method: loaded.method,
    status: loaded.status,
    get completed() {
      return completed;
    },
    async upscale(image) {
      // A copy travels (≈1 ms for 1024²), so the caller's image stays whole.
      const r = await runOn(pool, { kind: 'upscale', image: { ...image, data: image.data.slice() }, options });
      completed++;
      return r.image!;
    },
    async close() {
      if (closed) return;
      closed = true;
      await runOn(pool, { kind: 'close' }).catch(() => undefined);
      await pool.destroy();
    },
  };
}

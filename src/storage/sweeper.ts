/** Deletes expired images (and stale temp files) at start and periodically. The timer is unref'd: it never keeps the process alive. */
import type { ImageStore } from './types.js';

export interface SweeperOptions {
  now?: () => Date;
  onSwept?: (removed: number) => void;
  onError?: (err: unknown) => void;
}

export function startSweeper(store: Pick<ImageStore, 'sweep'>, intervalMs: number, opts: SweeperOptions = {}): () => void {
  const now = opts.now ?? (() => new Date());
  let running = false;
  const tick = async (): Promise<void> => {
    if (running) return; // a slow sweep (big bucket) must not pile up behind itself
    running = true;
    try {
      const n = await store.sweep(now());
      opts.onSwept?.(n);
    } catch (err) {
      opts.onError?.(err);
    } finally {
      running = false;
    }
  };
  // Once at start too: leftovers of a killed process (expired files, half-written temp files) go at once.
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Retrying a model pull that failed for a passing reason (no network yet, a 5xx from the hub): an offline
 * first start must recover by itself once the network is back, instead of staying unready for good.
 */
import { DownloadError, failureDetail, isNetworkError } from './errors.js';

export interface RetryPolicy {
  /** First wait, ms; doubles each time up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialDelayMs: 5_000, maxDelayMs: 5 * 60_000 };

/** True when trying again later may succeed: network failures and hub-side HTTP errors, anywhere in the cause chain. */
export function isPassingFailure(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 6 && e !== null && e !== undefined; depth++) {
    if (e instanceof DownloadError) return e.kind === 'network' || e.kind === 'http';
    if (isNetworkError(e)) return true;
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}

export interface RetryEvent {
  attempt: number;
  delayMs: number;
  reason: string;
}

/**
 * Runs `fn` until it succeeds or fails for a lasting reason; between passing failures waits with exponential
 * backoff, telling `onRetry` why and for how long. `signal` stops the waiting (the last error is thrown).
 */
export async function retryPassingFailures<T>(fn: () => Promise<T>, opts: { policy?: RetryPolicy; onRetry?: (e: RetryEvent) => void; signal?: AbortSignal } = {}): Promise<T> {
  const policy = opts.policy ?? DEFAULT_RETRY;
  let delay = policy.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isPassingFailure(err) || opts.signal?.aborted) throw err;
      opts.onRetry?.({ attempt, delayMs: delay, reason: failureDetail(err) });
      const waited = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(true), delay);
        t.unref();
        opts.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          resolve(false);
        }, { once: true });
      });
      if (!waited) throw err;
      delay = Math.min(policy.maxDelayMs, delay * 2);
    }
  }
}

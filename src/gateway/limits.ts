/**
 * Per-access-key QPS (token bucket → 50429) and in-flight concurrency (→ 50430), checked before any work is
 * queued (contract §9). In-process; the Redis-backed variant shares this interface.
 */
import { CvError } from '../contract/errors.js';

export interface LimitConfig {
  /** Sustained requests per second per key; 0 disables. */
  qps: number;
  /** Bucket size (burst); defaults to max(1, qps). */
  burst?: number;
  /** Requests in flight per key; 0 disables. */
  concurrency: number;
}

export interface Lease {
  release(): void;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class KeyLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly config: LimitConfig,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** Takes a token and a concurrency slot for `key`, or throws 50429 / 50430. */
  acquire(key: string): Lease {
    const { qps, concurrency } = this.config;
    if (concurrency > 0 && (this.inFlight.get(key) ?? 0) >= concurrency) throw new CvError(50430);
    if (qps > 0) {
      const burst = this.config.burst ?? Math.max(1, qps);
      const now = this.nowMs();
      const b = this.buckets.get(key) ?? { tokens: burst, updatedMs: now };
      b.tokens = Math.min(burst, b.tokens + ((now - b.updatedMs) / 1000) * qps);
      b.updatedMs = now;
      this.buckets.set(key, b);
      if (b.tokens < 1) throw new CvError(50429);
      b.tokens -= 1;
    }
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const n = (this.inFlight.get(key) ?? 1) - 1;
        if (n <= 0) this.inFlight.delete(key);
        else this.inFlight.set(key, n);
      },
    };
  }

  inFlightCount(key: string): number {
    return this.inFlight.get(key) ?? 0;
  }
}

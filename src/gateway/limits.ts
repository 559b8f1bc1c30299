/**
 * Per-access-key limits, checked before any work is queued (contract §9): requests in flight (→ 50430) and a
 * request rate (→ 50429). One async interface, two implementations: in this process's memory (embedded mode)
 * and in Redis (scaled mode, counted across every gateway). Rates use rate-limiter-flexible (its memory and
 * Redis limiters count the same way); the in-flight count is ours because it must free slots on release and
 * also when a gateway dies holding them.
 *
 * The rate window: `burst` requests per `max(1, round(burst / qps))` seconds, a fixed window per key.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { CvError } from '../contract/errors.js';

export interface LimitConfig {
  /** Sustained requests per second per key; 0 disables. */
  qps: number;
  /** Requests per window; defaults to max(1, qps). */
  burst?: number;
  /** Requests in flight per key; 0 disables. */
  concurrency: number;
}

export interface Lease {
  /** Frees the in-flight slot; a second call does nothing. */
  release(): Promise<void>;
}

export interface Limiter {
  readonly kind: 'memory' | 'redis';
  /** Takes an in-flight slot and a rate point for `key`, or throws CvError 50430 / 50429 at once. */
  acquire(key: string): Promise<Lease>;
  inFlight(key: string): Promise<number>;
  close(): Promise<void>;
}

function rateWindow(cfg: LimitConfig): { points: number; duration: number } {
  const points = Math.max(1, Math.round(cfg.burst && cfg.burst > 0 ? cfg.burst : cfg.qps));
  return { points, duration: Math.max(1, Math.round(points / cfg.qps)) };
}

async function consumeRate(rate: RateLimiterAbstract | null, key: string): Promise<void> {
  if (!rate) return;
  try {
    await rate.consume(key, 1);
  } catch (e) {
    if (e instanceof RateLimiterRes) throw new CvError(50429, undefined, { logDetail: `rate limit: retry in ${e.msBeforeNext} ms` });
    throw e;
  }
}

/** Spends a rate point after the slot is taken; a rate refusal gives the slot back. */
async function takeRate(rate: RateLimiterAbstract | null, key: string, lease: Lease): Promise<Lease> {
  try {
    await consumeRate(rate, key);
  } catch (e) {
    await lease.release();
    throw e;
  }
  return lease;
}

/** Wraps a slot release so it runs once. */
function leaseOf(free: () => Promise<void>): Lease {
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await free();
    },
  };
}

/** Embedded mode: counts in this process. */
export class MemoryLimiter implements Limiter {
  readonly kind = 'memory' as const;
  private readonly counts = new Map<string, number>();
  private readonly rate: RateLimiterMemory | null;

  constructor(private readonly config: LimitConfig) {
    this.rate = config.qps > 0 ? new RateLimiterMemory({ keyPrefix: 'qps', ...rateWindow(config) }) : null;
  }

  async acquire(key: string): Promise<Lease> {
    const { concurrency } = this.config;
    // Checked and taken synchronously, so two requests cannot both see the last free slot.
    if (concurrency > 0 && (this.counts.get(key) ?? 0) >= concurrency) throw new CvError(50430);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const lease = leaseOf(async () => {
      const n = (this.counts.get(key) ?? 1) - 1;
      if (n <= 0) this.counts.delete(key);
      else this.counts.set(key, n);
    });
    return takeRate(this.rate, key, lease);
  }

  async inFlight(key: string): Promise<number> {
    return this.counts.get(key) ?? 0;
  }

  async close(): Promise<void> {}
}

// A sorted set per key: member = lease id, score = the lease's expiry (Redis server time, ms). Expired
// leases (a gateway that died holding them) are dropped before counting. KEYS[1] the set; ARGV: limit,
// lease id, lease ms. Returns 1 when taken, 0 when full.
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if tonumber(ARGV[1]) > 0 and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
return 1
`;
// Extends live leases of this gateway. KEYS[1] the set; ARGV: lease ms, then lease ids.
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i]) end
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
return 1
`;
const COUNT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
`;

export interface RedisLimiterOptions {
  /** Key prefix of the deployment (MENGTU_REDIS_PREFIX). */
  prefix: string;
  /** A held slot is forgotten this long after its gateway stops renewing it (default 30 s). */
  leaseMs?: number;
}

/** Scaled mode: counts in Redis, shared by every gateway of the deployment. */
export class RedisLimiter implements Limiter {
  readonly kind = 'redis' as const;
  private readonly rate: RateLimiterRedis | null;
  private readonly leaseMs: number;
  /** This gateway's held leases, key → lease ids, renewed while held. */
  private readonly held = new Map<string, Set<string>>();
  private readonly renewTimer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly config: LimitConfig,
    private readonly opts: RedisLimiterOptions,
  ) {
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.rate = config.qps > 0 ? new RateLimiterRedis({ storeClient: redis, keyPrefix: `${opts.prefix}:limit:qps`, ...rateWindow(config) }) : null;
    this.renewTimer = setInterval(() => void this.renew().catch(() => undefined), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
  }

  private setKey(key: string): string {
    return `${this.opts.prefix}:limit:inflight:${key}`;
  }

  private async renew(): Promise<void> {
    for (const [key, ids] of this.held) {
      if (ids.size > 0) await this.redis.eval(RENEW, 1, this.setKey(key), String(this.leaseMs), ...ids);
    }
  }

  async acquire(key: string): Promise<Lease> {
    const id = randomUUID();
    const { concurrency } = this.config;
    if (concurrency > 0) {
      const taken = await this.redis.eval(TAKE, 1, this.setKey(key), String(concurrency), id, String(this.leaseMs));
      if (taken !== 1) throw new CvError(50430);
      let ids = this.held.get(key);
      if (!ids) this.held.set(key, (ids = new Set()));
      ids.add(id);
    }
    const lease = leaseOf(async () => {
      if (concurrency <= 0) return;
      const ids = this.held.get(key);
      ids?.delete(id);
      if (ids?.size === 0) this.held.delete(key);
      await this.redis.zrem(this.setKey(key), id);
    });
    return takeRate(this.rate, key, lease);
  }

  async inFlight(key: string): Promise<number> {
    return Number(await this.redis.eval(COUNT, 1, this.setKey(key)));
  }

  async close(): Promise<void> {
    clearInterval(this.renewTimer);
  }
}

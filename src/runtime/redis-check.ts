/**
 * What a scaled deployment needs of its Redis (docs/deployment.md): `maxmemory-policy noeviction` (BullMQ's
 * job keys must never be evicted) and some persistence (AOF or RDB), so a Redis restart loses no queued job or
 * task record. Gateways and workers log these findings at start; nothing is changed on the server.
 */
import type { Redis } from 'ioredis';

export interface RedisFinding {
  level: 'error' | 'warn';
  message: string;
}

async function configValue(redis: Redis, name: string): Promise<string | undefined> {
  try {
    const pair = (await redis.config('GET', name)) as string[];
    return pair[1];
  } catch {
    return undefined; // CONFIG may be renamed or refused on managed Redis: nothing to report then
  }
}

export async function checkRedisForQueue(redis: Redis): Promise<RedisFinding[]> {
  const findings: RedisFinding[] = [];
  const policy = await configValue(redis, 'maxmemory-policy');
  if (policy !== undefined && policy !== 'noeviction') {
    findings.push({ level: 'error', message: `Redis maxmemory-policy is '${policy}': set 'noeviction', or Redis may evict queued jobs and task records` });
  }
  const aof = await configValue(redis, 'appendonly');
  const save = await configValue(redis, 'save');
  if (aof === 'no' && save !== undefined && save.trim() === '') {
    findings.push({ level: 'warn', message: 'Redis has no persistence (appendonly no, save ""): a Redis restart loses every queued job and task record' });
  }
  return findings;
}

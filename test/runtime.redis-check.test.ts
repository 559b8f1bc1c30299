/** docs/deployment.md's Redis settings, checked against real redis-servers configured right and wrong. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { checkRedisForQueue } from '../src/runtime/redis-check.js';
import { startRedis } from './helpers/redis.js';

test('noeviction + AOF passes; an evicting policy is an error; no persistence is a warning', async () => {
  const good = await startRedis({ extraArgs: ['--appendonly', 'yes', '--appendfsync', 'everysec'] });
  const bad = await startRedis({ extraArgs: ['--maxmemory-policy', 'allkeys-lru'] });
  const g = new Redis(good.url);
  const b = new Redis(bad.url);
  try {
    assert.deepEqual(await checkRedisForQueue(g), []);
    const found = await checkRedisForQueue(b);
    assert.deepEqual(found.map((f) => f.level).sort(), ['error', 'warn']);
    assert.match(found.find((f) => f.level === 'error')!.message, /allkeys-lru.*noeviction/);
  } finally {
    g.disconnect();
    b.disconnect();
    await good.stop();
    await bad.stop();
  }
});

test('docs/deployment.md: its redis.conf excerpt passes the check, and every test it cites exists', async () => {
  const { readFileSync, existsSync } = await import('node:fs');
  const doc = readFileSync(new URL('../docs/deployment.md', import.meta.url), 'utf8');
  const excerpt = /# \/etc\/redis\/redis\.conf.*\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(excerpt, 'the redis.conf excerpt is there');
  const args = excerpt.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).flatMap((l) => {
    const [k, ...v] = l.split(/\s+/);
    return [`--${k}`, ...v];
  });
  const redis = await startRedis({ extraArgs: args });
  const r = new Redis(redis.url);
  try {
    assert.deepEqual(await checkRedisForQueue(r), []);
  } finally {
    r.disconnect();
    await redis.stop();
  }
  const cited = [...doc.matchAll(/`(test\/[\w.-]+\.test\.ts)`/g)].map((m) => m[1]!);
  assert.ok(cited.length >= 4);
  for (const f of cited) assert.ok(existsSync(new URL(`../${f}`, import.meta.url)), `${f} is cited but missing`);
});

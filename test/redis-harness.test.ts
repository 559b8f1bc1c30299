/** The Redis test harness: a real redis-server on a free loopback port, answering, and gone after stop(). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis } from './helpers/redis.js';

test('startRedis runs a private redis-server without persistence and stop() ends it', async () => {
  const a = await startRedis();
  const b = await startRedis();
  assert.notEqual(a.port, b.port);
  const ra = new Redis(a.url);
  const rb = new Redis(b.url);
  try {
    await ra.set('k', 'a');
    assert.equal(await rb.get('k'), null, 'two servers share nothing');
    assert.deepEqual(await ra.config('GET', 'appendonly'), ['appendonly', 'no']);
    assert.deepEqual(await ra.config('GET', 'maxmemory-policy'), ['maxmemory-policy', 'noeviction']);
  } finally {
    ra.disconnect();
    rb.disconnect();
    await a.stop();
    await b.stop();
  }
  const probe = new Redis(a.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  await assert.rejects(probe.connect());
  probe.disconnect();
});

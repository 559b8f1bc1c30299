/**
 * Per-key limits: the in-memory and Redis limiters behind one interface, limits counted across two gateways
 * sharing one Redis, leases of a dead gateway expiring, and default limits that never refuse a client that
 * waits for each answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Service } from '@volcengine/openapi';
import { CvError } from '../src/contract/errors.js';
import { MemoryLimiter, RedisLimiter, type Limiter } from '../src/gateway/limits.js';
import { signRequest } from '../src/client/index.js';
import { loadConfig } from '../src/runtime/config.js';
import type { RunningServer } from '../src/runtime/server.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { startTestServer, TEST_AK, TEST_SK } from './helpers/server.js';

/** The official SDK's calls with a 120 s timeout instead of its 10 s default: a loaded CI machine is slow, not wrong. */
// (Its params type asks for an Action the SDK fills in itself, hence the cast.)
const withTimeout = <D, R>(api: (data: D, params: never) => R) => (data: D): R => api(data, { timeout: 120_000 } as never);

const REQ_KEY = 'jimeng_high_aes_general_v21_L';
const isCode = (code: number) => (e: unknown) => e instanceof CvError && e.code === code && e.httpStatus === 429;

async function signedFetch(server: RunningServer, action: string, body: object): Promise<{ status: number; code: number; data: Record<string, unknown> }> {
  const rawQuery = `Action=${action}&Version=2022-08-31`;
  const text = JSON.stringify(body);
  const { headers } = signRequest({ accessKeyId: TEST_AK, secretAccessKey: TEST_SK, region: 'cn-north-1', service: 'cv' }, { method: 'POST', path: '/', rawQuery, body: text }, new Date());
  const r = await fetch(`${server.url}/?${rawQuery}`, { method: 'POST', headers, body: text });
  const json = (await r.json()) as { code: number; data: Record<string, unknown> };
  return { status: r.status, code: json.code, data: json.data };
}

/** The shared contract of both limiters. */
async function checkLimiter(make: (cfg: { qps: number; burst?: number; concurrency: number }) => Limiter): Promise<void> {
  const conc = make({ qps: 0, concurrency: 2 });
  const a = await conc.acquire('k');
  const b = await conc.acquire('k');
  await assert.rejects(conc.acquire('k'), isCode(50430));
  assert.equal(await conc.inFlight('k'), 2);
  await (await conc.acquire('other')).release(); // keys are independent
  await a.release();
  await a.release(); // a second release must not free a second slot
  const c = await conc.acquire('k');
  await assert.rejects(conc.acquire('k'), isCode(50430));
  await b.release();
  await c.release();
  assert.equal(await conc.inFlight('k'), 0);
  await conc.close();

  // 3 per 1-second window (burst 3 at 3/s): the fourth is refused at once, the window then refills.
  const rate = make({ qps: 3, concurrency: 0 });
  for (let i = 0; i < 3; i++) await (await rate.acquire('r')).release();
  await assert.rejects(rate.acquire('r'), isCode(50429));
  await (await rate.acquire('r2')).release();
  await sleep(1100);
  await (await rate.acquire('r')).release();
  await rate.close();

  // A rate refusal frees the slot it took.
  const both = make({ qps: 1, burst: 1, concurrency: 1 });
  await (await both.acquire('x')).release();
  await assert.rejects(both.acquire('x'), isCode(50429));
  assert.equal(await both.inFlight('x'), 0);
  await both.close();
}

test('in-memory limiter: in-flight cap (50430), rate window (50429), independent keys', async () => {
  await checkLimiter((cfg) => new MemoryLimiter(cfg));
});

describe('limits in Redis', () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  const client = () => {
    const c = new Redis(redis.url);
    clients.push(c);
    return c;
  };
  let n = 0;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    await redis.stop();
  });

  test('the Redis limiter keeps the same contract', async () => {
    await checkLimiter((cfg) => new RedisLimiter(client(), cfg, { prefix: `t${n++}` }));
  });

  test('two gateways share the counts; a dead gateway’s slots expire', async () => {
    const cfg = { qps: 0, concurrency: 2 };
    const g1 = new RedisLimiter(client(), cfg, { prefix: 'shared', leaseMs: 400 });
    const g2 = new RedisLimiter(client(), cfg, { prefix: 'shared', leaseMs: 400 });
    const held = await g1.acquire('k');
    await sleep(600); // longer than the lease: g1 renews it while held
    const other = await g2.acquire('k');
    await assert.rejects(g1.acquire('k'), isCode(50430), 'g1 renewed its lease, so 2 are in flight');
    await assert.rejects(g2.acquire('k'), isCode(50430));
    await held.release();
    const again = await g2.acquire('k');
    // g2 dies holding two slots: nobody renews them, so they are free again after the lease.
    await g2.close();
    void other;
    void again;
    await assert.rejects(g1.acquire('k'), isCode(50430));
    await sleep(700);
    assert.equal(await g1.inFlight('k'), 0);
    await (await g1.acquire('k')).release();
    await g1.close();
  });

  test('two gateway apps on one Redis enforce one limit', async () => {
    const overrides = { queue: { redisUrl: redis.url, prefix: 'apps' }, limits: { qps: 0.1, burst: 3, concurrency: 1 } };
    const a = await startTestServer(overrides);
    const b = await startTestServer(overrides);
    const probe = new RedisLimiter(client(), { qps: 0, concurrency: 1 }, { prefix: 'apps' });
    try {
      const poll = { req_key: REQ_KEY, task_id: '7000000000000000001' };
      // A third party holds the key's only in-flight slot: both gateways refuse with 50430.
      const slot = await probe.acquire(TEST_AK);
      assert.equal((await signedFetch(a, 'CVSync2AsyncGetResult', poll)).code, 50430);
      assert.equal((await signedFetch(b, 'CVSync2AsyncGetResult', poll)).code, 50430);
      await slot.release();
      // 3 requests per 30 s window, counted across both gateways.
      const codes = [];
      for (const s of [a, b, a, b]) codes.push((await signedFetch(s, 'CVSync2AsyncGetResult', poll)).code);
      assert.deepEqual(codes, [10000, 10000, 10000, 50429]);
      const refused = await signedFetch(a, 'CVSync2AsyncGetResult', poll);
      assert.equal(refused.code, 50429);
      assert.equal(refused.status, 429);
    } finally {
      await probe.close();
      await Promise.all([a.close(), b.close()]);
    }
  });
});

test('default limits: a sequential client (official SDK) making 30 calls gets 30 answers and no 50429', async () => {
  const server = await startTestServer({ limits: loadConfig({}, {}).limits });
  try {
    const u = new URL(server.url);
    const svc = new Service({ serviceName: 'cv', region: 'cn-north-1', host: u.host, protocol: 'http:', defaultVersion: '2022-08-31', accessKeyId: TEST_AK, secretKey: TEST_SK });
    const cvProcess = withTimeout(svc.createJSONAPI('CVProcess'));
    const submit = withTimeout(svc.createJSONAPI('CVSync2AsyncSubmitTask'));
    const getResult = withTimeout(svc.createJSONAPI('CVSync2AsyncGetResult'));
    const codes: number[] = [];
    const sub = (await submit({ req_key: REQ_KEY, prompt: '一只猫', width: 256, height: 256, use_sr: false, seed: 3 })) as unknown as { code: number; data: { task_id: string } };
    codes.push(sub.code);
    for (let i = 0; i < 29; i++) {
      // Every third call makes a picture; the others poll the task back to back (faster than 1/s).
      const r = (i % 3 === 0
        ? await cvProcess({ req_key: REQ_KEY, prompt: `街景 ${i}`, width: 256, height: 256, use_sr: false, seed: i })
        : await getResult({ req_key: REQ_KEY, task_id: sub.data.task_id })) as unknown as { code: number };
      codes.push(r.code);
    }
    assert.equal(codes.length, 30);
    assert.deepEqual(codes.filter((c) => c !== 10000), [], JSON.stringify(codes));
  } finally {
    await server.close();
  }
});

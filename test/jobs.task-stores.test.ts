/**
 * The durable task stores: SQLite (embedded) and Redis (scaled) keep the same TaskStore contract, including
 * expiry; an embedded restart forgets no task and answers interrupted ones with 50500, never not_found.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseCVProcessRequest } from '../src/contract/cvprocess.js';
import { RedisTaskStore } from '../src/jobs/redis-task-store.js';
import { INTERRUPTED, SqliteTaskStore } from '../src/jobs/sqlite-task-store.js';
import type { JobRecord, TaskStore } from '../src/jobs/types.js';
import { newJob } from '../src/pipeline/runner.js';
import { LocalImageStore } from '../src/storage/local.js';
import { getResult, pollTask, rawPixels, REQ_KEY, submit } from './helpers/api.js';
import { useRedis } from './helpers/redis.js';
import { startTestServer } from './helpers/server.js';

const image = { width: 2, height: 2, data: new Uint8ClampedArray([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 9, 9, 9, 255]) };

function record(seed: number): JobRecord {
  const { image: _i, encoded: _e, ...rec } = newJob(parseCVProcessRequest({ req_key: REQ_KEY, prompt: '一只猫', seed }), `REQ${seed}`, 'tiny');
  return { ...rec, seed };
}

const tmp = (p: string) => mkdtemp(path.join(os.tmpdir(), p));

/** The contract every TaskStore keeps, with a real clock and a short TTL. */
async function checkStore(store: TaskStore, ttlMs: number): Promise<void> {
  await store.create('1', 'AK');
  assert.equal((await store.get('1', 'AK')).kind, 'found');
  assert.equal((await store.get('1', 'BK')).kind, 'not_found', 'another key does not see it');
  assert.equal((await store.get('nope', 'AK')).kind, 'not_found');
  await store.markGenerating('1');
  await store.progress('1', { requestId: 'REQ1', taskId: '1', stage: 'generate', step: 2, totalSteps: 4, elapsedMs: 10 });
  const gen = await store.get('1', 'AK');
  assert.ok(gen.kind === 'found' && gen.task.state === 'generating' && gen.task.progress?.step === 2);
  await store.finish('1', record(1), image);
  const done = await store.get('1', 'AK');
  assert.ok(done.kind === 'found' && done.task.state === 'done' && done.task.job?.seed === 1 && done.task.progress === undefined);
  assert.deepEqual([...(await store.picture('1'))!.data], [...image.data]);
  assert.equal(await store.cancel('1'), false, 'a finished task cannot be cancelled');

  // Cancel wins over a job that finishes later.
  await store.create('2', 'AK');
  assert.equal(await store.cancel('2'), true);
  await store.finish('2', record(2), image);
  await store.fail('2', 50500, 'late');
  const c = await store.get('2', 'AK');
  assert.ok(c.kind === 'found' && c.task.state === 'cancelled' && c.task.job === undefined && c.task.error === undefined);

  await store.create('3', 'AK');
  await store.fail('3', 50511, 'Post Img Risk Not Pass');
  const f = await store.get('3', 'AK');
  assert.ok(f.kind === 'found' && f.task.state === 'done' && f.task.error?.code === 50511);

  // Expiry: fetchable for ttl, then expired for as long again, then gone.
  await sleep(ttlMs + 100);
  assert.equal((await store.get('1', 'AK')).kind, 'expired');
  await sleep(ttlMs + 100);
  assert.equal((await store.get('1', 'AK')).kind, 'not_found');
}

test('SQLite task store keeps the TaskStore contract', async () => {
  const dir = await tmp('mengtu-sqlite-');
  const store = SqliteTaskStore.inDataDir(dir, new LocalImageStore(path.join(dir, 'tasks')), { ttlMs: 3000 });
  try {
    await checkStore(store, 3000);
    assert.equal(await store.sweep(), 3, 'the sweep forgets all three');
  } finally {
    await store.close();
  }
});

test('SQLite: a restart keeps finished tasks and answers interrupted ones with 50500', async () => {
  const dir = await tmp('mengtu-sqlite-');
  const pictures = new LocalImageStore(path.join(dir, 'tasks'));
  const first = SqliteTaskStore.inDataDir(dir, pictures, { ttlMs: 60_000 });
  await first.create('10', 'AK');
  await first.finish('10', record(10), image);
  await first.create('11', 'AK');
  await first.create('12', 'AK');
  await first.markGenerating('12');
  await first.close(); // the process dies here

  const second = SqliteTaskStore.inDataDir(dir, pictures, { ttlMs: 60_000 });
  try {
    assert.equal(second.interrupted, 2);
    const done = await second.get('10', 'AK');
    assert.ok(done.kind === 'found' && done.task.state === 'done' && done.task.job?.seed === 10);
    assert.deepEqual([...(await second.picture('10'))!.data], [...image.data]);
    for (const id of ['11', '12']) {
      const t = await second.get(id, 'AK');
      assert.ok(t.kind === 'found' && t.task.state === 'done', id);
      assert.deepEqual(t.task.error, INTERRUPTED);
    }
  } finally {
    await second.close();
  }
});

describe('Redis task store', () => {
  const redis = useRedis();

  test('keeps the TaskStore contract; finished records expire from Redis itself', async () => {
    const dir = await tmp('mengtu-redis-tasks-');
    const store = new RedisTaskStore(new LocalImageStore(dir), { redisUrl: redis.server().url, prefix: 'ts', ttlMs: 3000 });
    try {
      await checkStore(store, 3000);
      // Redis dropped the records on its own (twice the TTL after they finished): nothing to sweep.
      assert.deepEqual(await redis.client().keys('ts:task:*'), []);
    } finally {
      await store.close();
    }
  });
});

test('embedded restart: a finished task answers done with the same image, an interrupted one 50500', async () => {
  const dataDir = await tmp('mengtu-restart-');
  let server = await startTestServer({ server: { dataDir } });
  let id: string;
  let before: string;
  try {
    id = await submit(server.url, { prompt: 'lighthouse', width: 256, height: 256, use_sr: false, seed: 21 });
    const { json } = await pollTask(server.url, id);
    assert.equal(json.data?.status, 'done');
    before = json.data!.binary_data_base64[0]!;
  } finally {
    await server.close();
  }
  // A task the dead process had queued (written as the server would have).
  const crashed = SqliteTaskStore.inDataDir(dataDir, new LocalImageStore(path.join(dataDir, 'tasks')), { ttlMs: 60_000 });
  await crashed.create('7000000000000000042', (await import('./helpers/server.js')).TEST_AK);
  await crashed.close();

  server = await startTestServer({ server: { dataDir } });
  try {
    const again = await getResult(server.url, id);
    assert.equal(again.code, 10000);
    assert.equal(again.data?.status, 'done');
    // Delivery re-encodes (the AI label carries a time), so compare pixels.
    assert.ok((await rawPixels(again.data!.binary_data_base64[0]!)).equals(await rawPixels(before)), 'the same picture after the restart');
    const lost = await getResult(server.url, '7000000000000000042');
    assert.equal(lost.code, INTERRUPTED.code, JSON.stringify(lost));
  } finally {
    await server.close();
  }
});

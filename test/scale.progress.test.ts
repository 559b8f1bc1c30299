/**
 * Progress streams in the scaled mode, on real parts: redis-server on loopback, two gateways (no engine) and
 * one worker (in this process) on the tiny model. A task submitted on one gateway is streamed from the other;
 * a stream that opens late gets the latest state and last preview from the worker's replay in Redis; a
 * CVProcess call with a progress_id on one gateway is followed from the other, to its end or its error.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { MengtuClient } from '../src/client/index.js';
import { loadConfig } from '../src/runtime/config.js';
import type { RunningServer } from '../src/runtime/server.js';
import { startWorker, type RunningWorker } from '../src/runtime/worker.js';
import { collect, holdPictureWrites, openStream, untilDone, untilStage } from './helpers/progress.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { startTestServer, TEST_AK, TEST_SK, testHome } from './helpers/server.js';

const PREFIX = 'mengtu-progress-test';
const body = (prompt: string, seed: number) => ({ prompt, seed, width: 256, height: 256, use_sr: false, use_pre_llm: false });

describe('progress streams across gateways (BullMQ on Redis)', { timeout: 600_000 }, () => {
  let redis: TestRedis;
  let gwA: RunningServer;
  let gwB: RunningServer;
  let worker: RunningWorker;
  let clientA: MengtuClient;
  let clientB: MengtuClient;
  let shared: string | undefined;

  before(async () => {
    redis = await startRedis();
    await testHome();
    shared = await mkdtemp(path.join(os.tmpdir(), 'mengtu-shared-'));
    const queue = { redisUrl: redis.url, prefix: PREFIX };
    const gateway = (): Promise<RunningServer> => startTestServer({ queue, server: { dataDir: shared } });
    [gwA, gwB] = await Promise.all([gateway(), gateway()]);
    worker = await startWorker(loadConfig({ queue, engine: { model: 'tiny', threads: 1 }, server: { dataDir: shared, logLevel: 'silent' } }, {}), pino({ level: 'silent' }));
    clientA = new MengtuClient({ endpoint: gwA.url, accessKeyId: TEST_AK, secretAccessKey: TEST_SK, retries: 0 });
    clientB = new MengtuClient({ endpoint: gwB.url, accessKeyId: TEST_AK, secretAccessKey: TEST_SK, retries: 0 });
  });

  after(async () => {
    await worker?.close();
    await Promise.allSettled([gwA?.close(), gwB?.close()]);
    await redis?.stop();
    if (shared) await rm(shared, { recursive: true, force: true });
  });

  it('a task submitted on one gateway streams from the other: steps with a preview, then done', async () => {
    const id = await clientA.submitTask({ ...body('a lighthouse at dusk', 1), steps: 4 });
    const events = await collect(await openStream(gwB.url, id));
    const kinds = events.map((e) => e.event);
    assert.equal(kinds.at(-1), 'done', kinds.join(' '));
    assert.equal((events.at(-1)!.data as { data: { status: string } }).data.status, 'done');
    assert.ok(kinds.includes('progress'), kinds.join(' '));
  });

  it('a stream opened late gets the latest state and the last preview from the worker, on any gateway', async () => {
    const hold = holdPictureWrites(worker.runtime.tasks);
    try {
      const id = await clientA.submitTask({ ...body('a harbour crane', 2), steps: 4 });
      await untilStage(clientB, id, 'storing');
      const first = await collect(await openStream(gwB.url, id), 2);
      assert.deepEqual(first.map((e) => e.event), ['progress', 'preview']);
      assert.equal(first[0]!.data.stage, 'storing');
      assert.match(first[1]!.data.image as string, /^data:image\/jpeg;base64,\/9j\//);
      hold.release();
      await untilDone(clientA, id);
    } finally {
      hold.restore();
    }
  });

  it('a CVProcess call on one gateway, followed by its progress_id from the other: queued → steps → done', async () => {
    const id = `call-${randomUUID()}`;
    const events = collect(await openStream(gwB.url, id));
    const answer = await clientA.cvProcess({ ...body('a paper boat', 3), steps: 4, progress_id: id });
    assert.equal(answer.code, 10000);
    const seen = await events;
    const kinds = seen.map((e) => e.event);
    assert.equal(kinds[0], 'queued', kinds.join(' '));
    assert.ok(seen.some((e) => e.event === 'progress' && e.data.stage === 'generate' && e.data.step === 4), kinds.join(' '));
    assert.ok(seen.some((e) => e.event === 'progress' && e.data.stage === 'encode'), 'the answering gateway\'s delivery stages');
    const done = seen.at(-1)!;
    assert.equal(done.event, 'done');
    assert.equal((done.data as { data: { status: string } }).data.status, 'done');
  });

  it('a task submitted on one gateway with a progress_id, streamed from the other from before the submit', async () => {
    const id = `task-${randomUUID()}`;
    const events = collect(await openStream(gwB.url, id));
    await clientA.submitTask({ ...body('a lighthouse keeper', 5), steps: 4, progress_id: id });
    const seen = await events;
    const kinds = seen.map((e) => e.event);
    assert.equal(kinds[0], 'queued', kinds.join(' '));
    assert.ok(seen.some((e) => e.event === 'progress' && e.data.stage === 'generate' && e.data.step === 4), kinds.join(' '));
    const done = seen.at(-1)!.data as { code: number; data: { status: string; binary_data_base64: string[] } };
    assert.deepEqual([seen.at(-1)!.event, done.data.status, done.data.binary_data_base64.length], ['done', 'done', 1]);
  });

  it('a CVProcess call refused after it was queued (50412) ends the other gateway\'s stream with the error envelope', async () => {
    const id = `call-${randomUUID()}`;
    const events = collect(await openStream(gwB.url, id));
    await assert.rejects(clientA.cvProcess({ ...body('a poster of Ｐ Ｏ Ｒ Ｎ stars', 4), progress_id: id }), (e: { code?: number }) => e.code === 50412);
    const seen = await events;
    assert.equal(seen[0]!.event, 'queued', seen.map((e) => e.event).join(' '));
    assert.deepEqual([seen.at(-1)!.event, seen.at(-1)!.data.code], ['error', 50412]);
    // A stream opened after the call answered gets its end at once, on either gateway.
    const late = await collect(await openStream(gwA.url, id));
    assert.deepEqual(late.map((e) => [e.event, e.data.code]), [['error', 50412]]);
  });
});

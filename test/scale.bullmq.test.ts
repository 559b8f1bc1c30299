/**
 * The scaled mode on real parts: redis-server on loopback, two gateways (`startServer` with Redis: no engine,
 * no task state) and `mengtu worker` child processes on the tiny model.
 *  - CVProcess and async tasks on both gateways, GetResult answered by the gateway that did not take the
 *    submit, both workers taking jobs;
 *  - SIGKILL of the worker running a task (GetResult on the other gateway reports its progress until then):
 *    another worker finishes it (BullMQ's stalled-job recovery) and the task answers done with the same seed's
 *    pixels;
 *  - a gateway restart loses no task;
 *  - CVCancelTask of a queued and of a running task;
 *  - SIGTERM on a worker: its running job finishes, it takes no new one, it exits 0;
 *  - image-to-image: the input picture reaches a worker with the job, is screened there (50411) and drawn from;
 *  - lock renewal: no job but the killed worker's stalls (jobs run for seconds with a 10 s lock renewed
 *    every 5 s, so a blocked event loop would show as stalls).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { ensureTinyModel } from '../src/engine/index.js';
import { bullJobId } from '../src/jobs/bullmq.js';
import { loadConfig } from '../src/runtime/config.js';
import type { RunningServer } from '../src/runtime/server.js';
import { call, cancel, getResult, pollTask, Q, rawPixels, REQ_KEY, submit } from './helpers/api.js';
import { gradientPng } from './helpers/pictures.js';
import { freePort, startRedis, type TestRedis } from './helpers/redis.js';
import { startTestServer, testHome } from './helpers/server.js';
import { spawnWorker, type WorkerProc } from './helpers/worker.js';

const PREFIX = 'mengtu-test';
/** The default queue name, as gateways and workers read it. */
const QUEUE_NAME = loadConfig({}, {}).queue.name;

describe('scaled mode: gateways and workers over BullMQ on Redis', { timeout: 900_000 }, () => {
  let redis: TestRedis;
  let shared: string;
  let home: string;
  let gwA: RunningServer;
  let gwB: RunningServer;
  const workers: WorkerProc[] = [];
  let queue: Queue;
  let events: QueueEvents;
  const stalled: string[] = [];
  let conns: Redis[] = [];

  const startGateway = (): Promise<RunningServer> => startTestServer({ queue: { redisUrl: redis.url, prefix: PREFIX }, server: { dataDir: shared } });
  const startWorker = async (): Promise<WorkerProc> => {
    const w = spawnWorker({ redisUrl: redis.url, dataDir: shared, home, prefix: PREFIX, statusPort: await freePort(), env: { MENGTU_JOB_LOCK_MS: '10000', MENGTU_STALLED_CHECK_MS: '1000' } });
    workers.push(w);
    await w.ready;
    return w;
  };
  /** The pid of the worker process running (or that ran) a job, from BullMQ's processedBy. */
  const workerPidOf = async (taskId: string): Promise<number | null> => {
    const job = await Job.fromId(queue, bullJobId(taskId));
    const by = job?.processedBy;
    return by ? Number(by.split(':').at(-2)) : null;
  };

  before(async () => {
    redis = await startRedis();
    home = await testHome();
    await ensureTinyModel();
    shared = await mkdtemp(path.join(os.tmpdir(), 'mengtu-shared-'));
    conns = [new Redis(redis.url, { maxRetriesPerRequest: null }), new Redis(redis.url, { maxRetriesPerRequest: null })];
    queue = new Queue(QUEUE_NAME, { connection: conns[0]!, prefix: PREFIX });
    events = new QueueEvents(QUEUE_NAME, { connection: conns[1]!, prefix: PREFIX });
    events.on('stalled', ({ jobId }) => stalled.push(jobId));
    await events.waitUntilReady();
    [gwA, gwB] = await Promise.all([startGateway(), startGateway()]);
    await Promise.all([startWorker(), startWorker()]);
  });

  after(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await Promise.allSettled([gwA?.close(), gwB?.close()]);
    await events?.close();
    await queue?.close();
    for (const c of conns) c.disconnect();
    await redis?.stop();
  });

  test('gateways hold no engine and are ready once a worker has a heartbeat', async () => {
    assert.equal(gwA.runtime.role, 'gateway');
    assert.equal(gwA.runtime.host.state, 'idle');
    const ready = await fetch(`${gwA.url}/readyz`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { workers: number };
    assert.ok(body.workers >= 2, JSON.stringify(body));
  });

  test('CVProcess on both gateways; async tasks fetched from the other gateway; both workers take jobs', async () => {
    const body = { prompt: 'a lighthouse at dawn', seed: 42, width: 256, height: 256, use_sr: false };
    const [s1, s2] = await Promise.all([call(gwA.url, Q.sync, { req_key: REQ_KEY, ...body }), call(gwB.url, Q.sync, { req_key: REQ_KEY, ...body })]);
    assert.equal(s1.json.code, 10000, JSON.stringify(s1.json).slice(0, 300));
    assert.equal(s2.json.code, 10000);
    assert.ok((await rawPixels(s1.json.data!.binary_data_base64[0]!)).equals(await rawPixels(s2.json.data!.binary_data_base64[0]!)));
    assert.equal(s1.json.data!.infer_ctx!.params.seed, 42);

    const ids = await Promise.all([0, 1, 2, 3].map((i) => submit(i % 2 ? gwB.url : gwA.url, { prompt: 'a red kite over hills', seed: 100 + i, width: 256, height: 256, use_sr: false })));
    const results = await Promise.all(ids.map((id, i) => pollTask(i % 2 ? gwA.url : gwB.url, id)));
    for (const r of results) assert.equal(r.json.data!.status, 'done', r.seen.join(' → '));
    // Same seed, same picture: the async task (seed 42) equals CVProcess.
    const again = await submit(gwA.url, body);
    const fetched = await pollTask(gwB.url, again);
    assert.ok((await rawPixels(fetched.json.data!.binary_data_base64[0]!)).equals(await rawPixels(s1.json.data!.binary_data_base64[0]!)));
    const pids = new Set(await Promise.all([...ids, again].map((id) => workerPidOf(id))));
    assert.equal(pids.size, 2, `jobs ran on ${[...pids].join(', ')}`);
  });

  test('image-to-image: the picture travels with the job to a worker, which screens it (50411) and draws from it', async () => {
    const png = await gradientPng(320, 240);
    const id = await submit(gwA.url, { req_key: 'jimeng_i2i_v30', prompt: 'a watercolor landscape', seed: 5, binary_data_base64: [png.toString('base64')] });
    const done = await pollTask(gwB.url, id);
    assert.equal(done.json.data?.status, 'done', `${done.seen.join(' → ')} ${done.json.message}`);
    const meta = await sharp(Buffer.from(done.json.data!.binary_data_base64[0]!, 'base64')).metadata();
    assert.deepEqual([meta.width, meta.height], [320, 240]);
    const flagged = (await readFile(path.join(import.meta.dirname, 'fixtures', 'image-risk-flagged.png'))).toString('base64');
    const risky = await submit(gwB.url, { req_key: 'jimeng_i2i_v30', prompt: 'a portrait', binary_data_base64: [flagged] });
    assert.equal((await pollTask(gwA.url, risky)).json.code, 50411);
  });

  test('SIGKILL of the worker running a task: another worker finishes it with the same pixels', async () => {
    const body = { prompt: 'a harbour at night', seed: 77, width: 1024, height: 1024, use_sr: false };
    const id = await submit(gwA.url, body);
    await pollTask(gwB.url, id, { until: (e) => e.data?.status === 'done' || (e.data?.status === 'generating' && e.data.progress !== undefined) });
    const pid = await workerPidOf(id);
    assert.ok(pid, 'a worker took the job');
    const victim = workers.find((w) => w.pid === pid)!;
    const mid = await getResult(gwB.url, id);
    assert.equal(mid.data!.status, 'generating', 'killed mid-job');
    // GetResult on the gateway that did not take the submit reports the worker's progress (extension field).
    const p = mid.data!.progress!;
    assert.ok(typeof p.stage === 'string' && p.step >= 0 && p.step <= p.total_steps && p.elapsed_ms >= 0, JSON.stringify(p));
    victim.child.kill('SIGKILL');
    await victim.exited;
    const t0 = Date.now();
    const done = await pollTask(gwB.url, id);
    assert.equal(done.json.data!.status, 'done', done.seen.join(' → '));
    const survivor = await workerPidOf(id);
    assert.notEqual(survivor, pid);
    assert.ok(stalled.includes(bullJobId(id)), 'BullMQ saw the job stall');
    // The surviving worker found the dead one's job and put it back: its /metrics says so.
    const metrics = await (await fetch(`${workers.find((w) => w.pid === survivor)!.statusUrl}/metrics`)).text();
    assert.match(metrics, /^mengtu_jobs_stalled_total 1$/m);
    process.stdout.write(`# recovered after SIGKILL in ${Date.now() - t0} ms\n`);
    // The same seed's pixels, made again from scratch by a CVProcess call.
    const sync = await call(gwA.url, Q.sync, { req_key: REQ_KEY, ...body });
    assert.ok((await rawPixels(sync.json.data!.binary_data_base64[0]!)).equals(await rawPixels(done.json.data!.binary_data_base64[0]!)));
  });

  test('a gateway restart loses no task', async () => {
    const id = await submit(gwA.url, { prompt: 'a quiet garden', seed: 8, width: 256, height: 256, use_sr: false });
    await gwA.close();
    gwA = await startGateway();
    const done = await pollTask(gwA.url, id);
    assert.equal(done.json.data!.status, 'done');
  });

  test('cancel: a queued task is removed, a running one stops; both answer cancelled', async () => {
    // One worker is left: A runs, B waits behind it.
    const a = await submit(gwA.url, { prompt: 'a busy market street', seed: 11, width: 1024, height: 1024, use_sr: false });
    const b = await submit(gwA.url, { prompt: 'a blue door', seed: 12, width: 256, height: 256, use_sr: false });
    await pollTask(gwB.url, a, { until: (e) => e.data?.status !== 'in_queue' });
    assert.equal((await getResult(gwB.url, b)).data!.status, 'in_queue');
    assert.deepEqual((await cancel(gwB.url, b)).data!.status, 'cancelled');
    assert.equal(await (await Job.fromId(queue, bullJobId(b)))?.getState(), undefined, 'the queued job is gone from the queue');
    assert.deepEqual((await cancel(gwB.url, a)).data!.status, 'cancelled');
    // The running job fails as cancelled at its next step; the task stays cancelled.
    const job = (await Job.fromId(queue, bullJobId(a)))!;
    for (let i = 0; i < 600 && !['failed', 'completed'].includes(await job.getState()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await job.getState(), 'failed');
    assert.equal((await getResult(gwA.url, a)).data!.status, 'cancelled');
    assert.equal((await getResult(gwA.url, b)).data!.status, 'cancelled');
  });

  test('SIGTERM on a worker: its running job finishes, it takes no new one, it exits 0', async () => {
    const [only] = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    assert.ok(only);
    const a = await submit(gwA.url, { prompt: 'a snowy pass', seed: 21, width: 1024, height: 1024, use_sr: false });
    const b = await submit(gwA.url, { prompt: 'a small boat', seed: 22, width: 256, height: 256, use_sr: false });
    await pollTask(gwB.url, a, { until: (e) => e.data?.status !== 'in_queue' });
    only.child.kill('SIGTERM');
    assert.equal(await only.exited, 0);
    assert.equal((await getResult(gwB.url, a)).data!.status, 'done');
    assert.equal((await getResult(gwB.url, b)).data!.status, 'in_queue');
    // A new worker takes what was left.
    await startWorker();
    assert.equal((await pollTask(gwA.url, b)).json.data!.status, 'done');
  });

  test('lock renewal: only the killed worker\'s job stalled although jobs ran for seconds', () => {
    assert.equal(new Set(stalled).size, 1, `stalled: ${stalled.join(', ')}`);
  });
});

/**
 * The scaled queue's retry policy on a real Redis (issue #11, item 3): a job whose attempt fails with an
 * internal error (50500/50501) is tried again after an exponential backoff and its task ends done; one that
 * keeps failing ends with the last attempt's error; a business refusal (50412, 50511) is the task's answer at
 * once, never retried. The gateway's BullJobQueue enqueues, a real BullMQ worker (createBullWorker) runs the
 * jobs; its processor is scripted per task, because the test is about what the queue does with each outcome.
 * The worker's /metrics series count what happened, a cancelled job as cancelled. A full queue refuses a
 * submit at once (50430) rather than piling work up; the waiting jobs are the list an autoscaler reads.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { parseCVProcessRequest } from '../src/contract/cvprocess.js';
import { CvError, type CvErrorCode } from '../src/contract/errors.js';
import { createMetrics, observeBullWorker, type Metrics } from '../src/gateway/metrics.js';
import { BullJobQueue, JOB_ATTEMPTS } from '../src/jobs/bullmq.js';
import { createBullWorker, type RunningBullWorker } from '../src/jobs/bullmq-worker.js';
import type { JobProcessor } from '../src/jobs/processor.js';
import { RedisTaskStore } from '../src/jobs/redis-task-store.js';
import type { TaskRecord } from '../src/jobs/types.js';
import { newJob } from '../src/pipeline/runner.js';
import { LocalImageStore } from '../src/storage/local.js';
import { REQ_KEY } from './helpers/api.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

const AK = 'AKretry';
const PREFIX = 'retry';
const QUEUE = 'generate';
/** BullMQ's first backoff (exponential: 1 s, then 2 s). */
const FIRST_BACKOFF_MS = 1000;

/** What each attempt of a task does: throw this code, make the picture (null), or run until aborted ('hold'). */
type Attempt = CvErrorCode | null | 'hold';
const script = new Map<string, Attempt[]>();
/** When each attempt of a task started (epoch ms). */
const starts = new Map<string, number[]>();
const picture = { width: 2, height: 2, data: new Uint8ClampedArray([200, 10, 10, 255, 10, 200, 10, 255, 10, 10, 200, 255, 90, 90, 90, 255]) };

const processor: JobProcessor = async (payload, ctl) => {
  const id = payload.taskId!;
  const list = starts.get(id) ?? [];
  list.push(Date.now());
  starts.set(id, list);
  const n = list.length;
  const outcome = script.get(id)?.[n - 1] ?? null;
  if (outcome === 'hold') {
    const signal = ctl.signal!;
    await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
  }
  if (outcome !== null && outcome !== 'hold') throw new CvError(outcome, undefined, { logDetail: `scripted attempt ${n}` });
  return { ...newJob(payload.request, payload.requestId, 'tiny'), image: picture };
};

let redis: TestRedis;
let tasks: RedisTaskStore;
let queue: BullJobQueue;
/** The same queue as seen by a gateway that lets one job wait. */
let small: BullJobQueue;
let worker: RunningBullWorker;
let metrics: Metrics;

before(async () => {
  redis = await startRedis();
  const log = pino({ level: 'silent' });
  const pictures = new LocalImageStore(await mkdtemp(path.join(os.tmpdir(), 'mengtu-retry-')));
  tasks = new RedisTaskStore(pictures, { redisUrl: redis.url, prefix: PREFIX, ttlMs: 600_000 });
  const common = { redisUrl: redis.url, queueName: QUEUE, prefix: PREFIX, tasks, pictures, log };
  worker = createBullWorker({ ...common, process: processor, concurrency: 1, model: 'tiny' });
  metrics = createMetrics();
  observeBullWorker(worker.worker, metrics);
  await worker.start();
  queue = new BullJobQueue({ ...common, maxQueue: 100 });
  small = new BullJobQueue({ ...common, maxQueue: 1 });
});

after(async () => {
  await worker?.close();
  await queue?.close();
  await small?.close();
  await tasks?.close();
  await redis?.stop();
});

async function startTask(id: string, attempts: Attempt[], on = queue): Promise<void> {
  script.set(id, attempts);
  await tasks.create(id, AK);
  const request = parseCVProcessRequest({ req_key: REQ_KEY, prompt: 'a kite', seed: 1 });
  await on.enqueue({ request, requestId: `REQ${id}`, accessKey: AK, taskId: id, model: 'tiny' });
}

async function settled(id: string, state: 'done' | 'cancelled' = 'done'): Promise<TaskRecord> {
  for (let i = 0; i < 600; i++) {
    const found = await tasks.get(id, AK);
    if (found.kind === 'found' && found.task.state === state) return found.task;
    await sleep(50);
  }
  assert.fail(`task ${id} did not reach ${state}`);
}

async function runTask(id: string, attempts: Attempt[]): Promise<TaskRecord> {
  await startTask(id, attempts);
  return settled(id);
}

const metric = async (name: string): Promise<number> => {
  const text = await metrics.registry.metrics();
  return Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
};

test('internal failures (50501, 50500) are retried with backoff and the task ends done', async () => {
  const task = await runTask('9100000000000000001', [50501, 50500, null]);
  assert.equal(task.error, undefined);
  assert.equal(task.job?.seed, 1);
  assert.deepEqual([...(await tasks.picture(task.id))!.data], [...picture.data]);
  const at = starts.get(task.id)!;
  assert.equal(at.length, 3, 'three attempts');
  // Exponential backoff: each wait at least the one before it doubled (1 s, 2 s).
  assert.ok(at[1]! - at[0]! >= FIRST_BACKOFF_MS, `second attempt ${at[1]! - at[0]!} ms after the first`);
  assert.ok(at[2]! - at[1]! >= 2 * FIRST_BACKOFF_MS, `third attempt ${at[2]! - at[1]!} ms after the second`);
});

test('an internal failure on every attempt ends the task with it after the last attempt', async () => {
  const task = await runTask('9100000000000000002', Array<CvErrorCode>(JOB_ATTEMPTS).fill(50501));
  assert.equal(task.error?.code, 50501);
  assert.equal(starts.get(task.id)!.length, JOB_ATTEMPTS);
});

test('business refusals (50412, 50511) are the answer at once: one attempt, no retry', async () => {
  for (const [id, code] of [['9100000000000000003', 50412], ['9100000000000000004', 50511]] as const) {
    const task = await runTask(id, [code, null]);
    assert.equal(task.error?.code, code);
    assert.equal(starts.get(id)!.length, 1, `${code} was tried again`);
  }
});

test('a running job cancelled (as CVCancelTask does) stops, is not retried, and counts as cancelled', async () => {
  const id = '9100000000000000005';
  await startTask(id, ['hold', null]);
  while (!starts.has(id)) await sleep(20);
  await tasks.cancel(id);
  assert.equal(await queue.cancel(id), 'aborting');
  await settled(id, 'cancelled');
  for (let i = 0; i < 200 && (await metric('mengtu_jobs_total{outcome="cancelled"}')) !== 1; i++) await sleep(50);
  assert.equal(await metric('mengtu_jobs_total{outcome="cancelled"}'), 1);
  assert.equal(starts.get(id)!.length, 1);
});

test('the worker counts retries and outcomes', async () => {
  // 2 retries of the first task, JOB_ATTEMPTS - 1 of the second; the refusals none.
  assert.equal(await metric('mengtu_jobs_retried_total'), 2 + (JOB_ATTEMPTS - 1));
  assert.equal(await metric('mengtu_jobs_total{outcome="done"}'), 1);
  assert.equal(await metric('mengtu_jobs_total{outcome="failed"}'), 1);
  assert.equal(await metric('mengtu_jobs_total{outcome="refused"}'), 2);
});

test('a full queue refuses a submit at once with 50430 and adds nothing', async () => {
  // The worker (concurrency 1) holds one job, one more waits: the queue of `small` is full.
  const [held, waiting, refused] = ['9100000000000000006', '9100000000000000007', '9100000000000000008'];
  await startTask(held, ['hold'], small);
  while (!starts.has(held)) await sleep(20);
  await startTask(waiting, [null], small);
  await assert.rejects(startTask(refused, [null], small), (e: unknown) => e instanceof CvError && e.code === 50430);
  // What an autoscaler reads (docs/deployment.md, KEDA's Redis scaler): the waiting jobs, as one list.
  const r = new Redis(redis.url);
  assert.equal(await r.llen(`${PREFIX}:${QUEUE}:wait`), 1);
  r.disconnect();
  // What waited runs once the held job is cancelled; the refused one never reaches the worker.
  await tasks.cancel(held);
  await queue.cancel(held);
  await settled(waiting);
  assert.equal(starts.has(refused), false);
});

/**
 * Scale-out benchmark on loopback with the tiny model: what BullMQ on Redis costs per task against the
 * in-process queue, throughput with 1 and 2 `mengtu worker` processes (one engine thread each), and how long
 * a task takes to finish after the worker running it is SIGKILLed.
 *   npm run bench:scale      env: BENCH_REQUESTS (sequential calls, default 20), BENCH_TASKS (per
 *                            throughput run, default 16), BENCH_SIZE (default 512)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { signRequest } from '../src/client/index.js';
import { ensureTinyModel } from '../src/engine/index.js';
import { loadConfig, type Config } from '../src/runtime/config.js';
import { startServer, type RunningServer } from '../src/runtime/server.js';
import { startRedis } from '../test/helpers/redis.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const AK = 'AKLTbenchscale';
const SK = 'bench-scale-secret-0123456789';
const REQ_KEY = 'jimeng_high_aes_general_v21_L';
const PREFIX = 'bench';
// Short lock and frequent stall checks, as a deployment that wants fast recovery would set them.
const LOCK_MS = 10_000;
const STALLED_MS = 1_000;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  code: number;
  requestId: string;
  data: { task_id?: string; status?: string } | null;
}

async function post(server: RunningServer, action: string, payload: object): Promise<Answer> {
  const rawQuery = `Action=${action}&Version=2022-08-31`;
  const body = JSON.stringify(payload);
  const { headers } = signRequest({ accessKeyId: AK, secretAccessKey: SK, region: 'cn-north-1', service: 'cv' }, { method: 'POST', path: '/', rawQuery, body }, new Date());
  const json = (await (await fetch(`${server.url}/?${rawQuery}`, { method: 'POST', headers, body })).json()) as {
    code: number;
    request_id?: string;
    data: Answer['data'];
    ResponseMetadata?: { RequestId?: string };
  };
  return { code: json.code, requestId: json.request_id ?? json.ResponseMetadata?.RequestId ?? '', data: json.data };
}

function baseConfig(dataDir: string, redisUrl?: string): Config {
  return loadConfig(
    {
      server: { port: 0, dataDir, logLevel: 'silent' },
      engine: { model: 'tiny', threads: 1, maxQueue: 1000 },
      limits: { qps: 0, concurrency: 0 },
      auth: { accessKeys: `${AK}:${SK}` },
      queue: { redisUrl, prefix: PREFIX },
    },
    {},
  );
}

async function untilReady(server: RunningServer): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await fetch(`${server.url}/readyz`)).status === 200) return;
    await sleep(200);
  }
  throw new Error('server never became ready');
}

interface WorkerProc {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<unknown>;
}

function spawnWorker(redisUrl: string, dataDir: string): WorkerProc {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker', '--redis', redisUrl, '--model', 'tiny', '--data-dir', dataDir, '--threads', '1'], {
    cwd: root,
    env: { ...process.env, MENGTU_LOG_LEVEL: 'info', MENGTU_REDIS_PREFIX: PREFIX, MENGTU_JOB_LOCK_MS: String(LOCK_MS), MENGTU_STALLED_CHECK_MS: String(STALLED_MS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  const ready = new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => {
      buf += c;
      if (buf.includes('"mengtu worker ready"')) resolve();
      if (buf.length > 1 << 16) buf = buf.slice(-1024);
    });
    void exited.then(() => reject(new Error('worker exited before it was ready')));
  });
  return { child, ready, exited };
}

async function stopWorker(w: WorkerProc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill(signal);
  await w.exited;
}

/** N calls one after another; returns latencies and, per call, its request id and the receive time. */
async function sequential(server: RunningServer, n: number, size: number): Promise<Array<{ ms: number; requestId: string; receivedAt: number }>> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const a = await post(server, 'CVProcess', { req_key: REQ_KEY, prompt: `a lighthouse ${i}`, seed: i, width: size, height: size, use_sr: false });
    const receivedAt = Date.now();
    if (a.code !== 10000) throw new Error(`CVProcess failed: ${a.code}`);
    out.push({ ms: performance.now() - t0, requestId: a.requestId, receivedAt });
  }
  return out;
}

/** Submits `n` tasks at once and polls them until all are done; returns tasks per second. */
async function throughput(server: RunningServer, n: number, size: number, seed0: number): Promise<number> {
  const t0 = performance.now();
  const ids = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const a = await post(server, 'CVSync2AsyncSubmitTask', { req_key: REQ_KEY, prompt: `harbour ${seed0 + i}`, seed: seed0 + i, width: size, height: size, use_sr: false });
      if (a.code !== 10000 || !a.data?.task_id) throw new Error(`submit failed: ${a.code}`);
      return a.data.task_id;
    }),
  );
  const pending = new Set(ids);
  while (pending.size > 0) {
    for (const id of [...pending]) {
      const r = await post(server, 'CVSync2AsyncGetResult', { req_key: REQ_KEY, task_id: id });
      if (r.code !== 10000) throw new Error(`task ${id} failed: ${r.code}`);
      if (r.data?.status === 'done') pending.delete(id);
    }
    if (pending.size > 0) await sleep(50);
  }
  return n / ((performance.now() - t0) / 1000);
}

export interface ScaleBenchResult {
  inProcessP50Ms: number;
  redisP50Ms: number;
  enqueueToStartP50Ms: number;
  resultToReplyP50Ms: number;
  tasksPerSecond1: number;
  tasksPerSecond2: number;
  recoveryMs: number;
  jobMs: number;
}

export async function runScaleBench(opts: { requests?: number; tasks?: number; size?: number; log?: (s: string) => void } = {}): Promise<ScaleBenchResult> {
  const n = opts.requests ?? Number(process.env.BENCH_REQUESTS ?? 20);
  const m = opts.tasks ?? Number(process.env.BENCH_TASKS ?? 16);
  const size = opts.size ?? Number(process.env.BENCH_SIZE ?? 512);
  const log = opts.log ?? ((s: string) => process.stdout.write(s + '\n'));
  process.env.MENGTU_HOME ??= await mkdtemp(path.join(os.tmpdir(), 'mengtu-bench-home-'));
  await ensureTinyModel(); // once, before several processes would build it
  const silent = pino({ level: 'silent' });

  // In-process queue: the embedded server.
  const embedded = await startServer(baseConfig(await mkdtemp(path.join(os.tmpdir(), 'mengtu-bench-emb-'))), silent);
  await untilReady(embedded);
  await sequential(embedded, 3, size);
  const inProc = await sequential(embedded, n, size);
  await embedded.close();

  const redis = await startRedis();
  const shared = await mkdtemp(path.join(os.tmpdir(), 'mengtu-bench-shared-'));
  // Errors are logged (to stderr): a failed call in a bench should say why.
  const gateway = await startServer(baseConfig(shared, redis.url), pino({ level: 'error' }, pino.destination(2)));
  const workers = [spawnWorker(redis.url, shared)];
  const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(loadConfig({}, {}).queue.name, { connection: conn, prefix: PREFIX });
  try {
    await workers[0]!.ready;
    await untilReady(gateway);
    await sequential(gateway, 3, size);
    const viaRedis = await sequential(gateway, n, size);
    const waits: number[] = [];
    const replies: number[] = [];
    for (const c of viaRedis) {
      const job = await Job.fromId(queue, c.requestId);
      if (!job?.processedOn || !job.finishedOn) continue;
      waits.push(job.processedOn - job.timestamp);
      replies.push(c.receivedAt - job.finishedOn);
    }
    if (waits.length === 0) throw new Error('no job timestamps found (job ids are not the request ids?)');

    const tps1 = await throughput(gateway, m, size, 1000);
    workers.push(spawnWorker(redis.url, shared));
    await workers[1]!.ready;
    const tps2 = await throughput(gateway, m, size, 2000);

    // Recovery: a long task, its worker SIGKILLed once it runs; the other worker takes it over.
    const big = await post(gateway, 'CVSync2AsyncSubmitTask', { req_key: REQ_KEY, prompt: 'night market', seed: 77, width: 1024, height: 1024, use_sr: true });
    const taskId = big.data!.task_id!;
    let job: Job | undefined;
    for (;;) {
      job = await Job.fromId(queue, taskId);
      if (job?.processedBy) break;
      await sleep(20);
    }
    const pid = Number(/:(\d+):/.exec(job.processedBy!)?.[1]);
    const victim = workers.find((w) => w.child.pid === pid);
    if (!victim) throw new Error(`no worker with pid ${pid} (processedBy ${job.processedBy})`);
    const killedAt = performance.now();
    await stopWorker(victim, 'SIGKILL');
    for (;;) {
      const r = await post(gateway, 'CVSync2AsyncGetResult', { req_key: REQ_KEY, task_id: taskId });
      if (r.data?.status === 'done') break;
      if (r.code !== 10000) throw new Error(`recovered task failed: ${r.code}`);
      await sleep(50);
    }
    const recoveryMs = performance.now() - killedAt;
    const done = await Job.fromId(queue, taskId);
    const jobMs = done?.finishedOn && done.processedOn ? done.finishedOn - done.processedOn : NaN;

    const result: ScaleBenchResult = {
      inProcessP50Ms: pct(inProc.map((c) => c.ms), 50),
      redisP50Ms: pct(viaRedis.map((c) => c.ms), 50),
      enqueueToStartP50Ms: pct(waits, 50),
      resultToReplyP50Ms: pct(replies, 50),
      tasksPerSecond1: tps1,
      tasksPerSecond2: tps2,
      recoveryMs,
      jobMs,
    };
    log(`\n## Scale-out (tiny model, ${size}², use_sr false, one engine thread per worker)\n`);
    log('| measure | value |');
    log('|---|---|');
    log(`| CVProcess p50, in-process queue (${n} sequential) | ${result.inProcessP50Ms.toFixed(1)} ms |`);
    log(`| CVProcess p50, BullMQ on Redis, 1 worker | ${result.redisP50Ms.toFixed(1)} ms |`);
    log(`| Redis overhead per call (difference of p50s) | ${(result.redisP50Ms - result.inProcessP50Ms).toFixed(1)} ms |`);
    log(`| enqueue → worker start, p50 | ${result.enqueueToStartP50Ms.toFixed(1)} ms |`);
    log(`| worker result → reply received, p50 | ${result.resultToReplyP50Ms.toFixed(1)} ms |`);
    log(`| throughput, 1 worker (${m} async tasks) | ${tps1.toFixed(2)} tasks/s |`);
    log(`| throughput, 2 workers | ${tps2.toFixed(2)} tasks/s |`);
    log(`| ratio 2 : 1 | ${(tps2 / tps1).toFixed(2)} |`);
    log(`| SIGKILL of the running worker → task done (lock ${LOCK_MS / 1000} s, stall check ${STALLED_MS / 1000} s; 1024², use_sr) | ${(recoveryMs / 1000).toFixed(1)} s (the re-run itself: ${(jobMs / 1000).toFixed(1)} s) |`);
    return result;
  } finally {
    await Promise.all(workers.map((w) => stopWorker(w)));
    await queue.close();
    conn.disconnect();
    await gateway.close();
    await redis.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runScaleBench();
  process.exit(0);
}

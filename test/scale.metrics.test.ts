/**
 * Readiness and metrics per role on real parts: a gateway is ready only once Redis answers and a worker has a
 * heartbeat; a worker's status port says ready once its model is loaded and counts the jobs it ran; the
 * gateway's /metrics reports live workers and queue depth.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureTinyModel } from '../src/engine/index.js';
import { pollTask, submit } from './helpers/api.js';
import { freePort, startRedis } from './helpers/redis.js';
import { startTestServer, testHome } from './helpers/server.js';

const root = path.resolve(import.meta.dirname, '..');

async function until<T>(what: string, probe: () => Promise<T | undefined>, withinMs = 120_000): Promise<T> {
  const end = Date.now() + withinMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const metric = (text: string, name: string): number => Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

test('readiness and metrics of a gateway and a worker', { timeout: 600_000 }, async () => {
  const home = await testHome();
  await ensureTinyModel();
  const redis = await startRedis();
  const shared = await mkdtemp(path.join(os.tmpdir(), 'mengtu-metrics-'));
  const gateway = await startTestServer({ server: { dataDir: shared }, queue: { redisUrl: redis.url, prefix: 'm' } });
  const statusPort = await freePort();
  const worker = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker', '--redis', redis.url, '--model', 'tiny', '--data-dir', shared, '--threads', '1', '--status-port', String(statusPort)], {
    cwd: root,
    env: { ...process.env, MENGTU_HOME: home, MENGTU_REDIS_PREFIX: 'm', MENGTU_LOG_LEVEL: 'warn', MENGTU_HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((r) => worker.once('exit', r));
  const status = `http://127.0.0.1:${statusPort}`;
  try {
    // No worker heartbeat yet: the gateway is not ready.
    const early = await fetch(`${gateway.url}/readyz`);
    assert.equal(early.status, 503);
    assert.equal(((await early.json()) as { workers: number }).workers, 0);

    // The worker's status port answers before its model is loaded, then turns ready.
    await until('worker ready', async () => ((await fetch(`${status}/readyz`)).status === 200 ? true : undefined));
    await until('gateway ready', async () => ((await fetch(`${gateway.url}/readyz`)).status === 200 ? true : undefined));

    const id = await submit(gateway.url, { prompt: 'lanterns', width: 256, height: 256, use_sr: false, seed: 4 });
    const { json } = await pollTask(gateway.url, id);
    assert.equal(json.data?.status, 'done');

    const wm = await (await fetch(`${status}/metrics`)).text();
    assert.equal(metric(wm, 'mengtu_jobs_total{outcome="done"}'), 1);
    assert.equal(metric(wm, 'mengtu_job_wait_seconds_count'), 1);
    assert.equal(metric(wm, 'mengtu_jobs_stalled_total'), 0);
    assert.equal(metric(wm, 'mengtu_jobs_retried_total'), 0);
    assert.ok(metric(wm, 'mengtu_stage_seconds_count{stage="generate"}') >= 1);

    const gm = await (await fetch(`${gateway.url}/metrics`)).text();
    assert.equal(metric(gm, 'mengtu_workers'), 1);
    assert.equal(metric(gm, 'mengtu_queue_depth'), 0);
  } finally {
    worker.kill('SIGTERM');
    await exited;
    await gateway.close();
    await redis.stop();
  }
});

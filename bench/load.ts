/**
 * Load benchmark: a real `mengtu serve --model tiny` child process (image risk on, built-in ESRGAN-slim SR).
 * First the start: spawn → /healthz, spawn → /readyz (engine and NSFW classifier loaded), the first CVProcess.
 * Then capacity C = MENGTU_CONCURRENCY (the per-key in-flight cap): for 2×C and 5×C closed-loop clients (each
 * sends its next CVProcess as soon as the last one is answered) it prints throughput, latency p50/p99, the
 * shares of 2xx / 50429 / 50430 / 5xx, /healthz p99 while loaded (probed every 50 ms). Then heavy single
 * requests one after another with /healthz probed every 20 ms: a 1000-character CJK prompt with five quoted
 * spans at 1024² (typography, image risk) and use_sr at 512² → 1024² (ESRGAN). Last, the server's RSS.
 *   npm run bench:load      env: BENCH_SECONDS (20 per level), BENCH_CAPACITY (2), BENCH_QPS (20), BENCH_SIZE (256),
 *                           BENCH_HEAVY (3 requests per heavy case)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { heavyPrompt } from '../test/helpers/prompts.js';
import { send } from '../test/helpers/wire.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CAPACITY = Number(process.env.BENCH_CAPACITY ?? 2);
const QPS = Number(process.env.BENCH_QPS ?? 20);
const SIZE = Number(process.env.BENCH_SIZE ?? 256);
const HEAVY = Number(process.env.BENCH_HEAVY ?? 3);
const AK = 'AKLTloadbench';
const SK = 'load-bench-secret-0123456789';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};

/** Polls `path` every 50 ms until it answers 200. */
async function waitFor(base: string, path: string): Promise<void> {
  for (let i = 0; i < 6000; i++) {
    try {
      if ((await fetch(`${base}${path}`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server did not answer ${path}`);
}

function cvProcess(base: string, fields: Record<string, unknown>, agent?: http.Agent): ReturnType<typeof send> {
  const body = Buffer.from(JSON.stringify({ req_key: 'jimeng_high_aes_general_v21_L', use_pre_llm: false, ...fields }));
  return send(base, { ak: AK, sk: SK }, { rawQuery: 'Action=CVProcess&Version=2022-08-31', body, headers: { 'Content-Type': 'application/json' } }, agent);
}

/** HEAVY requests one after another while /healthz is probed every 20 ms. */
async function heavy(base: string, name: string, fields: Record<string, unknown>): Promise<string> {
  const health: number[] = [];
  const lat: number[] = [];
  const codes = new Map<number, number>();
  let done = false;
  const probe = (async () => {
    while (!done) {
      const t0 = performance.now();
      await (await fetch(`${base}/healthz`)).arrayBuffer();
      health.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  for (let i = 0; i < HEAVY; i++) {
    const res = await cvProcess(base, { ...fields, seed: i + 1 });
    const code = (JSON.parse(res.text) as { code?: number }).code ?? res.status;
    codes.set(code, (codes.get(code) ?? 0) + 1);
    lat.push(res.ms);
  }
  done = true;
  await probe;
  const answers = [...codes].map(([c, n]) => `${n}× ${c}`).join(', ');
  return `| ${name} | ${answers} | ${pct(lat, 50).toFixed(0)} | ${health.length} | ${pct(health, 50).toFixed(1)} | ${pct(health, 99).toFixed(1)} | ${Math.max(...health).toFixed(1)} |`;
}

async function level(base: string, clients: number): Promise<string> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients + 1 });
  const lat: number[] = [];
  const counts = { ok: 0, q: 0, c: 0, s5: 0, other: 0 };
  const health: number[] = [];
  const end = Date.now() + SECONDS * 1000;
  const probe = (async () => {
    while (Date.now() < end) {
      const t0 = performance.now();
      await fetch(`${base}/healthz`);
      health.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  let i = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < end) {
        const res = await cvProcess(base, { prompt: `a lighthouse ${i++}`, width: SIZE, height: SIZE, use_sr: false }, agent);
        const code = (JSON.parse(res.text) as { code?: number }).code;
        lat.push(res.ms);
        if (res.status >= 500) counts.s5++;
        else if (code === 10000) counts.ok++;
        else if (code === 50429) counts.q++;
        else if (code === 50430) counts.c++;
        else counts.other++;
        // A refused client backs off a little, as SDK retry loops do; otherwise it would only measure refusals.
        if (code === 50429 || code === 50430) await new Promise((r) => setTimeout(r, 20));
      }
    }),
  );
  await probe;
  agent.destroy();
  const n = lat.length;
  const share = (k: number): string => `${((100 * k) / n).toFixed(1)}%`;
  return (
    `| ${clients / CAPACITY}× (${clients} clients) | ${n} | ${(n / SECONDS).toFixed(1)} | ${(counts.ok / SECONDS).toFixed(2)} | ${pct(lat, 50).toFixed(0)} | ${pct(lat, 99).toFixed(0)} | ` +
    `${share(counts.ok)} | ${share(counts.q)} | ${share(counts.c)} | ${share(counts.s5)} | ${pct(health, 50).toFixed(1)} | ${pct(health, 99).toFixed(1)} |`
  );
}

async function main(): Promise<void> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const home = mkdtempSync(path.join(os.tmpdir(), 'mengtu-load-home-'));
  const child = spawn(process.execPath, [path.join(root, 'bin/mengtu.js'), 'serve', '--model', 'tiny', '--port', String(port), '--data-dir', mkdtempSync(path.join(os.tmpdir(), 'mengtu-load-data-'))], {
    env: { ...process.env, MENGTU_HOME: home, MENGTU_ACCESS_KEYS: `${AK}:${SK}`, MENGTU_CONCURRENCY: String(CAPACITY), MENGTU_QPS: String(QPS), MENGTU_LOG_LEVEL: 'warn', MENGTU_SR_MODE: 'auto', MENGTU_IMAGE_RISK: '1' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const t0 = performance.now();
  try {
    await waitFor(base, '/healthz');
    const healthAt = performance.now() - t0;
    await waitFor(base, '/readyz');
    const readyAt = performance.now() - t0;
    const first = await cvProcess(base, { prompt: 'a lighthouse at dawn', width: SIZE, height: SIZE, use_sr: false, seed: 1 });
    const before = rssMiB(child.pid!);
    console.log(`bench:load — tiny model, ${SIZE}², capacity ${CAPACITY} in flight per key, QPS ${QPS}, ${SECONDS} s per level, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)}`);
    console.log(`start: /healthz after ${healthAt.toFixed(0)} ms, /readyz (engine + NSFW classifier loaded) after ${readyAt.toFixed(0)} ms; first CVProcess ${first.ms.toFixed(0)} ms (code ${(JSON.parse(first.text) as { code?: number }).code})`);
    console.log('| load | requests | req/s | images/s | p50 ms | p99 ms | 2xx | 50429 | 50430 | 5xx | /healthz p50 ms | /healthz p99 ms |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const factor of [2, 5]) console.log(await level(base, factor * CAPACITY));
    console.log('');
    console.log(`| heavy request (${HEAVY} one after another) | answers | p50 ms | /healthz probes | /healthz p50 ms | /healthz p99 ms | /healthz max ms |`);
    console.log('|---|---|---|---|---|---|---|');
    console.log(await heavy(base, '1000-char CJK prompt, 5 quoted spans, 1024², image risk', { prompt: heavyPrompt(), width: 1024, height: 1024, use_sr: false }));
    console.log(await heavy(base, 'use_sr 512² → 1024² (ESRGAN-slim), image risk', { prompt: 'a lighthouse at dawn', width: 512, height: 512, use_sr: true }));
    console.log(`server RSS: ${before.toFixed(0)} MiB after the first request, ${rssMiB(child.pid!).toFixed(0)} MiB at the end`);
  } finally {
    child.kill('SIGTERM');
  }
}

await main();

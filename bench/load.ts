/**
 * Load benchmark: a real `mengtu serve --model tiny` child process driven past its capacity.
 * Capacity C = MENGTU_CONCURRENCY (the per-key in-flight cap). For 2×C and 5×C closed-loop clients (each
 * sends its next CVProcess as soon as the last one is answered) it prints throughput, latency p50/p99, the
 * shares of 2xx / 50429 / 50430 / 5xx, /healthz p99 while loaded (probed every 50 ms), and the server's RSS
 * before and after.
 *   npm run bench:load      env: BENCH_SECONDS (20 per level), BENCH_CAPACITY (2), BENCH_QPS (20), BENCH_SIZE (256)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { send } from '../test/helpers/wire.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CAPACITY = Number(process.env.BENCH_CAPACITY ?? 2);
const QPS = Number(process.env.BENCH_QPS ?? 20);
const SIZE = Number(process.env.BENCH_SIZE ?? 256);
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

async function waitReady(base: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('server did not become ready');
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
        const body = Buffer.from(JSON.stringify({ req_key: 'jimeng_high_aes_general_v21_L', prompt: `a lighthouse ${i++}`, width: SIZE, height: SIZE, use_sr: false, use_pre_llm: false }));
        const res = await send(base, { ak: AK, sk: SK }, { rawQuery: 'Action=CVProcess&Version=2022-08-31', body, headers: { 'Content-Type': 'application/json' } }, agent);
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
    env: { ...process.env, MENGTU_HOME: home, MENGTU_ACCESS_KEYS: `${AK}:${SK}`, MENGTU_CONCURRENCY: String(CAPACITY), MENGTU_QPS: String(QPS), MENGTU_LOG_LEVEL: 'warn', MENGTU_SR_MODE: 'lanczos' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitReady(base);
    const before = rssMiB(child.pid!);
    console.log(`bench:load — tiny model, ${SIZE}², capacity ${CAPACITY} in flight per key, QPS ${QPS}, ${SECONDS} s per level, ${os.cpus().length} CPUs`);
    console.log('| load | requests | req/s | images/s | p50 ms | p99 ms | 2xx | 50429 | 50430 | 5xx | /healthz p50 ms | /healthz p99 ms |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const factor of [2, 5]) console.log(await level(base, factor * CAPACITY));
    console.log(`server RSS: ${before.toFixed(0)} MiB before, ${rssMiB(child.pid!).toFixed(0)} MiB after`);
  } finally {
    child.kill('SIGTERM');
  }
}

await main();

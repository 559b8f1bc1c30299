/**
 * Gateway benchmark: end-to-end CVProcess latency and throughput on loopback with the tiny model (so the
 * figures are the server's own overhead plus tiny inference), the async pair (submit, poll every 20 ms,
 * fetch with a logo), and the cost of signature verification.
 *   npm run bench:gateway            env: BENCH_REQUESTS (default 24), BENCH_SIZE (default 512)
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { signRequest } from '../src/client/index.js';
import { verifySignature } from '../src/gateway/auth.js';
import { loadConfig } from '../src/runtime/config.js';
import { startServer } from '../src/runtime/server.js';

export interface GatewayBenchRow {
  scenario: string;
  requests: number;
  p50Ms: number;
  p95Ms: number;
  throughputRps: number;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runGatewayBench(opts: { requests?: number; size?: number; log?: (s: string) => void } = {}): Promise<{ rows: GatewayBenchRow[]; verifyUs: number }> {
  const n = opts.requests ?? Number(process.env.BENCH_REQUESTS ?? 24);
  const size = opts.size ?? Number(process.env.BENCH_SIZE ?? 512);
  const log = opts.log ?? ((s: string) => process.stdout.write(s + '\n'));
  process.env.MENGTU_HOME ??= await mkdtemp(path.join(os.tmpdir(), 'mengtu-bench-home-'));
  const ak = 'AKLTbench';
  const sk = 'bench-secret-key-0123456789';
  process.env.MENGTU_ACCESS_KEYS = `${ak}:${sk}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mengtu-bench-data-'));
  const cfg = loadConfig({ engine: { model: 'tiny', maxQueue: 1000 }, server: { port: 0, dataDir, logLevel: 'silent' }, limits: { qps: 0, concurrency: 0 } });
  const server = await startServer(cfg, pino({ level: 'silent' }));
  await server.runtime.host.load();
  const rawQuery = 'Action=CVProcess&Version=2022-08-31';
  const once = async (i: number, useSr: boolean): Promise<number> => {
    const body = JSON.stringify({ req_key: 'jimeng_high_aes_general_v21_L', prompt: `a lighthouse ${i}`, seed: i, width: size, height: size, use_sr: useSr });
    const { headers } = signRequest({ accessKeyId: ak, secretAccessKey: sk, region: 'cn-north-1', service: 'cv' }, { method: 'POST', path: '/', rawQuery, body }, new Date());
    const t0 = performance.now();
    const res = await fetch(`${server.url}/?${rawQuery}`, { method: 'POST', headers, body });
    const json = (await res.json()) as { code: number };
    if (json.code !== 10000) throw new Error(`request failed: ${JSON.stringify(json)}`);
    return performance.now() - t0;
  };
  const post = async (query: string, payload: object): Promise<{ code: number; data: { task_id?: string; status?: string } | null }> => {
    const text = JSON.stringify(payload);
    const { headers } = signRequest({ accessKeyId: ak, secretAccessKey: sk, region: 'cn-north-1', service: 'cv' }, { method: 'POST', path: '/', rawQuery: query, body: text }, new Date());
    return (await (await fetch(`${server.url}/?${query}`, { method: 'POST', headers, body: text })).json()) as { code: number; data: { task_id?: string; status?: string } | null };
  };
  /** Submit → done: the time until a poll (every 20 ms) gets the finished image with a logo. */
  const onceAsync = async (i: number, useSr: boolean): Promise<number> => {
    const t0 = performance.now();
    const sub = await post('Action=CVSync2AsyncSubmitTask&Version=2022-08-31', { req_key: 'jimeng_high_aes_general_v21_L', prompt: `a lighthouse ${i}`, seed: i, width: size, height: size, use_sr: useSr });
    if (sub.code !== 10000 || !sub.data?.task_id) throw new Error(`submit failed: ${JSON.stringify(sub)}`);
    const reqJson = JSON.stringify({ logo_info: { add_logo: true } });
    for (;;) {
      const r = await post('Action=CVSync2AsyncGetResult&Version=2022-08-31', { req_key: 'jimeng_high_aes_general_v21_L', task_id: sub.data.task_id, req_json: reqJson });
      if (r.code !== 10000) throw new Error(`get result failed: ${JSON.stringify(r)}`);
      if (r.data?.status === 'done') return performance.now() - t0;
      await new Promise((res) => setTimeout(res, 20));
    }
  };
  const rows: GatewayBenchRow[] = [];
  try {
    await once(-1 >>> 0, false); // warm-up: fonts, SR graph, first session runs
    for (const [scenario, concurrency, useSr, run] of [
      [`${size}² sequential, use_sr false`, 1, false, once],
      [`${size}² concurrency 2, use_sr false`, 2, false, once],
      [`${size}² sequential, use_sr true (→ ${size * 2}²)`, 1, true, once],
      [`${size}² async submit → done with logo (poll 20 ms), use_sr false`, 1, false, onceAsync],
    ] as const) {
      const lat: number[] = [];
      const t0 = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < n) lat.push(await run(next++, useSr));
        }),
      );
      const wall = performance.now() - t0;
      lat.sort((a, b) => a - b);
      rows.push({ scenario, requests: n, p50Ms: pct(lat, 50), p95Ms: pct(lat, 95), throughputRps: (n / wall) * 1000 });
    }
  } finally {
    await server.close();
  }
  // Signature verification alone.
  const body = JSON.stringify({ req_key: 'jimeng_high_aes_general_v21_L', prompt: 'x' });
  const now = new Date();
  const { headers } = signRequest({ accessKeyId: ak, secretAccessKey: sk, region: 'cn-north-1', service: 'cv' }, { method: 'POST', path: '/', rawQuery, body }, now);
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const iters = 20000;
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) {
    verifySignature({ method: 'POST', path: '/', rawQuery, headers: lower, body: Buffer.from(body) }, { region: 'cn-north-1', service: 'cv', maxSkewMs: 900_000, now: () => now, lookupSecret: () => sk });
  }
  const verifyUs = ((performance.now() - t0) / iters) * 1000;
  log(formatGatewayBench(rows, verifyUs));
  return { rows, verifyUs };
}

export function formatGatewayBench(rows: readonly GatewayBenchRow[], verifyUs: number): string {
  const lines = ['gateway (tiny model, loopback, auth on)', 'scenario | requests | p50 ms | p95 ms | req/s', '---|---|---|---|---'];
  for (const r of rows) lines.push(`${r.scenario} | ${r.requests} | ${r.p50Ms.toFixed(1)} | ${r.p95Ms.toFixed(1)} | ${r.throughputRps.toFixed(2)}`);
  lines.push(`signature verification: ${verifyUs.toFixed(1)} µs per request`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runGatewayBench();
}

/**
 * Per-stage milliseconds of real jobs at 1024×1024 output (render 512×512 with the tiny model, use_sr on,
 * a quoted-text prompt and a visible mark), as the server runs them.
 *   npm run bench:pipeline            env: BENCH_JOBS (default 8)
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { parseCVProcessRequest, REQ_KEY_V21 } from '../src/contract/cvprocess.js';
import { newRequestId } from '../src/gateway/envelope.js';
import { loadConfig } from '../src/runtime/config.js';
import { createRuntime } from '../src/runtime/create.js';

const PROMPTS = [
  '一张海报，画面上方有红色书法文字写着“新年快乐”',
  'a poster with the title "GRAND OPENING" in gold at the bottom',
  '夜晚的城市街道，霓虹灯招牌写着“深夜食堂”',
  'a travel poster, white bold text "VISIT KYOTO" at the top',
];

export async function runPipelineBench(opts: { jobs?: number } = {}): Promise<Record<string, { mean: number; p95: number }>> {
  const jobs = opts.jobs ?? Number(process.env.BENCH_JOBS ?? 8);
  process.env.MENGTU_HOME ??= await mkdtemp(path.join(os.tmpdir(), 'mengtu-bench-home-'));
  const log = pino({ level: 'silent' });
  const cfg = loadConfig({ engine: { model: 'tiny' }, server: { dataDir: await mkdtemp(path.join(os.tmpdir(), 'mengtu-bench-data-')), logLevel: 'silent' } });
  const runtime = await createRuntime({ ...cfg, engine: { ...cfg.engine, workers: 1, maxQueue: 4 } }, { log, hosting: true, role: 'embedded' });
  await runtime.host.load();
  const samples: Record<string, number[]> = {};
  try {
    for (let i = -PROMPTS.length; i < jobs; i++) {
      const request = parseCVProcessRequest({
        req_key: REQ_KEY_V21,
        prompt: PROMPTS[(i + PROMPTS.length) % PROMPTS.length]!,
        seed: 100 + i,
        width: 512,
        height: 512,
        return_url: i % 2 === 0,
        logo_info: { add_logo: true },
      });
      const { job } = await runtime.jobs.process(request, { requestId: newRequestId(), accessKey: 'bench' });
      if (i < 0) continue; // warm-up, one pass over the prompts: fonts registered, code paths compiled
      for (const [stage, ms] of Object.entries(job.stageMs)) (samples[stage] ??= []).push(ms);
    }
  } finally {
    await runtime.close();
  }
  const out: Record<string, { mean: number; p95: number }> = {};
  const lines = [`pipeline stages, ${jobs} jobs, 512² render → 1024² output (tiny model, SR ${runtime.deps.sr.method})`, 'stage | mean ms | p95 ms', '---|---|---'];
  let total = 0;
  for (const [stage, xs] of Object.entries(samples)) {
    xs.sort((a, b) => a - b);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const p95 = xs[Math.min(xs.length - 1, Math.floor(0.95 * xs.length))]!;
    out[stage] = { mean, p95 };
    total += mean;
    lines.push(`${stage} | ${mean.toFixed(1)} | ${p95.toFixed(1)}`);
  }
  lines.push(`total | ${total.toFixed(1)} |`);
  process.stdout.write(lines.join('\n') + '\n');
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runPipelineBench();
}

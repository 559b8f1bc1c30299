/**
 * Engine benchmark: per-stage timings of `Engine.generate`, peak RSS, and mengtu's overhead over a bare
 * loop of `session.run` calls on the same sessions with the same input shapes (goal: ratio ≤ 1.03).
 * Runs the tiny model, and every real model under <models>/ that has a model_index.json.
 *   npm run bench:engine            env: BENCH_RUNS, BENCH_STEPS, BENCH_SIZE, BENCH_THREADS
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { modelsDir } from '../src/engine/home.js';
import { FloatFeed, ScalarFeed, idsTensor, isDynamic } from '../src/engine/onnx-session.js';
import { DiffusionEngine } from '../src/engine/sampler.js';
import { createRng } from '../src/engine/rng.js';
import { createScheduler } from '../src/engine/schedulers/index.js';
import { buildTinyModel, ensureTinyModel } from '../src/engine/tiny/build.js';

export interface EngineBenchRow {
  model: string;
  size: number;
  steps: number;
  guidanceScale: number;
  textEncoderMs: number;
  unetMsPerStep: number;
  vaeMs: number;
  totalMs: number;
  bareMs: number;
  /** mengtu total / bare session.run loop total. */
  ratio: number;
  /** totalMs − bareMs: what mengtu adds per image (tokenizer, scheduler, guidance, RGBA, resize). */
  overheadMs: number;
  /** Time in `generate` outside session.run: mengtu's own work, unaffected by ORT's run-to-run noise. */
  ownMs: number;
  /** totalMs / (totalMs − ownMs): the overhead ratio with ORT's noise taken out. */
  ownRatio: number;
  peakRssMb: number;
}

export interface EngineBenchOptions {
  runs?: number;
  threads?: number;
  /** Only the tiny model (skips real models found under the models dir). */
  tinyOnly?: boolean;
  log?: (line: string) => void;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function findRealModels(): Promise<string[]> {
  const root = modelsDir();
  const names = await readdir(root).catch(() => [] as string[]);
  const out: string[] = [];
  for (const n of names) {
    if (n === 'tiny' || n.startsWith('.')) continue;
    const dir = path.join(root, n);
    if (await stat(path.join(dir, 'model_index.json')).then(() => true, () => false)) out.push(dir);
  }
  return out;
}

/** The same graph calls `generate` makes, with nothing around them. */
async function bareLoop(engine: DiffusionEngine, size: number, steps: number, guide: boolean): Promise<number> {
  const te = engine.textEncoder;
  const unet = engine.unet;
  const vae = engine.vae;
  const L = engine.tokenizer.maxLength;
  const lh = size / 8;
  const n = 4 * lh * lh;
  const idsInfo = te.input('input_ids');
  const sampleInfo = unet.input('sample');
  const tsInfo = unet.input('timestep');
  const ehsInfo = unet.input('encoder_hidden_states');
  const batched = guide && isDynamic(sampleInfo, 0);
  const B = batched ? 2 : 1;
  const prompts = guide ? 2 : 1;
  const ids = new Int32Array(L * prompts);
  for (let p = 0; p < prompts; p++) ids.set(engine.tokenizer.encode(p ? 'a photo of a cat' : ''), p * L);
  const sample = new FloatFeed(sampleInfo.type, [B, 4, lh, lh]);
  sample.data.set(createRng(1).normal(B * n));
  const ts = new ScalarFeed(tsInfo.type, [isDynamic(tsInfo, 0) ? B : 1]);
  const latent = new FloatFeed(vae.input('latent_sample').type, [1, 4, lh, lh]);
  latent.data.set(createRng(2).normal(n));
  const teOut = te.outputName('last_hidden_state');
  const unetOut = unet.outputName('out_sample');
  const vaeOut = vae.outputName('sample');

  const t0 = performance.now();
  const text = (await te.session.run({ [idsInfo.name]: idsTensor(idsInfo.type, ids, [prompts, L]) }, [teOut]))[teOut]!;
  const hidden = text.dims[2]!;
  const ehs = new FloatFeed(ehsInfo.type, [B, L, hidden]);
  const feeds = { [sampleInfo.name]: sample.sync(), [tsInfo.name]: ts.fill(999), [ehsInfo.name]: ehs.sync() };
  for (let s = 0; s < steps; s++) {
    await unet.session.run(feeds, [unetOut]);
    if (guide && !batched) await unet.session.run(feeds, [unetOut]);
  }
  await vae.session.run({ [vae.input('latent_sample').name]: latent.sync() }, [vaeOut]);
  return performance.now() - t0;
}

async function benchModel(dir: string, name: string, size: number, steps: number, guidanceScale: number, opts: EngineBenchOptions): Promise<EngineBenchRow> {
  const runs = opts.runs ?? 5;
  const engine = await DiffusionEngine.load(dir, { name, threads: opts.threads ?? os.availableParallelism() });
  try {
    const scheduler = createScheduler(undefined, engine.files.schedulerConfig, steps).name;
    const req = { prompt: 'a photo of a cat', width: size, height: size, seed: 42, steps, guidanceScale, scheduler };
    // Warm-up: first runs allocate arenas and pick kernels.
    await engine.generate(req);
    await bareLoop(engine, size, steps, guidanceScale > 1);
    const te: number[] = [];
    const unet: number[] = [];
    const vae: number[] = [];
    const total: number[] = [];
    const bare: number[] = [];
    const own: number[] = [];
    const graphs = [engine.textEncoder, engine.unet, engine.vae];
    const inRun = (): number => graphs.reduce((a, g) => a + g.runMs, 0);
    for (let r = 0; r < runs; r++) {
      // Interleaved so drift (thermal, other load) hits both sides alike.
      const before = inRun();
      const out = await engine.generate({ ...req, seed: 42 + r });
      own.push(out.timings.totalMs - (inRun() - before));
      te.push(out.timings.textEncoderMs);
      unet.push(out.timings.unetMsPerStep);
      vae.push(out.timings.vaeMs);
      total.push(out.timings.totalMs);
      bare.push(await bareLoop(engine, size, steps, guidanceScale > 1));
    }
    const totalMs = median(total);
    const bareMs = median(bare);
    return {
      model: name,
      size,
      steps,
      guidanceScale,
      textEncoderMs: median(te),
      unetMsPerStep: median(unet),
      vaeMs: median(vae),
      totalMs,
      bareMs,
      ratio: totalMs / bareMs,
      overheadMs: totalMs - bareMs,
      ownMs: median(own),
      ownRatio: totalMs / (totalMs - median(own)),
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await engine.close();
  }
}

export function formatEngineBench(rows: readonly EngineBenchRow[]): string {
  const head = ['model', 'size', 'steps', 'cfg', 'text ms', 'unet ms/step', 'vae ms', 'total ms', 'bare ms', 'ratio', 'overhead ms', 'own ms', 'own ratio', 'peak RSS MB'];
  const body = rows.map((r) => [
    r.model,
    String(r.size),
    String(r.steps),
    String(r.guidanceScale),
    r.textEncoderMs.toFixed(1),
    r.unetMsPerStep.toFixed(1),
    r.vaeMs.toFixed(1),
    r.totalMs.toFixed(1),
    r.bareMs.toFixed(1),
    r.ratio.toFixed(3),
    r.overheadMs.toFixed(1),
    r.ownMs.toFixed(1),
    r.ownRatio.toFixed(3),
    r.peakRssMb.toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export async function runEngineBench(opts: EngineBenchOptions = {}): Promise<EngineBenchRow[]> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const envNum = (k: string): number | undefined => (process.env[k] ? Number(process.env[k]) : undefined);
  const runs = opts.runs ?? envNum('BENCH_RUNS');
  const o: EngineBenchOptions = { ...opts, ...(runs ? { runs } : {}), ...(envNum('BENCH_THREADS') ? { threads: envNum('BENCH_THREADS')! } : {}) };
  const rows: EngineBenchRow[] = [];
  const tiny = await ensureTinyModel();
  const tinySteps = envNum('BENCH_STEPS') ?? 8;
  rows.push(await benchModel(tiny, 'tiny', envNum('BENCH_SIZE') ?? 256, tinySteps, 7.5, o));
  rows.push(await benchModel(tiny, 'tiny', envNum('BENCH_SIZE') ?? 512, tinySteps, 0, o));
  // Tiny graphs take well under a millisecond a step, so mengtu's fixed costs dominate their ratio. A wider
  // random UNet (~0.1–0.2 s a step here) shows the ratio at a compute scale closer to a real model's.
  const wide = await mkdtemp(path.join(os.tmpdir(), 'mengtu-bench-wide-'));
  try {
    await buildTinyModel(wide, { unetChannels: 192, unetMidConvs: 2 });
    rows.push(await benchModel(wide, 'tiny-wide', envNum('BENCH_SIZE') ?? 512, envNum('BENCH_STEPS') ?? 4, 7.5, { ...o, runs: Math.min(o.runs ?? 5, 5) }));
  } finally {
    await rm(wide, { recursive: true, force: true });
  }
  if (!opts.tinyOnly) {
    for (const dir of await findRealModels()) {
      log(`benchmarking ${dir} …`);
      // Real models are slow on CPU: one guided-free run of a few steps at 512.
      rows.push(await benchModel(dir, path.basename(dir), envNum('BENCH_SIZE') ?? 512, envNum('BENCH_STEPS') ?? 2, 0, { ...o, runs: o.runs ?? 1 }));
    }
  }
  log(formatEngineBench(rows));
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ort.env.logLevel = 'error';
  await runEngineBench();
}

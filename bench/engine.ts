/**
 * Engine benchmark: load time, per-stage timings of `Engine.generate`, peak RSS, and mengtu's overhead
 * over a bare loop of `session.run` calls on the same sessions with the same input shapes (goal ≤ 1.03).
 *
 *   npm run bench:engine                                  tiny, tiny-wide and every model under <models>/
 *   npm run bench:engine -- --model DIR|NAME [--model …]  just those (a folder, a registry name, owner/repo)
 *   options: --size N --steps N --cfg G --runs N --threads N --json
 *            --no-graph-cache --reuse-memory unet|all|none --no-tiling   (the engine's memory/start-up settings;
 *            `--no-graph-cache --reuse-memory all --no-tiling` is how the engine ran before they existed)
 *            --taesd DIR|tiny --decoders   (a TAESD for previews / the final image; time each decoder alone)
 *            --decoder vae|taesd   (the final image's decoder; taesd needs --taesd)
 *            --low-memory   (the engine's lowMemory: each graph unloaded after its phase of a request)
 *            --int8   (also quantize the model and measure the int8 copies — each Conv mode — with PSNR)
 *            --compare DIR   (PSNR of this model's picture against DIR's, same seed and noise: an int8 copy
 *                             made by `mengtu models quantize` against its fp32 source)
 *
 * An SD-Turbo-class folder (the real SD 2.1 graphs, random weights, 4.9 GB): `npm run tiny-model -- --kind
 * sd-turbo-class /tmp/sdturbo`, then `npm run bench:engine -- --model /tmp/sdturbo` (512², 1 step, cfg 0).
 *
 * Each model is measured in its own child process so its peak RSS is its own (maxRSS never goes down).
 * Built-in synthetic names: `tiny` (the test model), `tiny-sdxl` (the SDXL-signature test model), `mini-sdxl[@W]`
 * (the `mini` blocks with SDXL's signatures), `tiny-wide` (a wider random UNet, ~0.1 s a step) and
 * `mini`, `mini@W` (SD-architecture graphs — ResNet, attention, GroupNorm, a ×8 VAE decoder — W times wider).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { modelsDir } from '../src/engine/home.js';
import { FloatFeed, ScalarFeed, idsTensor, isDynamic } from '../src/engine/onnx-session.js';
import { resolveModel } from '../src/engine/registry.js';
import { DiffusionEngine, type LoadEngineOptions } from '../src/engine/sampler.js';
import { createRng } from '../src/engine/rng.js';
import { createScheduler } from '../src/engine/schedulers/index.js';
import { needsTiling, tileOrigins } from '../src/engine/vae-tiling.js';
import { CONV_MODES, quantizeModel } from '../src/engine/quantize.js';
import { psnr } from '../src/pipeline/sr/psnr.js';
import { buildTinyModel, buildTinyTaesd, ensureTinyModel } from '../src/engine/tiny/build.js';
import { buildTinySdxlModel } from '../src/engine/tiny/sdxl.js';

export interface EngineBenchRow {
  model: string;
  size: number;
  steps: number;
  guidanceScale: number;
  /** Sessions created and signatures checked (DiffusionEngine.load), from the model's own files. */
  loadMs: number;
  /** CPU time of that load (all threads): on a shared machine, wall time mostly measures the queue for a core. */
  loadCpuMs: number;
  /** The same from the optimized-graph cache the first load wrote (null when the cache is off). */
  cachedLoadMs: number | null;
  cachedLoadCpuMs: number | null;
  textEncoderMs: number;
  unetMsPerStep: number;
  vaeMs: number;
  totalMs: number;
  /** CPU time of that generate (all threads): on a loaded machine, what it would take a quiet one (÷ the threads it keeps busy). */
  totalCpuMs: number;
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
  /** For an int8 copy: PSNR (dB) of its picture against the fp32 model's from the same seed and noise. */
  psnrVsFp32?: number;
  /** With `decoders`: ms to decode random latents at each size, per decoder (median of 2 after a warm-up). */
  decodeMs?: Record<string, number>;
}

export interface ModelBenchSpec {
  /** A directory, a registry name, owner/repo, or a built-in synthetic name (tiny, tiny-wide). */
  model: string;
  size: number;
  steps: number;
  guidanceScale: number;
  runs: number;
  threads?: number;
  /** Engine settings under test (defaults: the engine's own). */
  graphCache?: boolean;
  reuseMemory?: 'unet' | 'all' | 'none';
  tiling?: boolean;
  /** A TAESD folder, or `tiny` for a random-weight one with TAESD's real layers (src/engine/tiny/taesd.ts). */
  taesd?: string;
  /** Also time each decoder alone at 512² and 1024². */
  decoders?: boolean;
  /** The engine's lowMemory setting (each graph unloaded after its phase of a request). */
  lowMemory?: boolean;
  /** Also quantize the model to int8 (`mengtu models quantize`) and measure the copy, with its PSNR. */
  int8?: boolean;
  /** The final image's decoder (default the engine's: vae). */
  decoder?: 'vae' | 'taesd';
  /** Another folder to compare this model's picture with (PSNR, same request). */
  compare?: string;
}

export interface EngineBenchOptions {
  runs?: number;
  threads?: number;
  /** Only the tiny models (skips real models found under the models dir). */
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
async function bareLoop(engine: DiffusionEngine, size: number, steps: number, guide: boolean, decoder: 'vae' | 'taesd' = 'vae'): Promise<number> {
  const te = engine.textEncoder;
  const unet = engine.unet;
  // The decoder the engine's generate uses for the final image.
  const vae = decoder === 'taesd' ? engine.taesd!.graph : engine.vae;
  const L = engine.tokenizer.maxLength;
  const lh = size / 8;
  const n = 4 * lh * lh;
  const idsInfo = te.input('input_ids');
  const sampleInfo = unet.input('sample');
  const tsInfo = unet.input('timestep');
  const ehsInfo = unet.input('encoder_hidden_states');
  const batched = guide && isDynamic(sampleInfo, 0);
  const B = batched ? 2 : 1;
  const sdxl = engine.sdxl;
  // An SDXL model with force_zeros_for_empty_prompt encodes no negative prompt (its embeds are zeros).
  const prompts = guide && !sdxl?.forceZerosForEmptyPrompt ? 2 : 1;
  const idsOf = (tok: typeof engine.tokenizer): Int32Array => {
    const ids = new Int32Array(L * prompts);
    for (let p = 0; p < prompts; p++) ids.set(tok.encode(p === prompts - 1 ? 'a photo of a cat' : ''), p * L);
    return ids;
  };
  const ids = idsOf(engine.tokenizer);
  const ids2 = sdxl ? idsOf(sdxl.tokenizer2) : null;
  const sample = new FloatFeed(sampleInfo.type, [B, 4, lh, lh]);
  sample.data.set(createRng(1).normal(B * n));
  const ts = new ScalarFeed(tsInfo.type, [isDynamic(tsInfo, 0) ? B : 1]);
  const th = engine.tiling && needsTiling(lh, lh, engine.tiling) ? engine.tiling.tile : lh;
  const latent = new FloatFeed(vae.input('latent_sample').type, [1, 4, th, th]);
  latent.data.set(createRng(2).normal(4 * th * th));
  const teOut = sdxl ? sdxl.outputs.hidden1 : te.outputName('last_hidden_state');
  const unetOut = unet.outputName('out_sample');
  const vaeOut = vae.outputName('sample');

  const t0 = performance.now();
  // With lowMemory the engine reloads each graph when a request needs it and unloads it after: so does this loop.
  const text = (await (await te.ensureLoaded()).run({ [idsInfo.name]: idsTensor(idsInfo.type, ids, [prompts, L]) }, [teOut]))[teOut]!;
  let hidden = text.dims[2]!;
  const added: Record<string, ort.Tensor> = {};
  if (sdxl) {
    // The second encoder, and SDXL's pooled text_embeds and time_ids inputs.
    const { hidden2, pooled } = sdxl.outputs;
    const info2 = sdxl.encoder2.input('input_ids');
    const out2 = await (await sdxl.encoder2.ensureLoaded()).run({ [info2.name]: idsTensor(info2.type, ids2!, [prompts, L]) }, [hidden2, pooled]);
    hidden += out2[hidden2]!.dims[2]!;
    added.text_embeds = new FloatFeed(unet.input('text_embeds').type, [B, out2[pooled]!.dims[1]!]).sync();
    added.time_ids = new FloatFeed(unet.input('time_ids').type, [B, 6]).sync();
  }
  if (engine.lowMemory) await Promise.all([te.unload(), sdxl?.encoder2.unload()]);
  const ehs = new FloatFeed(ehsInfo.type, [B, L, hidden]);
  const feeds = { [sampleInfo.name]: sample.sync(), [tsInfo.name]: ts.fill(999), [ehsInfo.name]: ehs.sync(), ...added };
  for (let s = 0; s < steps; s++) {
    const session = await unet.ensureLoaded();
    await session.run(feeds, [unetOut]);
    if (guide && !batched) await session.run(feeds, [unetOut]);
  }
  if (engine.lowMemory) await unet.unload();
  // As many decoder runs, of the same shape, as the engine makes (one, or one a tile).
  const tiles = engine.tiling && needsTiling(lh, lh, engine.tiling) ? tileOrigins(lh, engine.tiling.tile, engine.tiling.overlap).length ** 2 : 1;
  const vaeSession = await vae.ensureLoaded();
  for (let t = 0; t < tiles; t++) await vaeSession.run({ [vae.input('latent_sample').name]: latent.sync() }, [vaeOut]);
  if (engine.lowMemory) await vae.unload();
  return performance.now() - t0;
}

/** A model spec's directory; synthetic models are built into `scratch`. */
async function modelDir(model: string, scratch: string): Promise<string> {
  if (model === 'tiny') return ensureTinyModel();
  if (model === 'tiny-sdxl') return ensureTinyModel(process.env, 'tiny-sdxl');
  const miniSdxl = /^mini-sdxl(?:@([\d.]+))?$/.exec(model);
  if (miniSdxl) {
    // The same SD-architecture blocks with SDXL's two encoders and added text_embeds/time_ids conditioning.
    const dir = path.join(scratch, model);
    if (!(await stat(path.join(dir, 'mengtu-tiny.json')).then(() => true, () => false))) await buildTinySdxlModel(dir, { mini: { width: Number(miniSdxl[1] ?? 1) }, externalUnetData: true });
    return dir;
  }
  const mini = /^mini(?:@([\d.]+))?$/.exec(model);
  if (mini) {
    // Architecture-like SD graphs at a fraction of the width (src/engine/tiny/mini.ts); `mini@2` is twice as wide.
    const dir = path.join(scratch, model);
    if (!(await stat(path.join(dir, 'mengtu-tiny.json')).then(() => true, () => false))) await buildTinyModel(dir, { mini: { width: Number(mini[1] ?? 1), externalUnetData: true } });
    return dir;
  }
  if (model === 'tiny-wide') {
    // Tiny graphs take well under a millisecond a step, so mengtu's fixed costs dominate their ratio. A wider
    // random UNet (~0.1–0.2 s a step here) shows the ratio at a compute scale closer to a real model's.
    const dir = path.join(scratch, 'tiny-wide');
    if (!(await stat(path.join(dir, 'mengtu-tiny.json')).then(() => true, () => false))) await buildTinyModel(dir, { unetChannels: 192, unetMidConvs: 2 });
    return dir;
  }
  return (await resolveModel(model, { pull: false })).dir;
}

function loadOptions(spec: ModelBenchSpec, scratch: string): LoadEngineOptions {
  return {
    name: spec.model,
    threads: spec.threads ?? os.availableParallelism(),
    graphCache: spec.graphCache === false ? false : path.join(scratch, 'ort-cache'),
    ...(spec.reuseMemory ? { reuseMemory: spec.reuseMemory } : {}),
    ...(spec.tiling === false ? { vaeTiling: false as const } : {}),
    ...(spec.taesd ? { taesd: spec.taesd === 'tiny' ? path.join(scratch, 'taesd') : spec.taesd } : {}),
    ...(spec.decoder ? { decoder: spec.decoder } : {}),
    ...(spec.lowMemory ? { lowMemory: true } : {}),
  };
}

async function ensureBenchTaesd(spec: ModelBenchSpec, scratch: string): Promise<void> {
  const dir = path.join(scratch, 'taesd');
  if (spec.taesd === 'tiny' && !(await stat(path.join(dir, 'config.json')).then(() => true, () => false))) await buildTinyTaesd(dir);
}

/** Each decoder alone on random latents at 512² and 1024² (tiled as the engine tiles). */
async function benchDecoders(engine: DiffusionEngine): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const decoder of [engine.vaeDecoder, ...(engine.taesd ? [engine.taesd] : [])]) {
    for (const size of [512, 1024]) {
      const l = size / 8;
      const times: number[] = [];
      for (let r = 0; r < 3; r++) {
        const z = createRng(r).normal(4 * l * l);
        const t0 = performance.now();
        await engine.decode(decoder, z, l, l);
        if (r > 0) times.push(performance.now() - t0);
      }
      out[`${decoder.name} ${size}²`] = median(times);
    }
  }
  return out;
}

/** A first (cold) load: it writes the optimized-graph cache under `scratch`. */
export async function benchColdLoad(spec: ModelBenchSpec, scratch: string): Promise<{ ms: number; cpuMs: number }> {
  const dir = await modelDir(spec.model, scratch);
  await ensureBenchTaesd(spec, scratch);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const engine = await DiffusionEngine.load(dir, loadOptions(spec, scratch));
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  await engine.close();
  return { ms, cpuMs: (c.user + c.system) / 1000 };
}

/**
 * Measures one model in this process (so the peak RSS is this model's when the process runs only it).
 * With the graph cache on, `cold` is the first load's time and CPU time (measured in another process, which wrote
 * the cache under `scratch`) and this load is the cached one.
 */
export async function benchModel(spec: ModelBenchSpec, scratch: string, cold: { ms: number; cpuMs: number } | null): Promise<EngineBenchRow> {
  const { size, steps, guidanceScale, runs } = spec;
  const dir = await modelDir(spec.model, scratch);
  await ensureBenchTaesd(spec, scratch);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const engine = await DiffusionEngine.load(dir, loadOptions(spec, scratch));
  const thisLoadMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const thisCpuMs = (cpu.user + cpu.system) / 1000;
  const loadMs = cold?.ms ?? thisLoadMs;
  const loadCpuMs = cold?.cpuMs ?? thisCpuMs;
  const cachedLoadMs = cold === null ? null : thisLoadMs;
  const cachedLoadCpuMs = cold === null ? null : thisCpuMs;
  try {
    const scheduler = createScheduler(undefined, engine.files.schedulerConfig, steps).name;
    const req = { prompt: 'a photo of a cat', width: size, height: size, seed: 42, steps, guidanceScale, scheduler };
    // Warm-up: first runs allocate arenas and pick kernels.
    await engine.generate(req);
    await bareLoop(engine, size, steps, guidanceScale > 1, spec.decoder);
    const te: number[] = [];
    const unet: number[] = [];
    const vae: number[] = [];
    const total: number[] = [];
    const bare: number[] = [];
    const own: number[] = [];
    const cpuTotal: number[] = [];
    const graphs = [engine.textEncoder, engine.unet, engine.vae, ...(engine.taesd ? [engine.taesd.graph] : []), ...(engine.sdxl ? [engine.sdxl.encoder2] : [])];
    const inRun = (): number => graphs.reduce((a, g) => a + g.runMs, 0);
    for (let r = 0; r < runs; r++) {
      // Interleaved so drift (thermal, other load) hits both sides alike.
      const before = inRun();
      const c1 = process.cpuUsage();
      const out = await engine.generate({ ...req, seed: 42 + r });
      const c2 = process.cpuUsage(c1);
      cpuTotal.push((c2.user + c2.system) / 1000);
      own.push(out.timings.totalMs - (inRun() - before));
      te.push(out.timings.textEncoderMs);
      unet.push(out.timings.unetMsPerStep);
      vae.push(out.timings.vaeMs);
      total.push(out.timings.totalMs);
      bare.push(await bareLoop(engine, size, steps, guidanceScale > 1, spec.decoder));
    }
    const totalMs = median(total);
    const bareMs = median(bare);
    return {
      model: spec.model,
      size,
      steps,
      guidanceScale,
      loadMs,
      loadCpuMs,
      cachedLoadMs,
      cachedLoadCpuMs,
      textEncoderMs: median(te),
      unetMsPerStep: median(unet),
      vaeMs: median(vae),
      totalMs,
      totalCpuMs: median(cpuTotal),
      bareMs,
      ratio: totalMs / bareMs,
      overheadMs: totalMs - bareMs,
      ownMs: median(own),
      ownRatio: totalMs / (totalMs - median(own)),
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      ...(spec.decoders ? { decodeMs: await benchDecoders(engine) } : {}),
    };
  } finally {
    await engine.close();
  }
}

export function formatEngineBench(rows: readonly EngineBenchRow[]): string {
  const head = ['model', 'size', 'steps', 'cfg', 'load ms (cpu)', 'cached load ms (cpu)', 'text ms', 'unet ms/step', 'decoder ms', 'total ms (cpu)', 'bare ms', 'ratio', 'own ms', 'own ratio', 'peak RSS MB', 'PSNR vs fp32'];
  const body = rows.map((r) => [
    r.model,
    String(r.size),
    String(r.steps),
    String(r.guidanceScale),
    `${r.loadMs.toFixed(0)} (${r.loadCpuMs.toFixed(0)})`,
    r.cachedLoadMs === null ? '-' : `${r.cachedLoadMs.toFixed(0)} (${r.cachedLoadCpuMs!.toFixed(0)})`,
    r.textEncoderMs.toFixed(1),
    r.unetMsPerStep.toFixed(1),
    r.vaeMs.toFixed(1),
    `${r.totalMs.toFixed(0)} (${r.totalCpuMs?.toFixed(0) ?? '-'})`,
    r.bareMs.toFixed(1),
    r.ratio.toFixed(3),
    r.ownMs.toFixed(1),
    r.ownRatio.toFixed(3),
    r.peakRssMb.toFixed(0),
    r.psnrVsFp32 === undefined ? '-' : `${r.psnrVsFp32.toFixed(1)} dB`,
  ]);
  const decoders = rows.filter((r) => r.decodeMs);
  const main = grid(head, body);
  if (!decoders.length) return main;
  const cols = [...new Set(decoders.flatMap((r) => Object.keys(r.decodeMs!)))];
  const dec = grid(['model', ...cols.map((c) => `${c} ms`)], decoders.map((r) => [r.model, ...cols.map((c) => r.decodeMs![c]?.toFixed(0) ?? '-')]));
  return `${main}\n\ndecoders alone (random latents):\n${dec}`;
}

function grid(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

const SELF = fileURLToPath(import.meta.url);

/**
 * Runs `benchModel(spec)` in a fresh Node process and returns its row; with the graph cache on, a first
 * process does the cold load (writing the cache) so the measured process's peak RSS is a restart's.
 */
async function benchInChild(spec: ModelBenchSpec): Promise<EngineBenchRow> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'mengtu-bench-engine-'));
  try {
    const run = async (extra: string[]): Promise<string> => {
      const { stdout } = await promisify(execFile)(process.execPath, [...childArgs(spec), '--scratch', scratch, ...extra], { maxBuffer: 16 * 1024 * 1024 });
      return stdout.trim().split('\n').at(-1)!;
    };
    const cold = spec.graphCache === false ? null : await run(['--cold-load']);
    return (JSON.parse(await run(cold === null ? [] : ['--cold', cold])) as EngineBenchRow[])[0]!;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The model and its int8 copy side by side: the copy measured like any model (own process), and the PSNR
 * of its picture against the fp32 one for the same seed (so the same starting noise), at the bench size.
 */
async function benchInt8(spec: ModelBenchSpec): Promise<EngineBenchRow[]> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'mengtu-bench-int8-'));
  try {
    const src = await modelDir(spec.model, scratch);
    const out: EngineBenchRow[] = [];
    for (const convs of CONV_MODES) {
      const dst = path.join(scratch, `int8-${convs}`);
      await quantizeModel(src, dst, { convs });
      const req = { prompt: 'a photo of a cat', width: spec.size, height: spec.size, seed: 42, steps: spec.steps, guidanceScale: spec.guidanceScale };
      const images = [];
      for (const dir of [src, dst]) {
        const e = await DiffusionEngine.load(dir, { threads: spec.threads ?? os.availableParallelism(), graphCache: false, taesd: null });
        images.push((await e.generate(req)).image);
        await e.close();
      }
      const row = await benchInChild({ ...spec, model: dst, int8: false });
      out.push({ ...row, model: `${spec.model} int8 (Conv ${convs})`, psnrVsFp32: psnr(images[0]!, images[1]!) });
    }
    return out;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * PSNR of `spec.model`'s picture against `reference`'s for the same request (seed, so the same starting
 * noise, and the same final decoder), one model loaded at a time, in this process (before the measured child).
 */
async function comparePictures(spec: ModelBenchSpec, reference: string): Promise<number> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'mengtu-bench-compare-'));
  try {
    await ensureBenchTaesd(spec, scratch);
    const req = { prompt: 'a photo of a cat', width: spec.size, height: spec.size, seed: 42, steps: spec.steps, guidanceScale: spec.guidanceScale };
    const images = [];
    for (const dir of [await modelDir(reference, scratch), await modelDir(spec.model, scratch)]) {
      const e = await DiffusionEngine.load(dir, { ...loadOptions(spec, scratch), graphCache: false });
      images.push((await e.generate(req)).image);
      await e.close();
    }
    return psnr(images[0]!, images[1]!);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function childArgs(spec: ModelBenchSpec): string[] {
  const args = ['--import', 'tsx', SELF, '--json', '--model', spec.model, '--size', String(spec.size), '--steps', String(spec.steps), '--cfg', String(spec.guidanceScale), '--runs', String(spec.runs)];
  if (spec.threads) args.push('--threads', String(spec.threads));
  if (spec.graphCache === false) args.push('--no-graph-cache');
  if (spec.reuseMemory) args.push('--reuse-memory', spec.reuseMemory);
  if (spec.tiling === false) args.push('--no-tiling');
  if (spec.taesd) args.push('--taesd', spec.taesd);
  if (spec.decoders) args.push('--decoders');
  if (spec.int8) args.push('--int8');
  if (spec.decoder) args.push('--decoder', spec.decoder);
  if (spec.lowMemory) args.push('--low-memory');
  return args;
}

function envNum(k: string): number | undefined {
  return process.env[k] ? Number(process.env[k]) : undefined;
}

/** The default set: the tiny model with and without guidance, tiny-wide, tiny-sdxl, and every installed real model. */
export async function runEngineBench(opts: EngineBenchOptions = {}): Promise<EngineBenchRow[]> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const runs = opts.runs ?? envNum('BENCH_RUNS') ?? 5;
  const threads = opts.threads ?? envNum('BENCH_THREADS');
  const t = threads ? { threads } : {};
  const specs: ModelBenchSpec[] = [
    { model: 'tiny', size: envNum('BENCH_SIZE') ?? 256, steps: envNum('BENCH_STEPS') ?? 8, guidanceScale: 7.5, runs, ...t },
    { model: 'tiny', size: envNum('BENCH_SIZE') ?? 512, steps: envNum('BENCH_STEPS') ?? 8, guidanceScale: 0, runs, ...t },
    { model: 'tiny-wide', size: envNum('BENCH_SIZE') ?? 512, steps: envNum('BENCH_STEPS') ?? 4, guidanceScale: 7.5, runs: Math.min(runs, 5), ...t },
    // SDXL signatures (two text encoders, text_embeds, time_ids) at SDXL's native 1024².
    { model: 'tiny-sdxl', size: envNum('BENCH_SIZE') ?? 1024, steps: envNum('BENCH_STEPS') ?? 4, guidanceScale: 5, runs: Math.min(runs, 3), ...t },
  ];
  if (!opts.tinyOnly) {
    // Real models are slow on CPU: one guidance-free run of a few steps at 512.
    for (const dir of await findRealModels()) specs.push({ model: dir, size: envNum('BENCH_SIZE') ?? 512, steps: envNum('BENCH_STEPS') ?? 2, guidanceScale: 0, runs: envNum('BENCH_RUNS') ?? 1, ...t });
  }
  const rows: EngineBenchRow[] = [];
  for (const spec of specs) {
    log(`benchmarking ${spec.model} at ${spec.size}² …`);
    rows.push(await benchInChild(spec));
  }
  log(formatEngineBench(rows));
  return rows;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', multiple: true },
      size: { type: 'string' },
      steps: { type: 'string' },
      cfg: { type: 'string' },
      runs: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean', default: false },
      'no-graph-cache': { type: 'boolean', default: false },
      'reuse-memory': { type: 'string' },
      'no-tiling': { type: 'boolean', default: false },
      taesd: { type: 'string' },
      decoders: { type: 'boolean', default: false },
      int8: { type: 'boolean', default: false },
      decoder: { type: 'string' },
      'low-memory': { type: 'boolean', default: false },
      compare: { type: 'string' },
      // Internal, between the parent and its child processes.
      scratch: { type: 'string' },
      'cold-load': { type: 'boolean', default: false },
      cold: { type: 'string' },
    },
  });
  const reuse = values['reuse-memory'];
  if (reuse !== undefined && reuse !== 'unet' && reuse !== 'all' && reuse !== 'none') throw new Error(`--reuse-memory must be unet, all or none, got ${reuse}`);
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number, got ${v}`);
    return n;
  };
  const threads = num(values.threads, 'threads');
  const decoder = values.decoder;
  if (decoder !== undefined && decoder !== 'vae' && decoder !== 'taesd') throw new Error(`--decoder must be vae or taesd, got ${decoder}`);
  if (decoder === 'taesd' && !values.taesd) throw new Error('--decoder taesd needs --taesd DIR|tiny');
  if (!values.model?.length) {
    await runEngineBench({ ...(num(values.runs, 'runs') !== undefined ? { runs: num(values.runs, 'runs')! } : {}), ...(threads ? { threads } : {}) });
    return;
  }
  const specs: ModelBenchSpec[] = values.model.map((model) => ({
    model,
    size: num(values.size, 'size') ?? 512,
    steps: num(values.steps, 'steps') ?? 1,
    guidanceScale: num(values.cfg, 'cfg') ?? 0,
    runs: num(values.runs, 'runs') ?? 3,
    ...(threads ? { threads } : {}),
    ...(values['no-graph-cache'] ? { graphCache: false } : {}),
    ...(reuse ? { reuseMemory: reuse } : {}),
    ...(values['no-tiling'] ? { tiling: false } : {}),
    ...(values.taesd ? { taesd: values.taesd } : {}),
    ...(values.decoders ? { decoders: true } : {}),
    ...(decoder ? { decoder } : {}),
    ...(values['low-memory'] ? { lowMemory: true } : {}),
  }));
  if (values.json) {
    // A child run: exactly one model, one line on stdout.
    const scratch = values.scratch ?? os.tmpdir();
    if (values['cold-load']) console.log(JSON.stringify(await benchColdLoad(specs[0]!, scratch)));
    else console.log(JSON.stringify([await benchModel(specs[0]!, scratch, values.cold ? (JSON.parse(values.cold) as { ms: number; cpuMs: number }) : null)]));
    return;
  }
  const rows: EngineBenchRow[] = [];
  for (const spec of specs) {
    const psnrVsFp32 = values.compare ? await comparePictures(spec, values.compare) : undefined;
    const row = await benchInChild(spec);
    rows.push(psnrVsFp32 === undefined ? row : { ...row, psnrVsFp32 });
    if (values.int8) rows.push(...(await benchInt8(spec)));
  }
  console.log(formatEngineBench(rows));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ort.env.logLevel = 'error';
  await main();
}

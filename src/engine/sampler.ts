/**
 * The sampler: CLIP text encoding, the denoising loop with classifier-free guidance, and VAE decoding, over
 * a diffusers-ONNX model whose three sessions are created once and reused; image-to-image starts the loop
 * from the encoded input picture (img2img.ts), with the vae_encoder session created on first use.
 */
import os from 'node:os';
import path from 'node:path';
import type * as ort from 'onnxruntime-node';
import { EngineError } from '../contract/errors.js';
import { assertExecutionProvider, type ExecutionProviderName, type SessionConfig } from './execution-provider.js';
import { planarToRgba, resizeRgba } from './image-out.js';
import { locateModel, type ModelFiles } from './model-files.js';
import { FloatFeed, OnnxGraph, ScalarFeed, isDynamic, readFloats, type ValueInfo } from './onnx-session.js';
import { SdxlText, type TextConditioning } from './sdxl.js';
import { encodePrompts } from './text-encode.js';
import { createRng } from './rng.js';
import { decodeTiled, DEFAULT_TILES, needsTiling, type TileOptions } from './vae-tiling.js';
import { createScheduler, guidanceScaleEmbedding, type Scheduler } from './schedulers/index.js';
import { loadClipTokenizer, type ClipTokenizer } from './tokenizer.js';
import { latentPreview } from './preview.js';
import { findTaesd, loadDecoder, type LatentDecoder } from './decoders.js';
import { withHome } from './home.js';
import { ImageEncoder, imageToSample, img2imgSteps, stepsForStrength } from './img2img.js';
import type { DecoderName, Engine, GenerateRequest, GeneratedImage, Latents, RawImage, SchedulerName } from './types.js';

export interface EngineDefaults {
  steps: number;
  guidanceScale: number;
  scheduler?: SchedulerName;
}

export interface LoadEngineOptions {
  name?: string;
  /** Threads inside an operator; default: the machine's core count. */
  threads?: number;
  executionProvider?: ExecutionProviderName;
  defaults?: EngineDefaults;
  /**
   * Where optimized graphs are cached (written on first load, reused after: loads several times faster);
   * default `<model dir>/.ort-cache`; false turns the cache off. An unwritable folder just skips it.
   */
  graphCache?: string | false;
  /**
   * Which graphs keep their activation memory between runs: 'unet' (default: the graph run every step
   * reuses its buffers; the text encoder and decoder, run once a request, give theirs back so they are
   * not resident all the time), 'all' (fastest repeat runs, highest resident memory) or 'none'.
   */
  reuseMemory?: 'unet' | 'all' | 'none';
  /** Decode latents larger than a tile in overlapping tiles (bounded memory at 1024² and above); false: whole. */
  vaeTiling?: TileOptions | false;
  /**
   * A TAESD folder (diffusers AutoencoderTiny ONNX layout: vae_decoder/model.onnx) for step previews and,
   * when chosen, the final image. Default: the installed `taesd` (SD latents) or `taesdxl` (SDXL latents)
   * registry model, if any; null: none.
   */
  taesd?: string | null;
  /** Where installed models are looked for (the runtime's cfg.engine.home); default MENGTU_HOME, else ~/.cache/mengtu. */
  home?: string;
  /** The decoder for final images when a request does not choose: 'vae' (default) or 'taesd'. */
  decoder?: DecoderName;
  /**
   * One big graph resident at a time: each graph is unloaded once its phase of a request is done (text
   * encoder after the prompt, UNet after the last step, decoder after the picture) and created again from
   * the graph cache when next needed, so the peak is the largest phase rather than their sum (SD 2.x fp32:
   * text encoder 1.4 GB, UNet 3.5 GB of weights, VAE decode ~1.2 GB of activations at 512²) for three
   * reloads a request. Also makes `reuseMemory` default to 'none' and turns weight prepacking off.
   */
  lowMemory?: boolean;
}

const FALLBACK_DEFAULTS: EngineDefaults = { steps: 20, guidanceScale: 7.5 };
/** The most steps image-to-image raises a default to so a small strength still runs one. */
const IMG2IMG_MAX_STEPS = 50;
/** Largest side rendered; beyond this latents and VAE activations outgrow a normal host. */
const MAX_SIDE = 4096;

/**
 * The timestep tensor's shape: the declared size when fixed; the batch when the dim is the sample's
 * batch dim; otherwise 1, as diffusers' and optimum's ONNX pipelines feed (the graph broadcasts it).
 */
function timestepDims(ts: ValueInfo, sample: ValueInfo, batch: number): number[] {
  if (ts.shape.length === 0) return []; // a scalar input
  if (!isDynamic(ts, 0)) return [Number(ts.shape[0])];
  return [ts.shape[0] === sample.shape[0] ? batch : 1];
}

function now(): number {
  return performance.now();
}

/** Distinct (scheduler, steps) pairs kept ready; building one costs ~2 ms of table setup. */
const SCHEDULER_CACHE_SIZE = 16;

export class DiffusionEngine implements Engine {
  private closed = false;
  /** Requests in progress; close() lets them finish before releasing the sessions. */
  private readonly inflight = new Set<Promise<GeneratedImage>>();
  private readonly schedulers = new Map<string, Scheduler>();
  /** The vae_encoder session, created by the first image-to-image request (most servers never need it). */
  private encoder: Promise<ImageEncoder> | null = null;
  /** How to create it: the same session settings and graph cache as the other graphs. */
  private encoderSession: { cfg: SessionConfig; cacheDir: string | undefined } | null = null;
  /** LoadEngineOptions.lowMemory: each graph is unloaded after its phase of a request. */
  lowMemory = false;

  private constructor(
    readonly modelName: string,
    readonly files: ModelFiles,
    readonly tokenizer: ClipTokenizer,
    readonly textEncoder: OnnxGraph,
    readonly unet: OnnxGraph,
    readonly vae: OnnxGraph,
    readonly defaults: EngineDefaults,
    readonly tiling: TileOptions | false,
    /** The tiny decoder, when one is installed or given. */
    readonly taesd: LatentDecoder | null,
    readonly defaultDecoder: DecoderName,
    /** SDXL-class models: the second text encoder and how the two condition the UNet. */
    readonly sdxl: SdxlText | null,
  ) {
    this.vaeDecoder = { name: 'vae', graph: vae, scalingFactor: files.vaeScalingFactor };
    const sampleSize = files.unetConfig?.sample_size;
    this.nativeSize = typeof sampleSize === 'number' && sampleSize > 0 ? sampleSize * 8 : files.latentFormat === 'sdxl' ? 1024 : 512;
  }

  /** The side the model was trained at: unet/config.json's sample_size × 8 (SDXL 1024, SD 2.x 768, SD 1.x 512). */
  readonly nativeSize: number;

  readonly vaeDecoder: LatentDecoder;

  static async load(dir: string, opts: LoadEngineOptions = {}): Promise<DiffusionEngine> {
    const ep = opts.executionProvider ?? 'cpu';
    assertExecutionProvider(ep);
    const files = await locateModel(dir);
    const tokenizer = await loadClipTokenizer(files.tokenizerDir);
    // lowMemory creates the text encoder and UNet again every request: packing their weights each time costs
    // more than it saves (see SessionConfig.prepack).
    const cfg: SessionConfig = { executionProvider: ep, intraOpNumThreads: opts.threads ?? os.availableParallelism(), prepack: opts.lowMemory !== true };
    const cacheDir = opts.graphCache === false ? undefined : (opts.graphCache ?? path.join(files.dir, '.ort-cache'));
    // lowMemory: the UNet's memory pattern (planned on its first run, allocated beside the arena on the
    // second) held ~0.75 GB more on an SD-Turbo-class UNet at 512², for no step time measurable here.
    const reuse = opts.reuseMemory ?? (opts.lowMemory ? 'none' : 'unet');
    const graphs: OnnxGraph[] = [];
    try {
      for (const [f, role] of [
        [files.textEncoder, 'text'],
        [files.unet, 'unet'],
        [files.vaeDecoder, 'decoder'],
      ] as const) {
        const reuseMemory = reuse === 'all' || (reuse === 'unet' && role === 'unet');
        graphs.push(await OnnxGraph.load(f, { ...cfg, reuseMemory }, cacheDir));
      }
    } catch (err) {
      await Promise.all(graphs.map((g) => g.release()));
      throw err;
    }
    const [te, unet, vae] = graphs as [OnnxGraph, OnnxGraph, OnnxGraph];
    let taesd: LatentDecoder | null = null;
    let sdxl: SdxlText | null = null;
    try {
      if (files.textEncoder2) sdxl = await SdxlText.load(files, te, tokenizer, unet, { ...cfg, reuseMemory: reuse === 'all' }, cacheDir);
      const taesdDir = opts.taesd === undefined ? await findTaesd(files.latentFormat, withHome(opts.home)) : opts.taesd;
      if (taesdDir) taesd = await loadDecoder(taesdDir, { ...cfg, reuseMemory: true }, cacheDir);
      if (opts.decoder === 'taesd' && !taesd) {
        throw new EngineError(`decoder "taesd" was chosen but no TAESD model is installed; run \`mengtu models pull ${files.latentFormat === 'sdxl' ? 'taesdxl' : 'taesd'}\``);
      }
    } catch (err) {
      await Promise.all([...graphs.map((g) => g.release()), sdxl?.release()]);
      throw err;
    }
    const tiling = opts.vaeTiling === undefined ? DEFAULT_TILES : opts.vaeTiling;
    const engine = new DiffusionEngine(
      opts.name ?? files.dir,
      files,
      tokenizer,
      te,
      unet,
      vae,
      opts.defaults ?? FALLBACK_DEFAULTS,
      tiling,
      taesd,
      opts.decoder ?? 'vae',
      sdxl,
    );
    engine.encoderSession = { cfg: { ...cfg, reuseMemory: reuse === 'all' }, cacheDir };
    engine.lowMemory = opts.lowMemory === true;
    try {
      engine.checkSignatures();
    } catch (err) {
      await engine.close();
      throw err;
    }
    return engine;
  }

  /** Fails at load time, not mid-request, when a graph lacks what the sampler feeds it. */
  private checkSignatures(): void {
    this.textEncoder.input('input_ids');
    for (const name of ['sample', 'timestep', 'encoder_hidden_states']) this.unet.input(name);
    this.vae.input('latent_sample');
    const added = ['text_embeds', 'time_ids'].filter((n) => this.unet.inputs.has(n));
    if (!this.sdxl && added.length) {
      throw new EngineError(`${this.unet.file} takes ${added.join(' and ')} (an SDXL UNet) but ${this.files.dir} has no text_encoder_2/ to make them`);
    }
  }

  get img2img(): boolean {
    return this.files.vaeEncoder !== null;
  }

  private imageEncoder(): Promise<ImageEncoder> {
    const file = this.files.vaeEncoder;
    if (!file || !this.encoderSession) {
      return Promise.reject(
        new EngineError(`model ${this.modelName} has no vae_encoder/model.onnx, so it cannot do image-to-image; configure a model folder that has one (the diffusers ONNX export writes it)`),
      );
    }
    const { cfg, cacheDir } = this.encoderSession;
    this.encoder ??= ImageEncoder.load(file, cfg, this.files.vaeScalingFactor, cacheDir).catch((err: unknown) => {
      this.encoder = null;
      throw err;
    });
    return this.encoder;
  }

  /** Schedulers are stateless (step index and sample are passed in), so one per (name, steps) is shared. */
  private scheduler(name: SchedulerName | undefined, steps: number): Scheduler {
    const key = `${name ?? ''}|${steps}`;
    let s = this.schedulers.get(key);
    if (!s) {
      s = createScheduler(name, this.files.schedulerConfig, steps);
      if (this.schedulers.size >= SCHEDULER_CACHE_SIZE) this.schedulers.delete(this.schedulers.keys().next().value as string);
      this.schedulers.set(key, s);
    }
    return s;
  }

  /** The UNet's text conditioning: SDXL's two encoders, or the single CLIP encoder's last hidden state. */
  private async conditioning(prompt: string, negative: string | undefined, guide: boolean, height: number, width: number): Promise<TextConditioning> {
    if (this.sdxl) return this.sdxl.encode(prompt, negative, guide, height, width);
    const out = this.textEncoder.outputName('last_hidden_state');
    const enc = (await encodePrompts(this.textEncoder, this.tokenizer, guide ? [negative ?? '', prompt] : [prompt], [out]))[out]!;
    const seq = this.tokenizer.maxLength;
    return { uncond: guide ? enc[0]! : null, cond: guide ? enc[1]! : enc[0]!, seq, hidden: enc[0]!.length / seq, added: [] };
  }

  generate(req: GenerateRequest): Promise<GeneratedImage> {
    if (this.closed) return Promise.reject(new EngineError(`engine ${this.modelName} is closed`));
    const p = this.run(req);
    this.inflight.add(p);
    const done = (): void => void this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  private async run(req: GenerateRequest): Promise<GeneratedImage> {
    const t0 = now();
    const signal = req.signal;
    signal?.throwIfAborted();
    const init = req.init;
    const steps = req.steps ?? (init ? stepsForStrength(this.defaults.steps, init.strength, IMG2IMG_MAX_STEPS) : this.defaults.steps);
    const guidanceScale = req.guidanceScale ?? this.defaults.guidanceScale;
    const negativePrompt = req.negativePrompt ?? '';
    for (const [k, v] of [
      ['width', req.width],
      ['height', req.height],
    ] as const) {
      if (!Number.isInteger(v) || v < 1 || v > MAX_SIDE) throw new EngineError(`${k} must be an integer in 1…${MAX_SIDE}, got ${v}`);
    }
    if (!Number.isInteger(steps) || steps < 1) throw new EngineError(`steps must be a positive integer, got ${steps}`);
    const decoder = this.pickDecoder(req.decoder);
    const scheduler = this.scheduler(req.scheduler ?? this.defaults.scheduler, steps);
    // Image-to-image runs the last `count` steps of the schedule, from index `start`.
    const { start, count } = init ? img2imgSteps(steps, init.strength) : { start: 0, count: steps };
    const encoder = init ? await this.imageEncoder() : null;

    const unet = this.unet;
    const sampleInfo = unet.input('sample');
    const lh = Math.ceil(req.height / 8);
    const lw = Math.ceil(req.width / 8);
    const n = 4 * lh * lw;
    // LCM-distilled UNets take guidance as an embedding and need no unconditional pass.
    const condInfo = unet.inputs.get('timestep_cond');
    const guide = guidanceScale > 1 && !condInfo;
    const batched = guide && isDynamic(sampleInfo, 0);

    // Text.
    const tText = now();
    const text = await this.conditioning(req.prompt, req.negativePrompt, guide, lh * 8, lw * 8);
    // SDXL: both encoders (the second, OpenCLIP bigG, is 2.8 GB fp32).
    if (this.lowMemory) await Promise.all([this.textEncoder.unload(), this.sdxl?.encoder2.unload()]);
    const textEncoderMs = now() - tText;

    // Feeds, allocated once per request and refilled every step.
    const B = batched ? 2 : 1;
    const sample = new FloatFeed(sampleInfo.type, [B, 4, lh, lw]);
    const tsInfo = unet.input('timestep');
    const timestep = new ScalarFeed(tsInfo.type, timestepDims(tsInfo, sampleInfo, B));
    const ehsInfo = unet.input('encoder_hidden_states');
    const ehsDims = [B, text.seq, text.hidden];
    // Batched: [uncond; cond] in one tensor (diffusers' order). Otherwise cond here, uncond on its own.
    const ehs = new FloatFeed(ehsInfo.type, ehsDims);
    let ehsUncond: FloatFeed | null = null;
    if (batched) {
      ehs.data.set(text.uncond!, 0);
      ehs.data.set(text.cond, text.cond.length);
    } else {
      ehs.data.set(text.cond);
      if (guide) {
        ehsUncond = new FloatFeed(ehsInfo.type, ehsDims);
        ehsUncond.data.set(text.uncond!);
        ehsUncond.sync();
      }
    }
    ehs.sync();
    const extra: Record<string, ort.Tensor> = {};
    const extraUncond: Record<string, ort.Tensor> = {};
    // SDXL's pooled text_embeds and time_ids: one row per sample, laid out like the text states.
    for (const a of text.added) {
      const info = unet.input(a.name);
      const feed = new FloatFeed(info.type, [B, a.cond.length]);
      feed.data.set(batched ? a.uncond! : a.cond);
      if (batched) feed.data.set(a.cond, a.cond.length);
      extra[info.name] = feed.sync();
      if (guide && !batched) {
        const u = new FloatFeed(info.type, [1, a.uncond!.length]);
        u.data.set(a.uncond!);
        extraUncond[info.name] = u.sync();
      }
    }
    if (condInfo) {
      const dim = Number(condInfo.shape[1] ?? 256);
      const cond = new FloatFeed(condInfo.type, [B, dim]);
      cond.data.set(guidanceScaleEmbedding(guidanceScale, dim));
      extra[condInfo.name] = cond.sync();
    }
    const outName = unet.outputName('out_sample');
    const guided = guide ? new Float32Array(n) : null;
    // float16 outputs are converted into these instead of a fresh array each step.
    const half = unet.output(outName).type === 'float16';
    const outA = half ? new Float32Array(B * n) : undefined;
    const outB = half && guide && !batched ? new Float32Array(n) : undefined;
    // The tensors wrap buffers that are refilled in place, so the feed objects are built once.
    const feeds: Record<string, ort.Tensor> = {
      [sampleInfo.name]: sample.tensor,
      [tsInfo.name]: timestep.tensor,
      [ehsInfo.name]: ehs.tensor,
      ...extra,
    };
    const uncondFeeds = ehsUncond ? { ...feeds, [ehsInfo.name]: ehsUncond.tensor, ...extraUncond } : null;

    // Starting latents: noise at the top of the schedule, or the encoded picture noised to step `start`.
    // The noise is the seed's first draw either way, so strength 1 on a zero-terminal-SNR schedule is
    // exactly the text-to-image run.
    const rng = createRng(req.seed);
    let latents = rng.normal(n);
    let encodeMs = 0;
    if (init && encoder) {
      const tEnc = now();
      const pixels = await imageToSample(init.image, lw * 8, lh * 8);
      // A draw from the latent distribution uses its own stream, so it does not shift the noise above.
      const z = await encoder.encode(pixels, lh, lw, init.latents ?? 'mean', createRng((req.seed ^ 0x5bd1e995) >>> 0));
      encodeMs = now() - tEnc;
      if (this.lowMemory) await encoder.graph.unload();
      latents = count > 0 ? scheduler.addNoise(z, latents, start) : z;
    } else {
      const sigma0 = scheduler.initNoiseSigma;
      for (let i = 0; i < n; i++) latents[i] = latents[i]! * sigma0;
    }
    signal?.throwIfAborted();
    const tUnet = now();
    for (let s = start; s < steps; s++) {
      signal?.throwIfAborted();
      const x = scheduler.scaleModelInput(latents, s);
      sample.data.set(x, 0);
      if (batched) sample.data.set(x, n);
      sample.sync();
      timestep.fill(scheduler.timesteps[s]!);
      let noise: Float32Array;
      if (!guide) {
        noise = readFloats((await unet.run(feeds, [outName]))[outName]!, outA);
      } else {
        let u: Float32Array;
        let c: Float32Array;
        if (batched) {
          const both = readFloats((await unet.run(feeds, [outName]))[outName]!, outA);
          u = both.subarray(0, n);
          c = both.subarray(n, 2 * n);
        } else {
          c = readFloats((await unet.run(feeds, [outName]))[outName]!, outA);
          u = readFloats((await unet.run(uncondFeeds!, [outName]))[outName]!, outB);
        }
        const g = guided!;
        for (let i = 0; i < n; i++) g[i] = u[i]! + guidanceScale * (c[i]! - u[i]!);
        noise = g;
      }
      const before = latents;
      latents = scheduler.step(noise, s, before, rng);
      if (req.onStep) {
        const x0 = scheduler.predictOriginal(noise, s, before);
        const view: Latents = { format: this.files.latentFormat, channels: 4, height: lh, width: lw, data: x0 };
        // The last step's preview would be the picture itself, decoded right after.
        const wanted = s + 1 < steps && (typeof req.previews === 'function' ? req.previews(s - start + 1, count) : req.previews === true);
        const preview = wanted ? await this.preview(view, signal) : undefined;
        req.onStep({ step: s - start + 1, totalSteps: count, timestep: scheduler.timesteps[s]!, elapsedMs: now() - t0, latents: view, ...(preview ? { preview } : {}) });
      }
    }
    const unetMs = now() - tUnet;
    // lowMemory: one big graph resident at a time. The UNet's weights (SD 2.x: 3.46 GB fp32) would otherwise
    // sit beside the VAE decode's activations (~1 GB at 512²) and the next request's text encoder.
    if (this.lowMemory) await unet.unload();

    // Decode.
    signal?.throwIfAborted();
    const tVae = now();
    const decoded = await this.decode(decoder, latents, lh, lw, signal);
    // And the decoder: its arena, shrunk after the run, still held its peak (1.2 GB for the SD VAE at 512²)
    // beside the next request's UNet; only releasing the session gave it back.
    if (this.lowMemory) await decoder.graph.unload();
    const rgba = planarToRgba(decoded.data, decoded.width, decoded.height);
    const W = decoded.width;
    const H = decoded.height;
    const vaeMs = now() - tVae;
    const image = await resizeRgba({ width: W, height: H, data: rgba }, req.width, req.height);

    return {
      image,
      seed: req.seed,
      steps,
      guidanceScale,
      negativePrompt,
      scheduler: scheduler.name,
      decoder: decoder.name,
      img2img: init ? { strength: init.strength, stepsRun: count } : null,
      timings: { textEncoderMs, unetMs, unetMsPerStep: count > 0 ? unetMs / count : 0, vaeMs, ...(init ? { encodeMs } : {}), totalMs: now() - t0 },
    };
  }

  private pickDecoder(name: DecoderName | undefined): LatentDecoder {
    const chosen = name ?? this.defaultDecoder;
    if (chosen === 'vae') return this.vaeDecoder;
    if (!this.taesd) throw new EngineError(`decoder "taesd" is not installed for ${this.modelName}`);
    return this.taesd;
  }

  /** A step preview: TAESD's decode of x̂₀ when installed, else the linear latent→RGB map. */
  private async preview(latents: Latents, signal?: AbortSignal): Promise<RawImage> {
    if (!this.taesd) return latentPreview(latents);
    const d = await this.decode(this.taesd, Float32Array.from(latents.data), latents.height, latents.width, signal);
    return { width: d.width, height: d.height, data: planarToRgba(d.data, d.width, d.height) };
  }

  /**
   * Latents as the sampler holds them [4, lh, lw] → planar RGB in [-1, 1] through `decoder`, in tiles when
   * they are larger than one. `z` is scaled in place to the decoder's input space.
   */
  async decode(decoder: LatentDecoder, z: Float32Array, lh: number, lw: number, signal?: AbortSignal): Promise<{ data: Float32Array; width: number; height: number }> {
    const inv = 1 / decoder.scalingFactor;
    if (inv !== 1) for (let i = 0; i < z.length; i++) z[i] = z[i]! * inv;
    const vae = decoder.graph;
    const info = vae.input('latent_sample');
    const outName = vae.outputName('sample');
    const feeds = new Map<string, FloatFeed>();
    const run = async (tile: Float32Array, h: number, w: number): Promise<Float32Array> => {
      // One feed per tile shape (all tiles but edge cases share one): no allocation per tile.
      let feed = feeds.get(`${h}x${w}`);
      if (!feed) feeds.set(`${h}x${w}`, (feed = new FloatFeed(info.type, [1, 4, h, w])));
      feed.data.set(tile);
      const out = (await vae.run({ [info.name]: feed.sync() }, [outName]))[outName]!;
      // A float32 output's buffer belongs to this run's tensor, so it can be kept without a copy.
      return readFloats(out);
    };
    if (this.tiling && needsTiling(lh, lw, this.tiling)) return decodeTiled(z, 4, lh, lw, run, this.tiling, signal);
    const data = await run(z, lh, lw);
    const f = Math.round(Math.sqrt(data.length / 3 / (lh * lw)));
    return { data, width: lw * f, height: lh * f };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
    const encoder = this.encoder ? await this.encoder.catch(() => null) : null;
    await Promise.all([this.textEncoder.release(), this.unet.release(), this.vae.release(), this.taesd?.graph.release(), encoder?.release(), this.sdxl?.release()]);
  }
}

/** Loads a diffusers-ONNX model directory (sessions are created here, once). */
export function loadEngine(dir: string, opts: LoadEngineOptions = {}): Promise<Engine> {
  return DiffusionEngine.load(dir, opts);
}

/**
 * Image-to-image: the schedule arithmetic against diffusers' formulas (StableDiffusionImg2ImgPipeline's
 * get_timesteps, each scheduler's add_noise), and the engine on the tiny model, whose vae_encoder has the
 * diffusers export's signature.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { EngineError } from '../src/contract/errors.js';
import { img2imgSteps, stepsForStrength } from '../src/engine/img2img.js';
import { loadEngine } from '../src/engine/sampler.js';
import { createScheduler } from '../src/engine/schedulers/index.js';
import { buildTinyModel, TINY_SCHEDULER_CONFIG } from '../src/engine/tiny/build.js';
import { buildTinySdxlModel } from '../src/engine/tiny/index.js';
import type { Engine, RawImage, StepInfo } from '../src/engine/types.js';

/** SD 1.5's scheduler config (PNDM in the repo; DDIM/Euler read the same fields). */
const SD15 = { beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', num_train_timesteps: 1000, steps_offset: 1, timestep_spacing: 'leading', set_alpha_to_one: false, clip_sample: false };

/** ᾱ as diffusers computes it for scaled_linear, written out independently of the engine's schedule code. */
function alphasCumprod(betaStart: number, betaEnd: number, n = 1000): number[] {
  const out: number[] = [];
  let prod = 1;
  for (let i = 0; i < n; i++) {
    const s = Math.sqrt(betaStart) + (i / (n - 1)) * (Math.sqrt(betaEnd) - Math.sqrt(betaStart));
    prod *= 1 - s * s;
    out.push(prod);
  }
  return out;
}

describe('schedule arithmetic (diffusers StableDiffusionImg2ImgPipeline)', () => {
  it('keeps min(int(steps·strength), steps) steps, from index steps − that', () => {
    assert.deepEqual(img2imgSteps(50, 0.8), { start: 10, count: 40 });
    assert.deepEqual(img2imgSteps(20, 0.75), { start: 5, count: 15 });
    // 10·0.3 = 3.0000000000000004 in floating point: int() gives 3, as in Python.
    assert.deepEqual(img2imgSteps(10, 0.3), { start: 7, count: 3 });
    // 3·0.7 = 2.0999999999999996 → 2.
    assert.deepEqual(img2imgSteps(3, 0.7), { start: 1, count: 2 });
    assert.deepEqual(img2imgSteps(4, 1), { start: 0, count: 4 });
    assert.deepEqual(img2imgSteps(1, 0.5), { start: 1, count: 0 });
    assert.deepEqual(img2imgSteps(7, 0), { start: 7, count: 0 });
    assert.throws(() => img2imgSteps(4, 1.5), EngineError);
    assert.throws(() => img2imgSteps(4, Number.NaN), EngineError);
  });

  it('the kept timesteps are the tail of the scheduler\'s own list', () => {
    // DDIM, 50 steps, leading spacing + steps_offset 1 (SD 1.5): 981, 961, …, 1; strength 0.8 keeps 781 … 1.
    const ddim = createScheduler('ddim', SD15, 50);
    const { start } = img2imgSteps(50, 0.8);
    const kept = Array.from(ddim.timesteps.subarray(start));
    assert.equal(kept.length, 40);
    assert.equal(kept[0], 781);
    assert.equal(kept.at(-1), 1);
    // SD-Turbo's Euler, trailing spacing, 4 steps: 999, 749, 499, 249; strength 0.5 keeps 499, 249.
    const euler = createScheduler('euler', TINY_SCHEDULER_CONFIG, 4);
    assert.deepEqual(Array.from(euler.timesteps.subarray(img2imgSteps(4, 0.5).start)), [499, 249]);
  });

  it('raises a default step count until the strength keeps one step', () => {
    assert.equal(stepsForStrength(1, 0.5, 50), 2); // SD-Turbo's model card: 2 steps at strength 0.5
    assert.equal(stepsForStrength(1, 0.3, 50), 4);
    assert.equal(stepsForStrength(20, 0.5, 50), 20);
    assert.equal(stepsForStrength(1, 0, 50), 1);
    assert.equal(stepsForStrength(1, 0.001, 50), 50);
    for (const s of [0.05, 0.1, 0.15, 0.2, 0.3, 0.35, 0.45, 0.55, 0.7, 0.9]) assert.ok(img2imgSteps(stepsForStrength(1, s, 50), s).count >= 1, String(s));
  });

  it('add_noise: Euler adds σ_t·ε; DDIM and LCM mix √ᾱ_t·x₀ + √(1−ᾱ_t)·ε', () => {
    const x0 = Float32Array.from([0.5, -1.25, 2, 0]);
    const eps = Float32Array.from([1, 0.5, -0.75, 2]);
    const ac = alphasCumprod(0.00085, 0.012);
    const euler = createScheduler('euler', TINY_SCHEDULER_CONFIG, 4);
    const at = img2imgSteps(4, 0.5).start; // timestep 499
    const sigma = Math.sqrt((1 - ac[499]!) / ac[499]!);
    const e = euler.addNoise(x0, eps, at);
    x0.forEach((x, i) => assert.ok(Math.abs(e[i]! - (x + sigma * eps[i]!)) < 1e-5, `euler ${i}`));

    const ddim = createScheduler('ddim', SD15, 50);
    const d = ddim.addNoise(x0, eps, img2imgSteps(50, 0.8).start); // timestep 781
    x0.forEach((x, i) => assert.ok(Math.abs(d[i]! - (Math.sqrt(ac[781]!) * x + Math.sqrt(1 - ac[781]!) * eps[i]!)) < 1e-6, `ddim ${i}`));

    const lcm = createScheduler('lcm', { ...SD15, original_inference_steps: 50 }, 4); // 999, 759, 499, 259
    assert.equal(lcm.timesteps[2], 499);
    const l = lcm.addNoise(x0, eps, 2);
    x0.forEach((x, i) => assert.ok(Math.abs(l[i]! - (Math.sqrt(ac[499]!) * x + Math.sqrt(1 - ac[499]!) * eps[i]!)) < 1e-6, `lcm ${i}`));
  });

  it('with zero terminal SNR, DDIM\'s first trailing timestep is pure noise: add_noise returns ε', () => {
    const ddim = createScheduler('ddim', { ...SD15, timestep_spacing: 'trailing', rescale_betas_zero_snr: true }, 4);
    assert.equal(ddim.timesteps[0], 999);
    const out = ddim.addNoise(Float32Array.from([3, -2]), Float32Array.from([0.25, 1]), 0);
    assert.deepEqual(Array.from(out), [0.25, 1]);
  });
});

let root: string;
let tinyDir: string;
let engine: Engine;
let zeroSnr: Engine;
let noEncoder: Engine;
let sdxl: Engine;
let params: Engine;

/** A smooth picture (gradients): what a VAE reproduces well. */
function gradient(width: number, height: number): RawImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const j = (y * width + x) * 4;
      data[j] = 40 + Math.round((160 * x) / width);
      data[j + 1] = 210 - Math.round((150 * y) / height);
      data[j + 2] = 90 + Math.round((60 * (x + y)) / (width + height));
      data[j + 3] = 255;
    }
  }
  return { width, height, data };
}

function meanAbsDiff(a: RawImage, b: RawImage): number {
  assert.equal(a.data.length, b.data.length);
  let s = 0;
  let n = 0;
  for (let i = 0; i < a.data.length; i++) {
    if (i % 4 === 3) continue;
    s += Math.abs(a.data[i]! - b.data[i]!);
    n++;
  }
  return s / n;
}

function maxDiff(a: RawImage, b: RawImage): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

const W = 96;
const H = 64;
const input = gradient(W, H);
const base = { prompt: 'a photo of a cat in a garden', width: W, height: H, seed: 4242 };

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mengtu-i2i-'));
  process.env.MENGTU_HOME = root;
  tinyDir = path.join(root, 'tiny');
  await buildTinyModel(tinyDir);
  const zeroDir = path.join(root, 'zero-snr');
  await buildTinyModel(zeroDir);
  await writeFile(
    path.join(zeroDir, 'scheduler', 'scheduler_config.json'),
    JSON.stringify({ ...SD15, _class_name: 'DDIMScheduler', timestep_spacing: 'trailing', rescale_betas_zero_snr: true }),
  );
  await buildTinyModel(path.join(root, 'no-encoder'), { noVaeEncoder: true });
  const opts = { threads: 2, graphCache: false as const, taesd: null };
  engine = await loadEngine(tinyDir, { ...opts, defaults: { steps: 1, guidanceScale: 0, scheduler: 'euler' } });
  zeroSnr = await loadEngine(zeroDir, { ...opts, defaults: { steps: 4, guidanceScale: 3 } });
  noEncoder = await loadEngine(path.join(root, 'no-encoder'), { ...opts, defaults: { steps: 1, guidanceScale: 0 } });
  await buildTinySdxlModel(path.join(root, 'sdxl'));
  await buildTinyModel(path.join(root, 'params'), { vaeEncoderOutput: 'latent_parameters' });
  params = await loadEngine(path.join(root, 'params'), { ...opts, defaults: { steps: 1, guidanceScale: 0, scheduler: 'euler' } });
  sdxl = await loadEngine(path.join(root, 'sdxl'), { ...opts, defaults: { steps: 4, guidanceScale: 5 } });
});

after(async () => {
  await Promise.all([engine.close(), zeroSnr.close(), noEncoder.close(), sdxl.close(), params.close()]);
  await rm(root, { recursive: true, force: true });
});

describe('image-to-image on the tiny model', () => {
  it('the tiny vae_encoder has the diffusers export signature: sample [B,3,H,W] → latent_sample [B,4,H/8,W/8]', async () => {
    const s = await ort.InferenceSession.create(path.join(tinyDir, 'vae_encoder', 'model.onnx'));
    const i = s.inputMetadata[0]!;
    const o = s.outputMetadata[0]!;
    assert.ok(i.isTensor && o.isTensor);
    assert.deepEqual([i.name, i.type, [...i.shape]], ['sample', 'float32', ['batch', 3, 'height', 'width']]);
    assert.deepEqual([o.name, o.type, [...o.shape]], ['latent_sample', 'float32', ['batch', 4, 'latent_height', 'latent_width']]);
    const out = await s.run({ sample: new ort.Tensor('float32', new Float32Array(3 * 64 * 96).fill(0.2), [1, 3, 64, 96]) });
    assert.deepEqual(out.latent_sample!.dims, [1, 4, 8, 12]);
    await s.release();
    assert.equal(engine.img2img, true);
  });

  it('strength 0 is the input\'s VAE round trip: decoder(encoder(x)·s / s), computed here on the graphs directly', async () => {
    const out = await engine.generate({ ...base, init: { image: input, strength: 0 } });
    assert.deepEqual(out.img2img, { strength: 0, stepsRun: 0 });
    const enc = await ort.InferenceSession.create(path.join(tinyDir, 'vae_encoder', 'model.onnx'));
    const dec = await ort.InferenceSession.create(path.join(tinyDir, 'vae_decoder', 'model.onnx'));
    const plane = W * H;
    const x = new Float32Array(3 * plane);
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) x[c * plane + p] = input.data[p * 4 + c]! / 127.5 - 1;
    const z = (await enc.run({ sample: new ort.Tensor('float32', x, [1, 3, H, W]) })).latent_sample!;
    const zs = Float32Array.from(z.data as Float32Array, (v) => (v * 0.18215) / 0.18215);
    const img = (await dec.run({ latent_sample: new ort.Tensor('float32', zs, [1, 4, H / 8, W / 8]) })).sample!.data as Float32Array;
    const expected = new Uint8ClampedArray(plane * 4);
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) expected[p * 4 + c] = img[c * plane + p]! * 127.5 + 127.5;
      expected[p * 4 + 3] = 255;
    }
    await enc.release();
    await dec.release();
    assert.ok(maxDiff(out.image, { width: W, height: H, data: expected }) <= 1);
    // The tiny encoder inverts the tiny decoder on smooth pictures (up to the 3×3 conv's edges), as a trained
    // VAE does: the round trip is much nearer the input than a text-to-image picture is.
    const roundTrip = meanAbsDiff(out.image, input);
    const t2i = meanAbsDiff((await engine.generate(base)).image, input);
    assert.ok(roundTrip < 20 && roundTrip < t2i / 3, `round trip ${roundTrip.toFixed(1)}, text-to-image ${t2i.toFixed(1)}`);
  });

  it('more strength moves the picture further from the input; strength 1 is as far as text-to-image', async () => {
    const diffs: number[] = [];
    for (const strength of [0, 0.25, 0.5, 0.75, 1]) {
      const out = await engine.generate({ ...base, steps: 4, init: { image: input, strength } });
      assert.equal(out.img2img?.stepsRun, Math.floor(4 * strength));
      diffs.push(meanAbsDiff(out.image, input));
    }
    for (let i = 1; i < diffs.length; i++) assert.ok(diffs[i]! > diffs[i - 1]!, `strength order: ${diffs.map((d) => d.toFixed(1)).join(' < ')}`);
    const t2i = await engine.generate({ ...base, steps: 4 });
    assert.ok(Math.abs(meanAbsDiff(t2i.image, input) - diffs[4]!) < diffs[4]! * 0.2);
  });

  it('strength 1 on a zero-terminal-SNR DDIM schedule is exactly text-to-image from the same seed', async () => {
    const t2i = await zeroSnr.generate({ ...base, steps: 4 });
    const i2i = await zeroSnr.generate({ ...base, steps: 4, init: { image: input, strength: 1 } });
    assert.equal(maxDiff(t2i.image, i2i.image), 0);
    // A different picture at strength 1 gives the same result too (add_noise's √ᾱ_T = 0 drops it); below 1 it shows.
    const other = await zeroSnr.generate({ ...base, steps: 4, init: { image: gradient(40, 40), strength: 1 } });
    assert.equal(maxDiff(t2i.image, other.image), 0);
    const half = await zeroSnr.generate({ ...base, steps: 4, init: { image: input, strength: 0.5 } });
    assert.ok(maxDiff(t2i.image, half.image) > 10);
  });

  it('is deterministic per seed and differs across seeds', async () => {
    const req = { ...base, steps: 4, init: { image: input, strength: 0.5 } };
    const a = await engine.generate(req);
    const b = await engine.generate(req);
    assert.equal(maxDiff(a.image, b.image), 0);
    const c = await engine.generate({ ...req, seed: 99 });
    assert.ok(maxDiff(a.image, c.image) > 0);
  });

  it('without steps, the model default is raised so the strength runs a step; progress counts the steps run', async () => {
    const seen: StepInfo[] = [];
    const out = await engine.generate({ ...base, init: { image: input, strength: 0.5 }, onStep: (s) => seen.push(s) });
    assert.equal(out.steps, 2);
    assert.deepEqual(out.img2img, { strength: 0.5, stepsRun: 1 });
    assert.deepEqual(seen.map((s) => [s.step, s.totalSteps, s.timestep]), [[1, 1, 499]]);
  });

  it('resizes an input of another size and aspect to the requested size', async () => {
    const out = await engine.generate({ ...base, width: 72, height: 40, init: { image: gradient(300, 500), strength: 0.5 } });
    assert.equal(out.image.width, 72);
    assert.equal(out.image.height, 40);
  });

  it('a model folder without vae_encoder says so at load time and refuses image-to-image clearly', async () => {
    assert.equal(noEncoder.img2img, false);
    await assert.rejects(
      noEncoder.generate({ ...base, init: { image: input, strength: 0.5 } }),
      (err: unknown) => err instanceof EngineError && /no vae_encoder/.test(err.message),
    );
    // Text-to-image still works on it.
    const t2i = await noEncoder.generate(base);
    assert.equal(t2i.img2img, null);
  });

  it('refuses a strength outside [0, 1]', async () => {
    await assert.rejects(engine.generate({ ...base, init: { image: input, strength: 1.2 } }), EngineError);
  });
});

describe('image-to-image on the tiny SDXL model (two text encoders, scaling factor 0.13025, leading spacing)', () => {
  it('strength 0 is the round trip; 0.5 runs the last half of the schedule, deterministically, away from the input', async () => {
    assert.equal(sdxl.img2img, true);
    const zero = await sdxl.generate({ ...base, init: { image: input, strength: 0 } });
    const t2i = await sdxl.generate(base);
    assert.ok(meanAbsDiff(zero.image, input) < meanAbsDiff(t2i.image, input) / 3);
    const seen: StepInfo[] = [];
    const req = { ...base, init: { image: input, strength: 0.5 }, onStep: (s: StepInfo) => seen.push(s) };
    const a = await sdxl.generate(req);
    // SDXL base's Euler, leading spacing + steps_offset 1, 4 steps: 751, 501, 251, 1; strength 0.5 keeps 251, 1.
    assert.deepEqual(seen.map((s) => s.timestep), [251, 1]);
    assert.deepEqual(a.img2img, { strength: 0.5, stepsRun: 2 });
    const b = await sdxl.generate({ ...base, init: { image: input, strength: 0.5 } });
    assert.equal(maxDiff(a.image, b.image), 0);
    assert.ok(meanAbsDiff(a.image, input) > meanAbsDiff(zero.image, input));
  });
});

describe('an encoder that returns the distribution (optimum\'s latent_parameters: mean and log-variance)', () => {
  it('the mean gives the latent_sample model\'s picture exactly; a draw with the seed adds exp(logvar/2)·ε, deterministically', async () => {
    const s = await ort.InferenceSession.create(path.join(root, 'params', 'vae_encoder', 'model.onnx'));
    const o = s.outputMetadata[0]!;
    assert.ok(o.isTensor);
    assert.deepEqual([o.name, [...o.shape]], ['latent_parameters', ['batch', 8, 'latent_height', 'latent_width']]);
    await s.release();
    const req = { ...base, steps: 4, init: { image: input, strength: 0.5 } };
    const viaMean = await params.generate(req);
    const viaSample = await engine.generate(req);
    assert.equal(maxDiff(viaMean.image, viaSample.image), 0, 'latent_parameters mean = latent_sample');
    const drawn = await params.generate({ ...req, init: { ...req.init, latents: 'sample' as const } });
    const again = await params.generate({ ...req, init: { ...req.init, latents: 'sample' as const } });
    assert.equal(maxDiff(drawn.image, again.image), 0);
    assert.ok(maxDiff(drawn.image, viaMean.image) > 0, 'the draw moves the latents');
    // At strength 0 the draw is decoded as is: σ = exp(−1) ≈ 0.37 in the unscaled latent space barely moves a
    // decoder whose weights are 0.004, so the round trip stays near the mean's.
    const z0 = await params.generate({ ...base, init: { image: input, strength: 0, latents: 'sample' } });
    const m0 = await params.generate({ ...base, init: { image: input, strength: 0 } });
    assert.ok(meanAbsDiff(z0.image, m0.image) < 3, String(meanAbsDiff(z0.image, m0.image)));
  });
});

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { EngineError } from '../src/contract/errors.js';
import { findTaesd } from '../src/engine/decoders.js';
import { DiffusionEngine, loadEngine } from '../src/engine/sampler.js';
import { buildTinyModel, buildTinyTaesd } from '../src/engine/tiny/build.js';
import type { StepInfo } from '../src/engine/types.js';

let root: string;
let model: string;
let taesd: string;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mengtu-taesd-'));
  model = path.join(root, 'model');
  taesd = path.join(root, 'taesd');
  await buildTinyModel(model);
  await buildTinyTaesd(taesd, { channels: 8 });
});
after(async () => rm(root, { recursive: true, force: true }));

describe('tiny TAESD', () => {
  it('has AutoencoderTiny\'s ONNX signatures: latents ×8 → [-1, 1] RGB, and back', async () => {
    const dec = await ort.InferenceSession.create(path.join(taesd, 'vae_decoder', 'model.onnx'));
    const enc = await ort.InferenceSession.create(path.join(taesd, 'vae_encoder', 'model.onnx'));
    try {
      assert.deepEqual(dec.inputNames, ['latent_sample']);
      assert.deepEqual(dec.outputNames, ['sample']);
      const z = new ort.Tensor('float32', Float32Array.from({ length: 4 * 6 * 5 }, (_, i) => Math.sin(i)), [1, 4, 6, 5]);
      const img = (await dec.run({ latent_sample: z })).sample!;
      assert.deepEqual(img.dims, [1, 3, 48, 40]);
      const px = img.data as Float32Array;
      assert.ok(px.every((v) => v >= -1 && v <= 1));
      assert.ok(new Set(px).size > 100);
      assert.deepEqual(enc.inputNames, ['sample']);
      const lat = (await enc.run({ sample: img })).latent_sample!;
      assert.deepEqual(lat.dims, [1, 4, 6, 5]);
    } finally {
      await Promise.all([dec.release(), enc.release()]);
    }
  });
});

describe('TAESD in the engine', () => {
  let engine: DiffusionEngine;
  before(async () => {
    engine = (await loadEngine(model, { threads: 1, graphCache: false, taesd })) as DiffusionEngine;
  });
  after(async () => engine.close());

  it('decodes the final image with TAESD when a request chooses it, with the VAE otherwise', async () => {
    const req = { prompt: 'a bowl of fruit', width: 64, height: 48, seed: 4, steps: 2, guidanceScale: 0 };
    const vae = await engine.generate(req);
    const tiny = await engine.generate({ ...req, decoder: 'taesd' });
    assert.equal(vae.decoder, 'vae');
    assert.equal(tiny.decoder, 'taesd');
    assert.deepEqual([tiny.image.width, tiny.image.height], [64, 48]);
    assert.notDeepEqual(tiny.image.data, vae.image.data);
    // TAESD takes the UNet latents unscaled: the engine's picture is a direct decode of the final latents
    // (with Euler, the last step's x̂₀ is exactly the final sample).
    let last: StepInfo | undefined;
    const again = await engine.generate({ ...req, decoder: 'taesd', onStep: (s) => (last = s) });
    assert.deepEqual(again.image.data, tiny.image.data);
    const dec = await ort.InferenceSession.create(path.join(taesd, 'vae_decoder', 'model.onnx'));
    const { latents } = last!;
    const rgb = (await dec.run({ latent_sample: new ort.Tensor('float32', latents.data, [1, 4, latents.height, latents.width]) })).sample!.data as Float32Array;
    await dec.release();
    const plane = 64 * 48;
    let max = 0;
    for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(rgb[c * plane + i]! * 127.5 + 127.5 - tiny.image.data[i * 4 + c]!));
    assert.ok(max <= 0.51, `max difference ${max}`);
  });

  it('an engine loaded with decoder taesd (MENGTU_VAE=taesd) uses it unless a request asks for the VAE', async () => {
    const e = await loadEngine(model, { threads: 1, graphCache: false, taesd, decoder: 'taesd' });
    try {
      const req = { prompt: 'a bowl of fruit', width: 64, height: 48, seed: 4, steps: 2, guidanceScale: 0 };
      const [byDefault, vae] = [await e.generate(req), await e.generate({ ...req, decoder: 'vae' })];
      assert.equal(byDefault.decoder, 'taesd');
      assert.equal(vae.decoder, 'vae');
      assert.deepEqual(byDefault.image.data, (await engine.generate({ ...req, decoder: 'taesd' })).image.data);
    } finally {
      await e.close();
    }
  });

  it('previews every step but the last with TAESD at full size', async () => {
    const steps: StepInfo[] = [];
    await engine.generate({ prompt: 'x', width: 64, height: 64, seed: 1, steps: 3, guidanceScale: 0, previews: true, onStep: (s) => steps.push(s) });
    assert.deepEqual(steps.map((s) => (s.preview ? [s.preview.width, s.preview.height] : null)), [[64, 64], [64, 64], null]);
    assert.notDeepEqual(steps[0]!.preview!.data, steps[1]!.preview!.data);
  });

  it('decodes a preview only on the steps the caller asks for', async () => {
    const asked: number[][] = [];
    const steps: StepInfo[] = [];
    const previews = (step: number, total: number): boolean => {
      asked.push([step, total]);
      return step === 2;
    };
    await engine.generate({ prompt: 'x', width: 64, height: 64, seed: 1, steps: 4, guidanceScale: 0, previews, onStep: (s) => steps.push(s) });
    // Asked before each step's decode but the last (the final decode follows it).
    assert.deepEqual(asked, [[1, 4], [2, 4], [3, 4]]);
    assert.deepEqual(steps.map((s) => (s.preview ? s.preview.width : null)), [null, 64, null, null]);
  });

  it('without TAESD, previews are the linear latent map and choosing taesd is an EngineError', async () => {
    const plain = await loadEngine(model, { threads: 1, graphCache: false, taesd: null });
    try {
      const steps: StepInfo[] = [];
      await plain.generate({ prompt: 'x', width: 64, height: 64, seed: 1, steps: 2, guidanceScale: 0, previews: true, onStep: (s) => steps.push(s) });
      assert.deepEqual([steps[0]!.preview!.width, steps[0]!.preview!.height], [8, 8]);
      await assert.rejects(plain.generate({ prompt: 'x', width: 64, height: 64, seed: 1, decoder: 'taesd' }), EngineError);
    } finally {
      await plain.close();
    }
    await assert.rejects(loadEngine(model, { threads: 1, graphCache: false, taesd: null, decoder: 'taesd' }), /taesd/);
  });

  it('finds the installed TAESD for the latent space under the models folder', async () => {
    const home = path.join(root, 'home');
    const env = { MENGTU_HOME: home };
    assert.equal(await findTaesd('sd', env), null);
    await mkdir(path.join(home, 'models'), { recursive: true });
    await buildTinyTaesd(path.join(home, 'models', 'taesd'), { channels: 4 });
    assert.equal(await findTaesd('sd', env), path.join(home, 'models', 'taesd'));
    assert.equal(await findTaesd('sdxl', env), null);
  });
});

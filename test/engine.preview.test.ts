import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EngineError } from '../src/contract/errors.js';
import { latentPreview, LATENT_RGB } from '../src/engine/preview.js';
import { loadEngine } from '../src/engine/sampler.js';
import { previewCadence } from '../src/pipeline/preview.js';
import { createRng } from '../src/engine/rng.js';
import { createScheduler } from '../src/engine/schedulers/index.js';
import { ensureTinyModel, TINY_SCHEDULER_CONFIG } from '../src/engine/tiny/build.js';
import type { Engine, Latents, SchedulerName, StepInfo } from '../src/engine/types.js';

describe('latentPreview', () => {
  it('maps zero latents to mid-grey (SD) and to the bias (SDXL)', () => {
    const zero: Latents = { format: 'sd', channels: 4, height: 2, width: 3, data: new Float32Array(24) };
    const sd = latentPreview(zero);
    assert.equal(sd.width, 3);
    assert.equal(sd.height, 2);
    assert.deepEqual([...sd.data.subarray(0, 4)], [128, 128, 128, 255]);
    const xl = latentPreview({ ...zero, format: 'sdxl' });
    const bias = LATENT_RGB.sdxl.bias.map((b) => Math.round(b * 127.5 + 127.5));
    assert.deepEqual([...xl.data.subarray(0, 3)], bias);
  });

  it('applies each channel\'s RGB factors at its own pixel (planar layout)', () => {
    // 1×2 latents: pixel 0 has channel 3 = 1, pixel 1 has channel 0 = 1.
    const data = new Float32Array(8);
    data[3 * 2 + 0] = 1;
    data[0 * 2 + 1] = 1;
    const img = latentPreview({ format: 'sd', channels: 4, height: 1, width: 2, data });
    const px = (k: number, c: number): number => Math.round(LATENT_RGB.sd.factors[k]![c]! * 127.5 + 127.5);
    assert.deepEqual([...img.data.subarray(0, 3)], [px(3, 0), px(3, 1), px(3, 2)]);
    assert.deepEqual([...img.data.subarray(4, 7)], [px(0, 0), px(0, 1), px(0, 2)]);
  });

  it('rejects latents of the wrong shape', () => {
    assert.throws(() => latentPreview({ format: 'sd', channels: 16, height: 1, width: 1, data: new Float32Array(16) }), EngineError);
    assert.throws(() => latentPreview({ format: 'sd', channels: 4, height: 4, width: 4, data: new Float32Array(8) }), EngineError);
  });
});

describe('predictOriginal (x̂₀ for previews)', () => {
  it('equals the step result on a last step that lands on σ = 0 (Euler) and on LCM\'s last step', () => {
    for (const name of ['euler', 'lcm'] as SchedulerName[]) {
      const s = createScheduler(name, { ...TINY_SCHEDULER_CONFIG }, 2);
      const x = createRng(1).normal(64);
      const eps = createRng(2).normal(64);
      const stepped = s.step(eps, 1, x, createRng(3));
      const x0 = s.predictOriginal(eps, 1, x);
      for (let i = 0; i < 64; i++) assert.ok(Math.abs(stepped[i]! - x0[i]!) < 1e-5, `${name} ${i}`);
    }
  });

  it('ε-prediction DDIM: x̂₀ = (x − √(1−ᾱ_t)·ε)/√ᾱ_t with scaled_linear betas', () => {
    const s = createScheduler('ddim', { ...TINY_SCHEDULER_CONFIG }, 1);
    const t = s.timesteps[0]!;
    // ᾱ_t by hand: betas = linspace(√β_start, √β_end, 1000)², ᾱ = Π(1 − β).
    let ac = 1;
    for (let i = 0; i <= t; i++) {
      const r = Math.sqrt(0.00085) + ((Math.sqrt(0.012) - Math.sqrt(0.00085)) * i) / 999;
      ac *= 1 - r * r;
    }
    const x = new Float32Array([1, -2]);
    const eps = new Float32Array([0.5, 0.25]);
    const x0 = s.predictOriginal(eps, 0, x);
    for (let i = 0; i < 2; i++) {
      const want = (x[i]! - Math.sqrt(1 - ac) * eps[i]!) / Math.sqrt(ac);
      assert.ok(Math.abs(x0[i]! - want) < 1e-3 * Math.abs(want), `${x0[i]} vs ${want}`);
    }
  });
});

describe('previewCadence (which steps decode a preview)', () => {
  it('the first step, then one per interval counted from when the last preview was ready', () => {
    let t = 0;
    const c = previewCadence(500, 0.2, () => t);
    assert.equal(c.due(), true);
    t = 10;
    c.delivered(); // a 10 ms decode
    t = 400;
    assert.equal(c.due(), false);
    t = 509;
    assert.equal(c.due(), false, '500 ms from the end of the decode, not from the ask');
    t = 510;
    assert.equal(c.due(), true);
  });

  it('a decode slower than the interval allows is spaced so decodes take at most the share', () => {
    let t = 0;
    const c = previewCadence(500, 0.2, () => t);
    assert.equal(c.due(), true);
    t = 2000;
    c.delivered(); // a 2 s decode: the next one waits 4 × 2 s of sampling
    t = 2000 + 7999;
    assert.equal(c.due(), false);
    t = 2000 + 8000;
    assert.equal(c.due(), true);
  });
});

describe('step callbacks carry latents', () => {
  let root: string;
  let engine: Engine;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'mengtu-preview-'));
    engine = await loadEngine(await ensureTinyModel({ MENGTU_HOME: root }), { threads: 1 });
  });
  after(async () => {
    await engine.close();
    await rm(root, { recursive: true, force: true });
  });

  it('each step reports x̂₀ at latent size in SD format, and the previews change as denoising goes on', async () => {
    const steps: StepInfo[] = [];
    await engine.generate({ prompt: 'a red fox', width: 72, height: 48, seed: 5, steps: 3, guidanceScale: 3, onStep: (s) => steps.push(s) });
    assert.equal(steps.length, 3);
    for (const s of steps) {
      assert.equal(s.latents.format, 'sd');
      assert.deepEqual([s.latents.channels, s.latents.height, s.latents.width], [4, 6, 9]);
      assert.equal(s.latents.data.length, 4 * 6 * 9);
      assert.ok(s.latents.data.every(Number.isFinite));
    }
    const a = latentPreview(steps[0]!.latents);
    const b = latentPreview(steps[2]!.latents);
    assert.equal(a.width, 9);
    assert.notDeepEqual([...a.data], [...b.data]);
  });
});

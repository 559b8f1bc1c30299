import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScheduler, schedulerForClass, SchedulerConfigError, lcmBoundaryScalings, guidanceScaleEmbedding } from '../src/engine/schedulers/index.js';
import type { SigmaScheduler } from '../src/engine/schedulers/index.js';
import { createRng } from '../src/engine/rng.js';

// The configs as published on the hub (runwayml SD 1.5 scheduler_config.json, stabilityai/sd-turbo, LCM_Dreamshaper_v7).
const SD15 = {
  _class_name: 'PNDMScheduler',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
  clip_sample: false,
};
const TURBO = {
  _class_name: 'EulerDiscreteScheduler',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  interpolation_type: 'linear',
  num_train_timesteps: 1000,
  prediction_type: 'epsilon',
  set_alpha_to_one: false,
  steps_offset: 1,
  timestep_spacing: 'trailing',
  trained_betas: null,
  use_karras_sigmas: false,
};
const LCM = {
  _class_name: 'LCMScheduler',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  num_train_timesteps: 1000,
  original_inference_steps: 50,
  prediction_type: 'epsilon',
  set_alpha_to_one: true,
  steps_offset: 1,
  trained_betas: null,
};

// ᾱ for scaled_linear, written out from the definition β_i = (√β₀ + i/(N−1)(√β₁ − √β₀))².
function alphaBar(cfg: { beta_start: number; beta_end: number }, n = 1000): number[] {
  const out: number[] = [];
  let p = 1;
  for (let i = 0; i < n; i++) {
    const r = Math.sqrt(cfg.beta_start) + (i / (n - 1)) * (Math.sqrt(cfg.beta_end) - Math.sqrt(cfg.beta_start));
    p *= 1 - r * r;
    out.push(p);
  }
  return out;
}
const AB = alphaBar(SD15);
const sigmaAt = (t: number): number => {
  const lo = Math.floor(t);
  const hi = Math.min(lo + 1, 999);
  const s = (i: number): number => Math.sqrt((1 - AB[i]!) / AB[i]!);
  return s(lo) + (t - lo) * (s(hi) - s(lo));
};

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol * Math.max(1, Math.abs(expected[i]!)), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

function randomVec(seed: number, n: number): Float32Array {
  return createRng(seed).normal(n);
}

test('SD 1.5 Euler, 20 steps, leading spacing: diffusers timesteps 951…1 and σ from ᾱ', () => {
  const s = createScheduler('euler', { ...SD15, timestep_spacing: 'leading' }, 20) as SigmaScheduler;
  const expected = Array.from({ length: 20 }, (_, i) => 951 - 50 * i);
  assert.deepEqual(Array.from(s.timesteps), expected);
  close(s.sigmas.subarray(0, 20), expected.map(sigmaAt), 1e-9, 'sigmas');
  assert.equal(s.sigmas[20], 0);
  // Leading never reaches t = 999, so the initial latents are the VP-scaled ones.
  assert.ok(Math.abs(s.initNoiseSigma - Math.sqrt(sigmaAt(951) ** 2 + 1)) < 1e-9);
});

test('linspace spacing (Euler default) spans 999…0 with fractional timesteps; σ_max ≈ 14.6146 for SD', () => {
  for (const steps of [4, 20, 50]) {
    const s = createScheduler('euler', SD15, steps) as SigmaScheduler;
    const expected = Array.from({ length: steps }, (_, i) => 999 - (i * 999) / (steps - 1));
    close(s.timesteps, expected, 1e-6, `timesteps(${steps})`);
    close(s.sigmas.subarray(0, steps), expected.map(sigmaAt), 1e-9, `sigmas(${steps})`);
    assert.ok(Math.abs(s.initNoiseSigma - 14.6146) < 1e-3, `init sigma ${s.initNoiseSigma}`);
  }
});

test('trailing spacing: 4 steps are 999,749,499,249; halves round to even like numpy', () => {
  const s = createScheduler('euler', TURBO, 4);
  assert.deepEqual(Array.from(s.timesteps), [999, 749, 499, 249]);
  // 1000 − 3·62.5 = 812.5 → 812 (round half to even) → 811.
  const s16 = createScheduler('euler', TURBO, 16);
  assert.equal(s16.timesteps[3], 811);
  assert.equal(s16.timesteps[1], 937 - 1 + 1); // 937.5 → 938 → 937
  const s50 = createScheduler('euler', TURBO, 50);
  assert.deepEqual(Array.from(s50.timesteps), Array.from({ length: 50 }, (_, i) => 999 - 20 * i));
});

test('scaleModelInput divides by √(σ²+1)', () => {
  const s = createScheduler('euler', SD15, 20) as SigmaScheduler;
  const x = randomVec(1, 64);
  const y = s.scaleModelInput(x, 5);
  const k = Math.sqrt(s.sigmas[5]! ** 2 + 1);
  close(y, Array.from(x, (v) => v / k), 1e-6, 'scaled');
});

test('Euler with an oracle ε walks the σ ladder and lands on the clean sample', () => {
  const steps = 20;
  const s = createScheduler('euler', SD15, steps) as SigmaScheduler;
  const x0 = randomVec(7, 256);
  const n = randomVec(8, 256);
  let x: Float32Array = Float32Array.from(n, (v, i) => x0[i]! + v * s.initNoiseSigma);
  const rng = createRng(0);
  for (let i = 0; i < steps; i++) {
    const sigma = s.sigmas[i]!;
    const eps = Float32Array.from(x, (v, j) => (v - x0[j]!) / sigma);
    x = s.step(eps, i, x, rng);
    // Exact for this ODE: x − x₀ = σ_{i+1}·n.
    close(x, Array.from(x0, (v, j) => v + s.sigmas[i + 1]! * n[j]!), 1e-4, `after step ${i}`);
  }
  close(x, x0, 1e-5, 'final');
});

test('SD-Turbo, 1 step: from σ_max straight to the clean sample', () => {
  const s = createScheduler(undefined, TURBO, 1) as SigmaScheduler;
  assert.equal(s.name, 'euler');
  assert.deepEqual(Array.from(s.timesteps), [999]);
  assert.ok(Math.abs(s.initNoiseSigma - sigmaAt(999)) < 1e-9);
  const x0 = randomVec(3, 128);
  const eps = randomVec(4, 128);
  const x = Float32Array.from(x0, (v, i) => v + s.initNoiseSigma * eps[i]!);
  const out = s.step(eps, 0, x, createRng(1));
  close(out, x0, 1e-5, 'x0');
});

test('v_prediction converts to x̂₀ correctly (Euler and DDIM)', () => {
  const x0 = randomVec(11, 128);
  const eps = randomVec(12, 128);
  // Euler (VE view): x = x₀ + σε, v = (ε − σx₀)/√(σ²+1).
  const e = createScheduler('euler', { ...TURBO, prediction_type: 'v_prediction' }, 1) as SigmaScheduler;
  const sg = e.sigmas[0]!;
  const xe = Float32Array.from(x0, (v, i) => v + sg * eps[i]!);
  const ve = Float32Array.from(x0, (v, i) => (eps[i]! - sg * v) / Math.sqrt(sg * sg + 1));
  close(e.step(ve, 0, xe, createRng(0)), x0, 1e-4, 'euler v');
  // DDIM (VP view): x = √ᾱx₀ + √(1−ᾱ)ε, v = √ᾱε − √(1−ᾱ)x₀.
  const d = createScheduler('ddim', { ...SD15, timestep_spacing: 'trailing', set_alpha_to_one: true, prediction_type: 'v_prediction' }, 1);
  const a = AB[999]!;
  const xd = Float32Array.from(x0, (v, i) => Math.sqrt(a) * v + Math.sqrt(1 - a) * eps[i]!);
  const vd = Float32Array.from(x0, (v, i) => Math.sqrt(a) * eps[i]! - Math.sqrt(1 - a) * v);
  close(d.step(vd, 0, xd, createRng(0)), x0, 1e-4, 'ddim v');
});

test('DDIM with the exact noise: one step reconstructs x₀, and every step lands on the forward-noised sample', () => {
  const x0 = randomVec(21, 200);
  const eps = randomVec(22, 200);
  const one = createScheduler('ddim', { ...SD15, timestep_spacing: 'trailing', set_alpha_to_one: true }, 1);
  assert.deepEqual(Array.from(one.timesteps), [999]);
  assert.equal(one.initNoiseSigma, 1);
  const a = AB[999]!;
  const xT = Float32Array.from(x0, (v, i) => Math.sqrt(a) * v + Math.sqrt(1 - a) * eps[i]!);
  close(one.step(eps, 0, xT, createRng(0)), x0, 1e-4, 'one-step x0');

  const s = createScheduler('ddim', SD15, 10); // leading + steps_offset 1: 901, 801, …, 1
  assert.deepEqual(Array.from(s.timesteps), [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
  const noised = (t: number): Float32Array => Float32Array.from(x0, (v, i) => Math.sqrt(AB[t]!) * v + Math.sqrt(1 - AB[t]!) * eps[i]!);
  let x = noised(901);
  for (let i = 0; i < 10; i++) {
    x = s.step(eps, i, x, createRng(0));
    const prev = 901 - 100 * (i + 1);
    // set_alpha_to_one false → the final ᾱ is ᾱ₀.
    const expected = prev >= 0 ? noised(prev) : Float32Array.from(x0, (v, j) => Math.sqrt(AB[0]!) * v + Math.sqrt(1 - AB[0]!) * eps[j]!);
    close(x, expected, 1e-4, `ddim step ${i}`);
  }
});

test('DDIM linspace spacing rounds like numpy; clip_sample clamps x̂₀', () => {
  const s = createScheduler('ddim', { ...SD15, timestep_spacing: 'linspace' }, 4);
  assert.deepEqual(Array.from(s.timesteps), [999, 666, 333, 0]);
  const c = createScheduler('ddim', { ...SD15, timestep_spacing: 'trailing', set_alpha_to_one: true, clip_sample: true }, 1);
  const x = new Float32Array([5, -5]);
  const out = c.step(new Float32Array([0, 0]), 0, x, createRng(0)); // ε = 0 → x̂₀ = x/√ᾱ, far outside ±1
  assert.deepEqual(Array.from(out), [1, -1]);
});

test('Euler ancestral: same seed same result, different seed different; last step has no noise', () => {
  const steps = 8;
  const s = createScheduler('euler_a', SD15, steps) as SigmaScheduler;
  const x0 = randomVec(31, 100);
  const run = (seed: number): Float32Array => {
    const rng = createRng(seed);
    let x: Float32Array = Float32Array.from(randomVec(32, 100), (v, i) => x0[i]! + v * s.initNoiseSigma);
    const mid: number[] = [];
    for (let i = 0; i < steps; i++) {
      const sigma = s.sigmas[i]!;
      const eps = Float32Array.from(x, (v, j) => (v - x0[j]!) / sigma);
      x = s.step(eps, i, x, rng);
      if (i === 3) mid.push(...x);
    }
    return Float32Array.from(mid);
  };
  assert.deepEqual(run(5), run(5));
  assert.notDeepEqual(run(5), run(6));
  // With the oracle, the last step (σ_next = 0, σ_up = 0) returns x₀ exactly whatever the noise was.
  const rng = createRng(9);
  const x = Float32Array.from(x0, (v, i) => v + 0.5 * i);
  const sigma = s.sigmas[steps - 1]!;
  const eps = Float32Array.from(x, (v, j) => (v - x0[j]!) / sigma);
  close(s.step(eps, steps - 1, x, rng), x0, 1e-5, 'last');
});

test('LCM: original_inference_steps 50, 4 steps → 999, 759, 499, 259; boundary scalings; oracle converges', () => {
  const s = createScheduler(undefined, LCM, 4);
  assert.equal(s.name, 'lcm');
  assert.deepEqual(Array.from(s.timesteps), [999, 759, 499, 259]);
  assert.deepEqual(Array.from(createScheduler('lcm', LCM, 1).timesteps), [999]);
  assert.deepEqual(Array.from(createScheduler('lcm', LCM, 2).timesteps), [999, 499]);
  const b = lcmBoundaryScalings(259, 10);
  assert.ok(Math.abs(b.cSkip - 0.25 / (2590 ** 2 + 0.25)) < 1e-15);
  assert.ok(Math.abs(b.cOut - 2590 / Math.sqrt(2590 ** 2 + 0.25)) < 1e-12);
  const b0 = lcmBoundaryScalings(0, 10);
  assert.deepEqual([b0.cSkip, b0.cOut], [1, 0]);
  const x0 = randomVec(41, 100);
  const rng = createRng(2);
  let x = randomVec(42, 100);
  for (let i = 0; i < 4; i++) {
    const a = AB[s.timesteps[i]!]!;
    const eps = Float32Array.from(x, (v, j) => (v - Math.sqrt(a) * x0[j]!) / Math.sqrt(1 - a));
    x = s.step(eps, i, x, rng);
  }
  close(x, x0, 1e-4, 'lcm final');
  assert.throws(() => createScheduler('lcm', LCM, 51), SchedulerConfigError);
});

test('LCM guidance embedding: sin half then cos half of (w−1)·1000·10000^(−i/(d/2−1))', () => {
  const e = guidanceScaleEmbedding(8.5, 256);
  assert.equal(e.length, 256);
  assert.ok(Math.abs(e[0]! - Math.sin(7500)) < 1e-6);
  assert.ok(Math.abs(e[128]! - Math.cos(7500)) < 1e-6);
  assert.ok(Math.abs(e[127]! - Math.sin(7500 / 10000)) < 1e-6);
});

test('config validation: unknown beta_schedule, bad types and wrong trained_betas length are clear errors', () => {
  assert.throws(() => createScheduler('euler', { ...SD15, beta_schedule: 'quadratic' }, 4), (e: unknown) => e instanceof SchedulerConfigError && /beta_schedule/.test(e.message));
  assert.throws(() => createScheduler('ddim', { ...SD15, num_train_timesteps: 'many' }, 4), /num_train_timesteps/);
  assert.throws(() => createScheduler('euler', { ...SD15, timestep_spacing: 'sideways' }, 4), /timestep_spacing/);
  assert.throws(() => createScheduler('euler', { ...SD15, trained_betas: [0.1, 0.2] }, 4), /trained_betas/);
  assert.throws(() => createScheduler('euler', SD15, 0), /steps/);
});

test('linear, squaredcos_cap_v2 and trained_betas schedules follow their definitions', () => {
  const linear = createScheduler('euler', { num_train_timesteps: 1000, beta_schedule: 'linear', beta_start: 0.0001, beta_end: 0.02 }, 1000) as SigmaScheduler;
  let p = 1;
  const sig: number[] = [];
  for (let i = 0; i < 1000; i++) {
    p *= 1 - (0.0001 + (i / 999) * (0.02 - 0.0001));
    sig.push(Math.sqrt((1 - p) / p));
  }
  close(linear.sigmas.subarray(0, 1000), sig.reverse(), 1e-9, 'linear');
  const cos = createScheduler('euler', { beta_schedule: 'squaredcos_cap_v2' }, 1000) as SigmaScheduler;
  const f = (t: number): number => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  // Uncapped region: ᾱ_t = f((t+1)/N)/f(0).
  const expected500 = Math.sqrt((1 - f(501 / 1000) / f(0)) / (f(501 / 1000) / f(0)));
  assert.ok(Math.abs(cos.sigmas[999 - 500]! - expected500) < 1e-9);
  const trained = createScheduler('euler', { trained_betas: Array(1000).fill(0.01) }, 1000) as SigmaScheduler;
  assert.ok(Math.abs(trained.sigmas[999]! - Math.sqrt((1 - 0.99) / 0.99)) < 1e-12);
});

test('Karras sigmas run from σ_max to σ_min with ρ = 7 and map back to timesteps', () => {
  const s = createScheduler('euler', { ...SD15, use_karras_sigmas: true }, 10) as SigmaScheduler;
  const smax = sigmaAt(999), smin = sigmaAt(0);
  const expected = Array.from({ length: 10 }, (_, i) => (smax ** (1 / 7) + (i / 9) * (smin ** (1 / 7) - smax ** (1 / 7))) ** 7);
  close(s.sigmas.subarray(0, 10), expected, 1e-9, 'karras');
  assert.ok(Math.abs(s.timesteps[0]! - 999) < 1e-3 && Math.abs(s.timesteps[9]!) < 1e-3);
  for (let i = 1; i < 10; i++) assert.ok(s.timesteps[i]! < s.timesteps[i - 1]!);
});

test('scheduler chosen from _class_name; unknown classes fall back to euler with a note', () => {
  assert.equal(createScheduler(undefined, { _class_name: 'EulerAncestralDiscreteScheduler' }, 4).name, 'euler_a');
  assert.equal(createScheduler(undefined, { _class_name: 'DDIMScheduler' }, 4).name, 'ddim');
  assert.equal(createScheduler(undefined, SD15, 4).name, 'euler');
  assert.match(schedulerForClass('PNDMScheduler').note ?? '', /PNDMScheduler.*euler/);
  assert.equal(schedulerForClass('LCMScheduler').note, undefined);
});

/** The contract between schedulers and the sampler loop. */
import type { SchedulerName } from '../types.js';
import type { Rng } from '../rng.js';

export interface Scheduler {
  readonly name: SchedulerName;
  /** One per step, the value fed to the UNet's `timestep` input. */
  readonly timesteps: Float32Array;
  /** Multiply the initial N(0,1) latents by this. */
  readonly initNoiseSigma: number;
  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array;
  /** Returns the previous (less noisy) sample. */
  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, rng: Rng): Float32Array;
  /** x̂₀: the model's current estimate of the clean latents (what step previews show). */
  predictOriginal(modelOutput: Float32Array, stepIndex: number, sample: Float32Array): Float32Array;
  /**
   * `original` noised to the level the loop expects at `stepIndex` (diffusers' `add_noise` with
   * `begin_index = stepIndex`): image-to-image starts its loop there.
   */
  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array;
}

/** The variance-preserving forward process at ᾱ: √ᾱ·x₀ + √(1−ᾱ)·ε (DDPM, DDIM, LCM `add_noise`). */
export function vpAddNoise(original: Float32Array, noise: Float32Array, alphaCumprod: number): Float32Array {
  checkSameLength(noise, original);
  return linearCombine(original, noise, Math.sqrt(alphaCumprod), Math.sqrt(1 - alphaCumprod));
}

/** out[i] = a·sample[i] + b·model[i], clipped to ±clip. */
export function linearCombine(sample: Float32Array, model: Float32Array, a: number, b: number, clip = Infinity): Float32Array {
  checkSameLength(model, sample);
  const out = new Float32Array(sample.length);
  for (let i = 0; i < sample.length; i++) out[i] = Math.min(clip, Math.max(-clip, a * sample[i]! + b * model[i]!));
  return out;
}

/** Euler-family schedulers also expose their σ ladder (length steps + 1, ending in the final σ). */
export interface SigmaScheduler extends Scheduler {
  readonly sigmas: Float64Array;
}

export function checkStepIndex(stepIndex: number, steps: number): void {
  if (!Number.isInteger(stepIndex) || stepIndex < 0 || stepIndex >= steps) {
    throw new RangeError(`stepIndex ${stepIndex} out of range 0…${steps - 1}`);
  }
}

export function checkSameLength(a: Float32Array, b: Float32Array): void {
  if (a.length !== b.length) throw new RangeError(`model output has ${a.length} values, sample has ${b.length}`);
}

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

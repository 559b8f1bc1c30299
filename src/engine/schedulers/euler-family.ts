/** The shell the Euler-family schedulers share: config, σ ladder, input scaling and argument checks. */
import type { SchedulerName } from '../types.js';
import type { Rng } from '../rng.js';
import { EULER_DEFAULTS, parseSchedulerConfig } from './config.js';
import { scaleBySigma, sigmaSchedule, x0Coefficients } from './sigmas.js';
import { checkSameLength, checkStepIndex, linearCombine, type SigmaScheduler } from './types.js';

export interface EulerUpdate {
  sample: Float32Array;
  modelOutput: Float32Array;
  sigma: number;
  next: number;
  /** x̂₀ = a·x + b·model_output for the configured prediction type. */
  a: number;
  b: number;
  rng: Rng;
}

/** Builds a σ-space scheduler whose step is `update` (the method's own rule). */
export function eulerFamilyScheduler(
  name: SchedulerName,
  rawConfig: Record<string, unknown>,
  steps: number,
  allowKarras: boolean,
  update: (u: EulerUpdate) => Float32Array,
): SigmaScheduler {
  const cfg = parseSchedulerConfig(rawConfig, EULER_DEFAULTS);
  const { timesteps, sigmas, initNoiseSigma } = sigmaSchedule(cfg, steps, allowKarras);
  return {
    name,
    timesteps: Float32Array.from(timesteps),
    sigmas,
    initNoiseSigma,
    scaleModelInput(sample, stepIndex) {
      checkStepIndex(stepIndex, steps);
      return scaleBySigma(sample, sigmas[stepIndex]!);
    },
    step(modelOutput, stepIndex, sample, rng) {
      checkStepIndex(stepIndex, steps);
      checkSameLength(modelOutput, sample);
      const sigma = sigmas[stepIndex]!;
      const { a, b } = x0Coefficients(cfg.predictionType, sigma);
      return update({ sample, modelOutput, sigma, next: sigmas[stepIndex + 1]!, a, b, rng });
    },
    predictOriginal(modelOutput, stepIndex, sample) {
      checkStepIndex(stepIndex, steps);
      const { a, b } = x0Coefficients(cfg.predictionType, sigmas[stepIndex]!);
      return linearCombine(sample, modelOutput, a, b);
    },
    addNoise(original, noise, stepIndex) {
      checkStepIndex(stepIndex, steps);
      checkSameLength(noise, original);
      // Variance-exploding: x₀ + σ·ε (the loop then scales its input by 1/√(σ²+1)).
      return linearCombine(original, noise, 1, sigmas[stepIndex]!);
    },
  };
}

/** Euler method on the probability-flow ODE in σ (Karras et al. 2022, alg. 1 with S_churn = 0). */
import type { Rng } from '../rng.js';
import { EULER_DEFAULTS, parseSchedulerConfig } from './config.js';
import { scaleBySigma, sigmaSchedule, x0Coefficients } from './sigmas.js';
import { checkSameLength, checkStepIndex, type SigmaScheduler } from './types.js';

export function createEulerScheduler(rawConfig: Record<string, unknown>, steps: number): SigmaScheduler {
  const cfg = parseSchedulerConfig(rawConfig, EULER_DEFAULTS);
  const { timesteps, sigmas, initNoiseSigma } = sigmaSchedule(cfg, steps, true);
  return {
    name: 'euler',
    timesteps: Float32Array.from(timesteps),
    sigmas,
    initNoiseSigma,
    scaleModelInput(sample, stepIndex) {
      checkStepIndex(stepIndex, steps);
      return scaleBySigma(sample, sigmas[stepIndex]!);
    },
    step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, _rng: Rng): Float32Array {
      checkStepIndex(stepIndex, steps);
      checkSameLength(modelOutput, sample);
      const sigma = sigmas[stepIndex]!;
      const dt = sigmas[stepIndex + 1]! - sigma;
      const { a, b } = x0Coefficients(cfg.predictionType, sigma);
      // x_next = x + (x − x̂₀)/σ · dt; when σ_next = 0 this is exactly x̂₀ (the 1-step Turbo case).
      const out = new Float32Array(sample.length);
      const r = dt / sigma;
      for (let i = 0; i < sample.length; i++) {
        const x = sample[i]!;
        const x0 = a * x + b * modelOutput[i]!;
        out[i] = x + (x - x0) * r;
      }
      return out;
    },
  };
}

/**
 * DDIM (Song et al. 2021, eq. 12) with η = 0: deterministic,
 * x_{t−Δ} = √ᾱ_{t−Δ}·x̂₀ + √(1−ᾱ_{t−Δ})·ε̂, with Δ = num_train_timesteps // steps as diffusers does.
 */
import type { Rng } from '../rng.js';
import { DDIM_DEFAULTS, parseSchedulerConfig } from './config.js';
import { vpPredictions } from './alphas.js';
import { alphasCumprod, spacedTimesteps } from './schedule.js';
import { checkSameLength, checkStepIndex, linearCombine, vpAddNoise, type Scheduler } from './types.js';

export function createDdimScheduler(rawConfig: Record<string, unknown>, steps: number): Scheduler {
  const cfg = parseSchedulerConfig(rawConfig, DDIM_DEFAULTS);
  const ac = alphasCumprod(cfg);
  const finalAlpha = cfg.setAlphaToOne ? 1 : ac[0]!;
  const timesteps = spacedTimesteps(cfg.timestepSpacing, cfg.numTrainTimesteps, steps, cfg.stepsOffset, true);
  const stride = Math.floor(cfg.numTrainTimesteps / steps);
  const clip = cfg.clipSample ? cfg.clipSampleRange : Infinity;
  return {
    name: 'ddim',
    timesteps: Float32Array.from(timesteps),
    initNoiseSigma: 1,
    scaleModelInput(sample, stepIndex) {
      checkStepIndex(stepIndex, steps);
      return sample;
    },
    step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, _rng: Rng): Float32Array {
      checkStepIndex(stepIndex, steps);
      checkSameLength(modelOutput, sample);
      const t = timesteps[stepIndex]!;
      const prevT = t - stride;
      const alphaT = ac[t]!;
      const alphaPrev = prevT >= 0 ? ac[prevT]! : finalAlpha;
      const { x0, eps } = vpPredictions(cfg.predictionType, alphaT);
      const sPrev = Math.sqrt(alphaPrev);
      const dirPrev = Math.sqrt(1 - alphaPrev);
      const out = new Float32Array(sample.length);
      for (let i = 0; i < sample.length; i++) {
        const x = sample[i]!;
        const m = modelOutput[i]!;
        // ε̂ comes from the unclipped x̂₀ (diffusers' use_clipped_model_output = false).
        const e = eps.a * x + eps.b * m;
        const x0i = Math.min(clip, Math.max(-clip, x0.a * x + x0.b * m));
        out[i] = sPrev * x0i + dirPrev * e;
      }
      return out;
    },
    predictOriginal(modelOutput, stepIndex, sample) {
      checkStepIndex(stepIndex, steps);
      const { x0 } = vpPredictions(cfg.predictionType, ac[timesteps[stepIndex]!]!);
      return linearCombine(sample, modelOutput, x0.a, x0.b, clip);
    },
    addNoise(original, noise, stepIndex) {
      checkStepIndex(stepIndex, steps);
      return vpAddNoise(original, noise, ac[timesteps[stepIndex]!]!);
    },
  };
}

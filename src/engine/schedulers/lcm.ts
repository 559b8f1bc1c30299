/**
 * Latent Consistency Model multistep sampling (Luo et al. 2023). Timesteps are picked, evenly by
 * index, from the skipping-step grid the model was distilled on (original_inference_steps, e.g. 50:
 * 999, 979, …, 19). Each step maps x_t to the consistency function f(x_t) = c_skip·x_t + c_out·x̂₀
 * and, except on the last step, re-noises it to the next timestep.
 */
import type { Rng } from '../rng.js';
import { LCM_DEFAULTS, parseSchedulerConfig, SchedulerConfigError } from './config.js';
import { vpPredictions } from './alphas.js';
import { alphasCumprod } from './schedule.js';
import { checkSameLength, checkStepIndex, linearCombine, vpAddNoise, type Scheduler } from './types.js';

const SIGMA_DATA = 0.5;

/** Consistency-model boundary condition: c_skip → 1, c_out → 0 as t → 0. */
export function lcmBoundaryScalings(timestep: number, timestepScaling: number): { cSkip: number; cOut: number } {
  const s = timestep * timestepScaling;
  const d = s * s + SIGMA_DATA * SIGMA_DATA;
  return { cSkip: (SIGMA_DATA * SIGMA_DATA) / d, cOut: s / Math.sqrt(d) };
}

export function lcmTimesteps(numTrain: number, originalSteps: number, steps: number): Float64Array {
  if (originalSteps > numTrain) {
    throw new SchedulerConfigError(`original_inference_steps ${originalSteps} exceeds num_train_timesteps ${numTrain}`);
  }
  if (!Number.isInteger(steps) || steps < 1 || steps > originalSteps) {
    throw new SchedulerConfigError(`LCM steps must be 1…original_inference_steps (${originalSteps}), got ${steps}`);
  }
  const k = Math.floor(numTrain / originalSteps);
  // Descending grid: originalSteps·k − 1, …, 2k − 1, k − 1.
  const origin = new Float64Array(originalSteps);
  for (let i = 0; i < originalSteps; i++) origin[i] = (originalSteps - i) * k - 1;
  const out = new Float64Array(steps);
  for (let i = 0; i < steps; i++) out[i] = origin[Math.floor((i * originalSteps) / steps)]!;
  return out;
}

/**
 * The guidance embedding LCM UNets take as `timestep_cond` (sinusoidal embedding of (w − 1)·1000,
 * sin half then cos half). `w` is the guidance scale; `dim` the UNet's time_cond_proj_dim (256).
 */
export function guidanceScaleEmbedding(guidanceScale: number, dim = 256): Float32Array {
  const w = (guidanceScale - 1) * 1000;
  const half = Math.floor(dim / 2);
  const base = Math.log(10000) / (half - 1);
  const out = new Float32Array(dim);
  for (let i = 0; i < half; i++) {
    const f = w * Math.exp(-base * i);
    out[i] = Math.sin(f);
    out[half + i] = Math.cos(f);
  }
  return out;
}

export function createLcmScheduler(rawConfig: Record<string, unknown>, steps: number): Scheduler {
  const cfg = parseSchedulerConfig(rawConfig, LCM_DEFAULTS);
  const ac = alphasCumprod(cfg);
  const finalAlpha = cfg.setAlphaToOne ? 1 : ac[0]!;
  const timesteps = lcmTimesteps(cfg.numTrainTimesteps, cfg.originalInferenceSteps, steps);
  const clip = cfg.clipSample ? cfg.clipSampleRange : Infinity;
  return {
    name: 'lcm',
    timesteps: Float32Array.from(timesteps),
    initNoiseSigma: 1,
    scaleModelInput(sample, stepIndex) {
      checkStepIndex(stepIndex, steps);
      return sample;
    },
    step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, rng: Rng): Float32Array {
      checkStepIndex(stepIndex, steps);
      checkSameLength(modelOutput, sample);
      const t = timesteps[stepIndex]!;
      const last = stepIndex === steps - 1;
      const { cSkip, cOut } = lcmBoundaryScalings(t, cfg.timestepScaling);
      const { x0 } = vpPredictions(cfg.predictionType, ac[t]!);
      const prevT = last ? -1 : timesteps[stepIndex + 1]!;
      const alphaPrev = prevT >= 0 ? ac[prevT]! : finalAlpha;
      const noise = last ? undefined : rng.normal(sample.length);
      const out = noise ?? new Float32Array(sample.length);
      const sPrev = Math.sqrt(alphaPrev);
      const nPrev = Math.sqrt(1 - alphaPrev);
      for (let i = 0; i < sample.length; i++) {
        const x = sample[i]!;
        const x0i = Math.min(clip, Math.max(-clip, x0.a * x + x0.b * modelOutput[i]!));
        const denoised = cOut * x0i + cSkip * x;
        out[i] = noise ? sPrev * denoised + nPrev * noise[i]! : denoised;
      }
      return out;
    },
    predictOriginal(modelOutput, stepIndex, sample) {
      checkStepIndex(stepIndex, steps);
      // The consistency function's output, which is what the last step returns.
      const t = timesteps[stepIndex]!;
      const { cSkip, cOut } = lcmBoundaryScalings(t, cfg.timestepScaling);
      const { x0 } = vpPredictions(cfg.predictionType, ac[t]!);
      const pred = linearCombine(sample, modelOutput, x0.a, x0.b, clip);
      for (let i = 0; i < pred.length; i++) pred[i] = cOut * pred[i]! + cSkip * sample[i]!;
      return pred;
    },
    addNoise(original, noise, stepIndex) {
      checkStepIndex(stepIndex, steps);
      return vpAddNoise(original, noise, ac[timesteps[stepIndex]!]!);
    },
  };
}

/**
 * The σ ladder of the Euler (Karras-style) schedulers: inference timesteps, σ at each, and the
 * input scaling 1/√(σ²+1) that turns the VE sample back into the VP input the UNet was trained on.
 */
import type { SchedulerConfig } from './config.js';
import {
  alphasCumprod,
  interpAt,
  karrasSigmas,
  sigmaTable,
  sigmaToTimestep,
  spacedTimesteps,
} from './schedule.js';

export interface SigmaSchedule {
  timesteps: Float64Array;
  /** steps + 1 entries; the last is 0 (final_sigmas_type "zero") or σ_min. */
  sigmas: Float64Array;
  initNoiseSigma: number;
}

export function sigmaSchedule(cfg: SchedulerConfig, steps: number, allowKarras: boolean): SigmaSchedule {
  const ac = alphasCumprod(cfg);
  // Zero terminal SNR would make σ_T infinite; diffusers clamps ᾱ_T to 2⁻²⁴.
  if (cfg.rescaleBetasZeroSnr) ac[ac.length - 1] = 2 ** -24;
  const table = sigmaTable(ac);
  const logTable = table.map(Math.log);
  let timesteps = spacedTimesteps(cfg.timestepSpacing, cfg.numTrainTimesteps, steps, cfg.stepsOffset, false);
  let sig: Float64Array =
    cfg.interpolationType === 'log_linear'
      ? timesteps.map((t) => Math.exp(interpAt(logTable, t)))
      : timesteps.map((t) => interpAt(table, t));
  if (allowKarras && cfg.useKarrasSigmas) {
    sig = karrasSigmas(sig[sig.length - 1]!, sig[0]!, steps);
    timesteps = sig.map((s) => sigmaToTimestep(s, logTable));
  }
  const sigmas = new Float64Array(steps + 1);
  sigmas.set(sig);
  sigmas[steps] = cfg.finalSigmasType === 'sigma_min' ? table[0]! : 0;
  const maxSigma = sig.reduce((m, s) => Math.max(m, s), 0);
  // Leading spacing never reaches the top of the schedule, so the start is the VP sample (√(σ²+1)).
  const initNoiseSigma =
    cfg.timestepSpacing === 'linspace' || cfg.timestepSpacing === 'trailing' ? maxSigma : Math.sqrt(maxSigma * maxSigma + 1);
  return { timesteps, sigmas, initNoiseSigma };
}

export function scaleBySigma(sample: Float32Array, sigma: number): Float32Array {
  const k = 1 / Math.sqrt(sigma * sigma + 1);
  const out = new Float32Array(sample.length);
  for (let i = 0; i < sample.length; i++) out[i] = sample[i]! * k;
  return out;
}

/**
 * x̂₀ from the model output at noise level σ, written as x̂₀ = a·x + b·out so the step loop stays
 * a single fused pass. ε: x − σ·ε. v: x/(σ²+1) − σ/√(σ²+1)·v. sample: out.
 */
export function x0Coefficients(predictionType: SchedulerConfig['predictionType'], sigma: number): { a: number; b: number } {
  switch (predictionType) {
    case 'epsilon':
      return { a: 1, b: -sigma };
    case 'v_prediction':
      return { a: 1 / (sigma * sigma + 1), b: -sigma / Math.sqrt(sigma * sigma + 1) };
    case 'sample':
      return { a: 0, b: 1 };
  }
}

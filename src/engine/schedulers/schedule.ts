/**
 * The noise schedule shared by every scheduler: betas → ᾱ (alphas_cumprod), the spacing of inference
 * timesteps over the training range, and the discrete σ table. Float64 throughout; callers narrow.
 */
import { SchedulerConfigError, type SchedulerConfig, type TimestepSpacing } from './config.js';

/** numpy's `round`: halves go to the even neighbour (np.round(812.5) = 812). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function linspace(start: number, end: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = start;
    return out;
  }
  const step = (end - start) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  return out;
}

/** Nichol & Dhariwal's cosine schedule: β_i = min(1 − ᾱ((i+1)/N)/ᾱ(i/N), 0.999). */
function cosineBetas(n: number): Float64Array {
  const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999);
  return out;
}

export function betas(cfg: SchedulerConfig): Float64Array {
  const n = cfg.numTrainTimesteps;
  if (cfg.trainedBetas) return Float64Array.from(cfg.trainedBetas);
  switch (cfg.betaSchedule) {
    case 'linear':
      return linspace(cfg.betaStart, cfg.betaEnd, n);
    case 'scaled_linear':
      // Latent diffusion: linear in √β.
      return linspace(Math.sqrt(cfg.betaStart), Math.sqrt(cfg.betaEnd), n).map((b) => b * b);
    case 'squaredcos_cap_v2':
      return cosineBetas(n);
    default:
      throw new SchedulerConfigError(`unknown beta_schedule ${String(cfg.betaSchedule)}`);
  }
}

/** ᾱ_t = ∏(1 − β_i); with rescale_betas_zero_snr, shifted so ᾱ_T = 0 (Lin et al. 2023, alg. 1). */
export function alphasCumprod(cfg: SchedulerConfig): Float64Array {
  const b = betas(cfg);
  const ac = new Float64Array(b.length);
  let prod = 1;
  for (let i = 0; i < b.length; i++) {
    prod *= 1 - b[i]!;
    ac[i] = prod;
  }
  if (!cfg.rescaleBetasZeroSnr) return ac;
  const sqrt = ac.map(Math.sqrt);
  const first = sqrt[0]!;
  const last = sqrt[sqrt.length - 1]!;
  for (let i = 0; i < sqrt.length; i++) {
    const s = ((sqrt[i]! - last) * first) / (first - last);
    ac[i] = s * s;
  }
  return ac;
}

/** The inference timesteps (descending) for `steps` steps, per diffusers' `timestep_spacing`. */
export function spacedTimesteps(
  spacing: TimestepSpacing,
  numTrain: number,
  steps: number,
  stepsOffset: number,
  round: boolean,
): Float64Array {
  if (!Number.isInteger(steps) || steps < 1) throw new SchedulerConfigError(`steps must be a positive integer, got ${steps}`);
  if (steps > numTrain) throw new SchedulerConfigError(`steps ${steps} exceeds num_train_timesteps ${numTrain}`);
  const out = new Float64Array(steps);
  switch (spacing) {
    case 'linspace': {
      const ls = linspace(0, numTrain - 1, steps);
      for (let i = 0; i < steps; i++) {
        const v = ls[steps - 1 - i]!;
        out[i] = round ? roundHalfEven(v) : v;
      }
      return out;
    }
    case 'leading': {
      // Integer ratio; `steps_offset` (1 for SD) moves the grid off t = 0.
      const ratio = Math.floor(numTrain / steps);
      for (let i = 0; i < steps; i++) out[i] = (steps - 1 - i) * ratio + stepsOffset;
      return out;
    }
    case 'trailing': {
      // Grid anchored at the last training step, so step 1 starts from pure noise (SD-Turbo).
      const ratio = numTrain / steps;
      for (let i = 0; i < steps; i++) out[i] = roundHalfEven(numTrain - i * ratio) - 1;
      return out;
    }
    default:
      throw new SchedulerConfigError(`unknown timestep_spacing ${String(spacing)}`);
  }
}

/** Linear interpolation of `table` (indexed 0…n−1) at fractional positions, like np.interp. */
export function interpAt(table: Float64Array, x: number): number {
  if (x <= 0) return table[0]!;
  const last = table.length - 1;
  if (x >= last) return table[last]!;
  const lo = Math.floor(x);
  const w = x - lo;
  return table[lo]! * (1 - w) + table[lo + 1]! * w;
}

/** σ_t = √((1 − ᾱ_t)/ᾱ_t): the noise level of the variance-exploding view of the schedule. */
export function sigmaTable(ac: Float64Array): Float64Array {
  return ac.map((a) => Math.sqrt((1 - a) / a));
}

/** Inverse of σ(t) by interpolating in log σ: which (fractional) training timestep has noise level σ. */
export function sigmaToTimestep(sigma: number, logSigmas: Float64Array): number {
  const ls = Math.log(Math.max(sigma, 1e-10));
  let lowIdx = 0;
  for (let i = 0; i < logSigmas.length; i++) if (ls >= logSigmas[i]!) lowIdx = i;
  lowIdx = Math.min(lowIdx, logSigmas.length - 2);
  const low = logSigmas[lowIdx]!;
  const high = logSigmas[lowIdx + 1]!;
  const w = Math.min(1, Math.max(0, (low - ls) / (low - high)));
  return (1 - w) * lowIdx + w * (lowIdx + 1);
}

/** Karras et al. 2022 eq. 5 with ρ = 7: σ_i = (σ_max^(1/ρ) + i/(n−1)·(σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number): Float64Array {
  const rho = 7;
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return linspace(0, 1, n).map((r) => (maxInv + r * (minInv - maxInv)) ** rho);
}

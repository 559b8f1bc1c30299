/** Euler method on the probability-flow ODE in σ (Karras et al. 2022, alg. 1 with S_churn = 0). */
import { eulerFamilyScheduler } from './euler-family.js';
import type { SigmaScheduler } from './types.js';

export function createEulerScheduler(rawConfig: Record<string, unknown>, steps: number): SigmaScheduler {
  return eulerFamilyScheduler('euler', rawConfig, steps, true, ({ sample, modelOutput, sigma, next, a, b }) => {
    // x_next = x + (x − x̂₀)/σ · dt; when σ_next = 0 this is exactly x̂₀ (the 1-step Turbo case).
    const out = new Float32Array(sample.length);
    const r = (next - sigma) / sigma;
    for (let i = 0; i < sample.length; i++) {
      const x = sample[i]!;
      const x0 = a * x + b * modelOutput[i]!;
      out[i] = x + (x - x0) * r;
    }
    return out;
  });
}

/**
 * Ancestral Euler (k-diffusion `sample_euler_ancestral`, η = 1): each step goes down to σ_down with
 * the ODE and adds fresh noise of size σ_up, where σ_up² = σ_next²(σ² − σ_next²)/σ² and
 * σ_down² = σ_next² − σ_up².
 */
import { eulerFamilyScheduler } from './euler-family.js';
import type { SigmaScheduler } from './types.js';

export function createEulerAncestralScheduler(rawConfig: Record<string, unknown>, steps: number): SigmaScheduler {
  return eulerFamilyScheduler('euler_a', rawConfig, steps, false, ({ sample, modelOutput, sigma, next, a, b, rng }) => {
    const sigmaUp = Math.sqrt((next * next * (sigma * sigma - next * next)) / (sigma * sigma));
    const sigmaDown = Math.sqrt(Math.max(0, next * next - sigmaUp * sigmaUp));
    const r = (sigmaDown - sigma) / sigma;
    // The last step (σ_next = 0) adds no noise; skip drawing it so the stream is not consumed.
    const noise = sigmaUp > 0 ? rng.normal(sample.length) : undefined;
    const out = noise ?? new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      const x = sample[i]!;
      const x0 = a * x + b * modelOutput[i]!;
      out[i] = x + (x - x0) * r + (noise ? noise[i]! * sigmaUp : 0);
    }
    return out;
  });
}

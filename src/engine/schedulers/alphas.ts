/**
 * x̂₀ and ε̂ in the variance-preserving view (x_t = √ᾱ·x₀ + √(1−ᾱ)·ε), as linear combinations of
 * the sample and the model output so the schedulers can fuse them into one pass.
 */
import type { PredictionType } from './config.js';

export interface Linear {
  /** coefficient of the sample */
  a: number;
  /** coefficient of the model output */
  b: number;
}

export function vpPredictions(type: PredictionType, alphaProd: number): { x0: Linear; eps: Linear } {
  const sa = Math.sqrt(alphaProd);
  const sb = Math.sqrt(1 - alphaProd);
  switch (type) {
    case 'epsilon':
      return { x0: { a: 1 / sa, b: -sb / sa }, eps: { a: 0, b: 1 } };
    case 'sample':
      return { x0: { a: 0, b: 1 }, eps: { a: 1 / sb, b: -sa / sb } };
    case 'v_prediction':
      // v = √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans & Ho 2022).
      return { x0: { a: sa, b: -sb }, eps: { a: sb, b: sa } };
  }
}

/**
 * A cheap step preview: a per-pixel linear map from the 4 latent channels to RGB, at latent resolution
 * (1/8 of the image side). It costs microseconds where a VAE decode costs seconds; TAESD gives a truer
 * preview when installed. The factors are the community-fitted ones (ComfyUI's latent formats) for the
 * SD 1.x/2.x VAE and the SDXL VAE; they apply to the scaled latents as the sampler holds them.
 */
import { EngineError } from '../contract/errors.js';
import type { LatentFormat, Latents, RawImage } from './types.js';

interface RgbMap {
  /** [channel][rgb] */
  factors: readonly (readonly [number, number, number])[];
  bias: readonly [number, number, number];
}

export const LATENT_RGB: Record<LatentFormat, RgbMap> = {
  sd: {
    factors: [
      [0.3512, 0.2297, 0.3227],
      [0.325, 0.4974, 0.235],
      [-0.2829, 0.1762, 0.2721],
      [-0.212, -0.2616, -0.7177],
    ],
    bias: [0, 0, 0],
  },
  sdxl: {
    factors: [
      [0.3651, 0.4232, 0.4341],
      [-0.2533, -0.0042, 0.1068],
      [0.1076, 0.1111, -0.0362],
      [-0.3165, -0.2492, -0.2188],
    ],
    bias: [0.1084, -0.0175, -0.0011],
  },
};

/** Latents → RGBA at latent resolution; values in [-1, 1] map to 0…255 as the VAE's output does. */
export function latentPreview(latents: Latents): RawImage {
  const { format, channels, height, width, data } = latents;
  const map = LATENT_RGB[format];
  if (channels !== map.factors.length) throw new EngineError(`latent preview needs ${map.factors.length} channels, got ${channels}`);
  const plane = width * height;
  if (data.length < channels * plane) throw new EngineError(`latents hold ${data.length} values, expected ${channels * plane}`);
  const out = new Uint8ClampedArray(plane * 4);
  for (let i = 0, j = 0; i < plane; i++, j += 4) {
    for (let c = 0; c < 3; c++) {
      let v = map.bias[c]!;
      for (let k = 0; k < channels; k++) v += data[k * plane + i]! * map.factors[k]![c]!;
      out[j + c] = v * 127.5 + 127.5;
    }
    out[j + 3] = 255;
  }
  return { width, height, data: out };
}

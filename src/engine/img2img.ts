/**
 * Image-to-image, family-independent: the input picture is encoded by the model's `vae_encoder` into its
 * latent space, noised to the scheduler's level for `strength`, and the denoising loop runs the remaining
 * steps — diffusers' StableDiffusionImg2ImgPipeline (get_timesteps, prepare_latents, scheduler.add_noise).
 * Any pipeline with a VAE encoder, a scheduler and a loop that can start at a step index uses these.
 */
import type * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { EngineError } from '../contract/errors.js';
import type { SessionConfig } from './execution-provider.js';
import { FloatFeed, OnnxGraph, readFloats } from './onnx-session.js';
import type { Rng } from './rng.js';
import type { RawImage } from './types.js';

/**
 * Which steps of a `steps`-step schedule an image-to-image run keeps (diffusers' `get_timesteps`):
 * init_timestep = min(int(steps·strength), steps), the loop starts at index steps − init_timestep and runs
 * init_timestep steps. strength 1 keeps them all; a strength too small for one step keeps none (the
 * picture is the input's VAE round trip).
 */
export function img2imgSteps(steps: number, strength: number): { start: number; count: number } {
  if (!Number.isInteger(steps) || steps < 1) throw new EngineError(`steps must be a positive integer, got ${steps}`);
  checkStrength(strength);
  const init = Math.min(Math.floor(steps * strength), steps);
  return { start: Math.max(steps - init, 0), count: init };
}

export function checkStrength(strength: number): void {
  if (!(strength >= 0 && strength <= 1)) throw new EngineError(`strength must be in [0, 1], got ${strength}`);
}

/**
 * The step count when a request names none: the model's default, raised until `strength` keeps at least one
 * step (SD-Turbo's default of 1 step would keep none at strength 0.5; its model card uses 2), capped at `max`.
 */
export function stepsForStrength(defaultSteps: number, strength: number, max: number): number {
  checkStrength(strength);
  if (strength === 0) return defaultSteps;
  let steps = Math.max(defaultSteps, Math.ceil(1 / strength));
  // ceil(1/s)·s can round to just under 1 in floating point.
  while (Math.floor(steps * strength) < 1 && steps < max) steps++;
  return Math.min(steps, Math.max(max, defaultSteps));
}

/**
 * RGBA → planar [3, height, width] floats in [-1, 1] at the render size (diffusers' VaeImageProcessor:
 * resize, x/127.5 − 1). Alpha is dropped, as PIL's convert("RGB") does.
 */
export async function imageToSample(img: RawImage, width: number, height: number): Promise<Float32Array> {
  let data = img.data;
  if (img.width !== width || img.height !== height) {
    const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } })
      .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
      .raw()
      .toBuffer();
    data = new Uint8ClampedArray(buf.buffer, buf.byteOffset, buf.length);
  }
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0, j = 0; i < plane; i++, j += 4) {
    out[i] = data[j]! / 127.5 - 1;
    out[plane + i] = data[j + 1]! / 127.5 - 1;
    out[2 * plane + i] = data[j + 2]! / 127.5 - 1;
  }
  return out;
}

/** How the latent distribution becomes latents: its mean (diffusers' sample_mode "argmax") or a draw. */
export type LatentMode = 'mean' | 'sample';

/** diffusers' DiagonalGaussianDistribution clamps log-variance to this range. */
const LOGVAR_MIN = -30;
const LOGVAR_MAX = 20;

/**
 * A model's `vae_encoder`: `sample` [B, 3, H, W] in [-1, 1] → `latent_sample` [B, 4, H/8, W/8] (diffusers'
 * ONNX export, which draws from the distribution inside the graph) or `latent_parameters` [B, 8, H/8, W/8]
 * (optimum's: mean and log-variance, drawn here so a seed decides it).
 */
export class ImageEncoder {
  private constructor(
    readonly graph: OnnxGraph,
    /** Latents are multiplied by this after encoding (the VAE's 0.18215 / 0.13025). */
    readonly scalingFactor: number,
  ) {
    graph.input('sample');
  }

  static async load(file: string, cfg: SessionConfig, scalingFactor: number, cacheDir?: string): Promise<ImageEncoder> {
    return new ImageEncoder(await OnnxGraph.load(file, cfg, cacheDir), scalingFactor);
  }

  /**
   * Planar RGB in [-1, 1] at (lh·8, lw·8) → scaled latents [4, lh, lw]. `rng` draws from the distribution
   * when `mode` is 'sample' and the graph returns its parameters.
   */
  async encode(sample: Float32Array, lh: number, lw: number, mode: LatentMode, rng: Rng): Promise<Float32Array> {
    const info = this.graph.input('sample');
    const feed = new FloatFeed(info.type, [1, 3, lh * 8, lw * 8]);
    feed.data.set(sample);
    const outName = this.graph.outputs.has('latent_sample')
      ? 'latent_sample'
      : this.graph.outputs.has('latent_parameters')
        ? 'latent_parameters'
        : this.graph.outputName('latent_sample');
    const out: ort.Tensor = (await this.graph.run({ [info.name]: feed.sync() }, [outName]))[outName]!;
    const values = readFloats(out);
    const n = 4 * lh * lw;
    const channels = values.length / (lh * lw);
    if (channels !== 4 && channels !== 8) {
      throw new EngineError(`${this.graph.file}: expected 4 latent channels (or 8 distribution parameters) at ${lh}×${lw}, got ${values.length} values`);
    }
    const z = new Float32Array(n);
    if (channels === 8 && mode === 'sample') {
      const eps = rng.normal(n);
      for (let i = 0; i < n; i++) {
        const logvar = Math.min(LOGVAR_MAX, Math.max(LOGVAR_MIN, values[n + i]!));
        z[i] = values[i]! + Math.exp(0.5 * logvar) * eps[i]!;
      }
    } else {
      z.set(values.subarray(0, n));
    }
    for (let i = 0; i < n; i++) z[i] = z[i]! * this.scalingFactor;
    return z;
  }

  release(): Promise<void> {
    return this.graph.release();
  }
}

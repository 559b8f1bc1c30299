/**
 * Latent decoders besides the model's own VAE: TAESD, the tiny distilled autoencoder (diffusers'
 * AutoencoderTiny exported to ONNX). It reads the UNet's latents directly (scaling factor 1) and returns
 * [-1, 1] RGB like the VAE, at a few percent of the VAE's cost — used for step previews, and for the final
 * image when chosen.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SessionConfig } from './execution-provider.js';
import { modelsDir } from './home.js';
import { OnnxGraph } from './onnx-session.js';
import type { DecoderName, LatentFormat } from './types.js';

export interface LatentDecoder {
  name: DecoderName;
  graph: OnnxGraph;
  /** Latents are divided by this before decoding (the VAE's 0.18215 / 0.13025; TAESD's 1). */
  scalingFactor: number;
}

/** The registry name of the TAESD variant trained on each latent space. */
export const TAESD_FOR: Record<LatentFormat, string> = { sd: 'taesd', sdxl: 'taesdxl' };

function decoderFile(dir: string): string {
  return path.join(dir, 'vae_decoder', 'model.onnx');
}

/** The installed TAESD for this latent space (`<models>/taesd` or `<models>/taesdxl`), or null. */
export async function findTaesd(format: LatentFormat, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const dir = path.join(modelsDir(env), TAESD_FOR[format]);
  return stat(decoderFile(dir)).then(
    () => dir,
    () => null,
  );
}

/** Loads a TAESD folder's decoder; its scaling factor comes from vae_decoder/config.json (1 by default). */
export async function loadDecoder(dir: string, cfg: SessionConfig, cacheDir?: string): Promise<LatentDecoder> {
  const graph = await OnnxGraph.load(decoderFile(dir), cfg, cacheDir);
  graph.input('latent_sample');
  let scalingFactor = 1;
  try {
    const c = JSON.parse(await readFile(path.join(dir, 'vae_decoder', 'config.json'), 'utf8')) as { scaling_factor?: unknown };
    if (typeof c.scaling_factor === 'number' && c.scaling_factor > 0) scalingFactor = c.scaling_factor;
  } catch {
    // No config: AutoencoderTiny's default.
  }
  return { name: 'taesd', graph, scalingFactor };
}

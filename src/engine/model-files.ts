/** Finds a diffusers-ONNX model's parts on disk and reads the configs the sampler needs. */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { EngineError } from '../contract/errors.js';
import type { LatentFormat } from './types.js';

export interface ModelFiles {
  dir: string;
  textEncoder: string;
  unet: string;
  vaeDecoder: string;
  /** `vae_encoder/model.onnx` when the folder has one (image-to-image); null otherwise. */
  vaeEncoder: string | null;
  tokenizerDir: string;
  /** SDXL-class models: text_encoder_2/model.onnx and tokenizer_2/ (null with a single text encoder). */
  textEncoder2: string | null;
  tokenizer2Dir: string | null;
  /** unet/config.json when present (its sample_size gives the native size; SDXL's checks read it). */
  unetConfig: Record<string, unknown> | null;
  schedulerConfig: Record<string, unknown>;
  /** From vae_decoder/config.json (or vae/config.json) when present; SD's 0.18215 otherwise. */
  vaeScalingFactor: number;
  /** SDXL's VAE latent space (scaling 0.13025, an SDXL pipeline class) or SD 1.x/2.x's. */
  latentFormat: LatentFormat;
  modelIndex: Record<string, unknown>;
}

const SD_VAE_SCALING = 0.18215;
const SDXL_VAE_SCALING = 0.13025;

function latentFormatOf(modelIndex: Record<string, unknown>, scaling: number, twoEncoders: boolean): LatentFormat {
  const cls = typeof modelIndex._class_name === 'string' ? modelIndex._class_name : '';
  return twoEncoders || /XL/.test(cls) || Math.abs(scaling - SDXL_VAE_SCALING) < 1e-6 ? 'sdxl' : 'sd';
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function readJsonFile(file: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new EngineError(`${what} missing: ${file}`, { cause: err });
  }
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new EngineError(`${what} is corrupt: ${file}: ${(err as Error).message}`, { cause: err });
  }
}

async function optionalJson(file: string): Promise<Record<string, unknown> | null> {
  return (await exists(file)) ? readJsonFile(file, 'config') : null;
}

/** `<dir>/<component>/model.onnx`; the file's presence is checked when the session is created. */
function graphPath(dir: string, component: string): string {
  return path.join(dir, component, 'model.onnx');
}

export async function locateModel(dir: string): Promise<ModelFiles> {
  const root = path.resolve(dir);
  if (!(await exists(root))) throw new EngineError(`model directory not found: ${root}`);
  const modelIndex = await readJsonFile(path.join(root, 'model_index.json'), 'model index');
  const schedulerConfig = await readJsonFile(path.join(root, 'scheduler', 'scheduler_config.json'), 'scheduler config');
  const vaeConfig = (await optionalJson(path.join(root, 'vae_decoder', 'config.json'))) ?? (await optionalJson(path.join(root, 'vae', 'config.json')));
  const sf = vaeConfig?.scaling_factor;
  const vaeScalingFactor = typeof sf === 'number' && sf > 0 ? sf : SD_VAE_SCALING;
  const vaeEncoder = graphPath(root, 'vae_encoder');
  // A second text encoder is what makes the SDXL text conditioning (src/engine/sdxl.ts); its tokenizer must come with it.
  const twoEncoders = await exists(graphPath(root, 'text_encoder_2'));
  if (twoEncoders && !(await exists(path.join(root, 'tokenizer_2')))) throw new EngineError(`${root} has text_encoder_2/ but no tokenizer_2/`);
  return {
    dir: root,
    vaeEncoder: (await exists(vaeEncoder)) ? vaeEncoder : null,
    textEncoder: graphPath(root, 'text_encoder'),
    unet: graphPath(root, 'unet'),
    vaeDecoder: graphPath(root, 'vae_decoder'),
    tokenizerDir: path.join(root, 'tokenizer'),
    textEncoder2: twoEncoders ? graphPath(root, 'text_encoder_2') : null,
    tokenizer2Dir: twoEncoders ? path.join(root, 'tokenizer_2') : null,
    unetConfig: await optionalJson(path.join(root, 'unet', 'config.json')),
    schedulerConfig,
    vaeScalingFactor,
    latentFormat: latentFormatOf(modelIndex, vaeScalingFactor, twoEncoders),
    modelIndex,
  };
}

/**
 * Writes a complete tiny model in the diffusers ONNX layout, and keeps one built under MENGTU_HOME for
 * tests and benchmarks.
 */
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { modelsDir } from '../home.js';
import { textEncoderGraph, unetGraph, vaeDecoderGraph, vaeEncoderGraph, type TinyGraphOptions } from './graphs.js';
import { taesdDecoderGraph, taesdEncoderGraph, type TaesdOptions } from './taesd.js';
import { miniTextEncoderGraph, miniUnetGraph, miniVaeDecoderGraph, miniVaeEncoderGraph, type MiniOptions } from './mini.js';
import { buildTinySdxlModel } from './sdxl.js';
import { TINY_MODEL_VERSION, TINY_SCHEDULER_CONFIG, VERSION_FILE, writeGraph, writeJson, writeTinyTokenizer } from './files.js';

export { TINY_MODEL_VERSION, TINY_SCHEDULER_CONFIG } from './files.js';

export interface TinyModelOptions extends TinyGraphOptions {
  /** Pad token in tokenizer_config.json (`!` as SD-Turbo/SD 2.x; `<|endoftext|>` as SD 1.x). */
  padToken?: '!' | '<|endoftext|>';
  /** SD-architecture graphs (ResNet/attention/GroupNorm) instead of the minimal ones; float32 I/O only. */
  mini?: MiniOptions;
  /** Leave out vae_encoder/ (a text-to-image-only folder, as some exports are). */
  noVaeEncoder?: boolean;
}


const MINI_TEXT_HIDDEN = 256;

export async function buildTinyModel(dir: string, opts: TinyModelOptions = {}): Promise<void> {
  const vocabSize = await writeTinyTokenizer(path.join(dir, 'tokenizer'), opts.padToken ?? '!');
  await mkdir(path.join(dir, 'scheduler'), { recursive: true });
  await writeJson(path.join(dir, 'scheduler', 'scheduler_config.json'), TINY_SCHEDULER_CONFIG);
  if (opts.mini) {
    const hidden = opts.mini.textHidden ?? MINI_TEXT_HIDDEN;
    await writeGraph(path.join(dir, 'text_encoder'), miniTextEncoderGraph(vocabSize, { ...opts.mini, textHidden: hidden }));
    await writeGraph(path.join(dir, 'unet'), miniUnetGraph(hidden, opts.mini));
    await writeGraph(path.join(dir, 'vae_decoder'), miniVaeDecoderGraph(opts.mini));
    if (!opts.noVaeEncoder) await writeGraph(path.join(dir, 'vae_encoder'), miniVaeEncoderGraph(opts.mini));
  } else {
    await writeGraph(path.join(dir, 'text_encoder'), textEncoderGraph(vocabSize, opts));
    await writeGraph(path.join(dir, 'unet'), unetGraph(opts));
    await writeGraph(path.join(dir, 'vae_decoder'), vaeDecoderGraph(opts));
    if (!opts.noVaeEncoder) await writeGraph(path.join(dir, 'vae_encoder'), vaeEncoderGraph(opts));
  }
  const vaeConfig = { _class_name: 'AutoencoderKL', latent_channels: 4, scaling_factor: 0.18215 };
  await writeJson(path.join(dir, 'vae_decoder', 'config.json'), vaeConfig);
  if (!opts.noVaeEncoder) await writeJson(path.join(dir, 'vae_encoder', 'config.json'), vaeConfig);
  await writeJson(path.join(dir, 'model_index.json'), {
    _class_name: 'OnnxStableDiffusionPipeline',
    _diffusers_version: '0.24.0',
    feature_extractor: [null, null],
    requires_safety_checker: false,
    safety_checker: [null, null],
    scheduler: ['diffusers', 'EulerDiscreteScheduler'],
    text_encoder: ['diffusers', 'OnnxRuntimeModel'],
    tokenizer: ['transformers', 'CLIPTokenizer'],
    unet: ['diffusers', 'OnnxRuntimeModel'],
    vae_decoder: ['diffusers', 'OnnxRuntimeModel'],
    vae_encoder: opts.noVaeEncoder ? [null, null] : ['diffusers', 'OnnxRuntimeModel'],
  });
  // Written last: its presence means the model is complete.
  await writeJson(path.join(dir, VERSION_FILE), { version: TINY_MODEL_VERSION, options: opts });
}

/** A TAESD-signature folder as deinferno/taesd-onnx lays it out: vae_decoder/ and vae_encoder/, configs. */
export async function buildTinyTaesd(dir: string, opts: TaesdOptions = {}): Promise<void> {
  const config = { _class_name: 'AutoencoderTiny', latent_channels: 4, scaling_factor: 1.0, shift_factor: 0.0 };
  await writeGraph(path.join(dir, 'vae_decoder'), taesdDecoderGraph(opts));
  await writeGraph(path.join(dir, 'vae_encoder'), taesdEncoderGraph(opts));
  await writeJson(path.join(dir, 'vae_decoder', 'config.json'), config);
  await writeJson(path.join(dir, 'vae_encoder', 'config.json'), config);
  await writeJson(path.join(dir, 'config.json'), config);
}

async function builtVersion(dir: string): Promise<number | null> {
  try {
    const v = JSON.parse(await readFile(path.join(dir, VERSION_FILE), 'utf8')) as { version?: unknown };
    return typeof v.version === 'number' ? v.version : null;
  } catch {
    return null;
  }
}

/** The locally built registry models and how each is built. */
const BUILT_MODELS = {
  tiny: (dir: string) => buildTinyModel(dir, { externalUnetData: true }),
  'tiny-sdxl': (dir: string) => buildTinySdxlModel(dir, { externalUnetData: true }),
} as const;

export type BuiltModelName = keyof typeof BUILT_MODELS;

/**
 * `<models>/tiny` (or another built model, e.g. `tiny-sdxl`), built on first use (or when an older mengtu
 * built it): into a temp dir, then renamed into place, so readers never see half a model.
 */
export async function ensureTinyModel(env: NodeJS.ProcessEnv = process.env, name: BuiltModelName = 'tiny'): Promise<string> {
  const dir = path.join(modelsDir(env), name);
  if ((await builtVersion(dir)) === TINY_MODEL_VERSION) return dir;
  const parent = path.dirname(dir);
  await mkdir(parent, { recursive: true });
  const tmp = await mkdtemp(path.join(parent, `.${name}-`));
  try {
    await BUILT_MODELS[name](tmp);
    if ((await builtVersion(dir)) === TINY_MODEL_VERSION) return dir; // another process finished first
    // An outdated copy is moved aside first (rename cannot replace a non-empty directory).
    const stale = `${tmp}-stale`;
    await rename(dir, stale).then(
      () => rm(stale, { recursive: true, force: true }),
      () => undefined,
    );
    await rename(tmp, dir);
  } catch (err) {
    // Another process won the race: its copy is complete.
    if ((await builtVersion(dir)) !== TINY_MODEL_VERSION) throw err;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return dir;
}

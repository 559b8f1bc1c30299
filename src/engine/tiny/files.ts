/** Writing a generated model's files: JSON configs, graphs (with their external data), the version marker. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EncodedGraph } from './graphs.js';
import { tinyTokenizerFiles } from './tokenizer-files.js';

/** Bumped whenever the generated graphs change, so a cached copy from an older mengtu is rebuilt. */
export const TINY_MODEL_VERSION = 2;
/** Written last by each builder: its presence means the model is complete. */
export const VERSION_FILE = 'mengtu-tiny.json';

/** SD-Turbo's scheduler config (EulerDiscreteScheduler, trailing spacing). */
export const TINY_SCHEDULER_CONFIG = {
  _class_name: 'EulerDiscreteScheduler',
  _diffusers_version: '0.24.0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  interpolation_type: 'linear',
  num_train_timesteps: 1000,
  prediction_type: 'epsilon',
  sample_max_value: 1.0,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  timestep_spacing: 'trailing',
  timestep_type: 'discrete',
  trained_betas: null,
  use_karras_sigmas: false,
} as const;

export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}

export async function writeGraph(dir: string, g: EncodedGraph): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'model.onnx'), g.model);
  if (g.externalData) await writeFile(path.join(dir, 'model.onnx_data'), g.externalData);
}

/** A tokenizer/ folder with the tiny CLIP vocabulary; returns the vocabulary size. */
export async function writeTinyTokenizer(dir: string, pad: '!' | '<|endoftext|>'): Promise<number> {
  const tok = tinyTokenizerFiles(pad);
  await mkdir(dir, { recursive: true });
  await writeJson(path.join(dir, 'vocab.json'), tok.vocab);
  await writeFile(path.join(dir, 'merges.txt'), tok.mergesTxt);
  await writeJson(path.join(dir, 'tokenizer_config.json'), tok.tokenizerConfig);
  await writeJson(path.join(dir, 'special_tokens_map.json'), tok.specialTokensMap);
  return Object.keys(tok.vocab).length;
}

/** Which files of a repo make up a diffusers ONNX text-to-image model. */

/**
 * Sub-folders the engine loads (vae_encoder for image-to-image, a few MB; text_encoder_2 and tokenizer_2 in
 * SDXL-class models); safety_checker and PyTorch weights are skipped. A decoder repo (TAESD) gives only its vae_decoder.
 */
export const NEEDED_DIRS = ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', 'vae_encoder', 'tokenizer', 'tokenizer_2', 'scheduler'] as const;
const DECODER_DIRS = ['vae_decoder'] as const;

/** What a repo holds: a whole text-to-image model, or a latent decoder (TAESD: vae_decoder/ + vae_encoder/). */
export type RepoLayout = 'pipeline' | 'decoder';

/** ONNX graphs, their external weights (model.onnx_data, weights.pb, *.data), configs and tokenizer files. */
const KEEP_EXT = /\.(onnx|onnx_data|pb|data|json|txt)$/i;

/** Used when the hub's file-list API is unavailable (e.g. a plain mirror); missing optional files 404 harmlessly. */
export const STATIC_FILES: readonly string[] = [
  'model_index.json',
  'text_encoder/model.onnx',
  'unet/model.onnx',
  'vae_decoder/model.onnx',
  'vae_decoder/config.json',
  'vae_encoder/model.onnx',
  'tokenizer/vocab.json',
  'tokenizer/merges.txt',
  'tokenizer/tokenizer_config.json',
  'tokenizer/special_tokens_map.json',
  'scheduler/scheduler_config.json',
  // SDXL-class models: external weights, the second encoder and tokenizer, the configs the load checks read.
  'unet/model.onnx_data',
  'unet/config.json',
  'text_encoder/config.json',
  'text_encoder_2/model.onnx',
  'text_encoder_2/model.onnx_data',
  'text_encoder_2/config.json',
  'tokenizer_2/vocab.json',
  'tokenizer_2/merges.txt',
  'tokenizer_2/tokenizer_config.json',
  'tokenizer_2/special_tokens_map.json',
];

/** The decoder layout's files (deinferno/taesd-onnx, julienkay/taesdxl); their encoders are not needed. */
export const DECODER_STATIC_FILES: readonly string[] = ['vae_decoder/model.onnx', 'vae_decoder/config.json'];
export const DECODER_REQUIRED_FILES: readonly string[] = ['vae_decoder/model.onnx'];

/** Files whose absence means the repo is not a usable model. */
export const REQUIRED_FILES: readonly string[] = [
  'text_encoder/model.onnx',
  'unet/model.onnx',
  'vae_decoder/model.onnx',
  'tokenizer/vocab.json',
  'tokenizer/merges.txt',
];

/** Repo path → local path (subfolder stripped), or null if the engine does not need it. */
export function localPathFor(repoPath: string, subfolder: string | undefined, layout: RepoLayout = 'pipeline'): string | null {
  let p = repoPath;
  if (subfolder) {
    const prefix = `${subfolder.replace(/\/+$/, '')}/`;
    if (!p.startsWith(prefix)) return null;
    p = p.slice(prefix.length);
  }
  if (p === 'model_index.json') return p;
  const slash = p.indexOf('/');
  if (slash < 0) return null;
  const dir = p.slice(0, slash);
  if (!((layout === 'decoder' ? DECODER_DIRS : NEEDED_DIRS) as readonly string[]).includes(dir)) return null;
  if (!KEEP_EXT.test(p)) return null;
  return p;
}

/** A repo with a second text encoder (SDXL-class) also needs these. */
export const SDXL_REQUIRED_FILES: readonly string[] = ['text_encoder_2/model.onnx', 'tokenizer_2/vocab.json', 'tokenizer_2/merges.txt'];

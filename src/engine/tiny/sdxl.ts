/**
 * Random-weight stand-ins for the SDXL ONNX graphs as optimum exports them (ORTStableDiffusionXLPipeline's
 * layout): two CLIP text encoders that return every layer's hidden state (`hidden_states.0` … `.N`), the
 * second with a projection (`text_embeds`), and a UNet that also takes the pooled `text_embeds` and the
 * six `time_ids`. Same input/output names, ranks and dtypes as the real export, small dims; each output
 * depends on every input, so a wrong feed changes the picture.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { GraphBuilder } from '../onnx-builder.js';
import { TINY_MODEL_VERSION, TINY_SCHEDULER_CONFIG, VERSION_FILE, writeGraph, writeJson, writeTinyTokenizer } from './files.js';
import { TINY_SEQ, fromF32, io, randn, toF32, vaeDecoderGraph, vaeEncoderGraph, type EncodedGraph } from './graphs.js';
import { miniTextEncoderGraph, miniUnetGraph, miniVaeDecoderGraph, miniVaeEncoderGraph, type MiniOptions } from './mini.js';

/** SDXL: CLIP ViT-L (768, 12 layers) + OpenCLIP bigG (1280, 32 layers, projection 1280); here much smaller. */
export const TINY_SDXL = {
  hidden1: 32,
  layers1: 2,
  hidden2: 48,
  layers2: 3,
  projection: 40,
  /** The UNet's `addition_time_embed_dim` (SDXL: 256) as written to unet/config.json. */
  timeEmbedDim: 8,
} as const;

export interface TinySdxlGraphOptions {
  /** float16 graph inputs/outputs (the arithmetic inside stays float32). */
  fp16?: boolean;
  /** Fixed batch of 1 (guidance then runs the UNet twice). */
  fixedBatch?: boolean;
  /** dtype of the UNet `timestep`: float [batch] (optimum's export) or int64 [1]. */
  timestep?: 'float' | 'int64';
  /** UNet weights in `model.onnx_data`, as the 10 GB real UNet has. */
  externalUnetData?: boolean;
}

interface ClipSpec {
  name: string;
  hidden: number;
  layers: number;
  /** CLIPTextModelWithProjection: `text_embeds` = pooled · W (no bias). */
  projection?: number;
  seed: number;
}

/**
 * A CLIP-shaped text encoder: token + position embeddings, `layers` residual blocks (each sees the sequence
 * mean, standing in for attention), a final LayerNorm, and the pooled output taken at the first
 * highest-id token (CLIP pools at `input_ids.argmax(-1)`, the end-of-text token).
 */
function clipGraph(vocabSize: number, spec: ClipSpec, opts: TinySdxlGraphOptions): EncodedGraph {
  const H = spec.hidden;
  const batch = opts.fixedBatch ? 1 : 'batch';
  const g = new GraphBuilder(spec.name);
  const ids = g.input('input_ids', 'int32', [batch, TINY_SEQ]);
  const emb = g.weight(randn(spec.seed, vocabSize * H, 1), [vocabSize, H]);
  const pos = g.weight(randn(spec.seed + 1, TINY_SEQ * H, 0.1), [TINY_SEQ, H]);
  let x = g.node('Add', [g.node('Gather', [emb, ids], { axis: 0 }), pos]);
  const hidden = [x];
  for (let l = 0; l < spec.layers; l++) {
    const w = g.weight(randn(spec.seed + 10 + 2 * l, H * H, 1 / Math.sqrt(H)), [H, H]);
    const b = g.weight(randn(spec.seed + 11 + 2 * l, H, 0.1), [H]);
    const mean = g.node('ReduceMean', [x], { axes: [1], keepdims: 1 });
    const f = g.node('Tanh', [g.node('Add', [g.node('MatMul', [g.node('Add', [x, mean]), w]), b])]);
    x = g.node('Add', [x, f]);
    hidden.push(x);
  }
  const ln = g.node('LayerNormalization', [x, g.weight(randn(spec.seed + 90, H, 0.1).map((v) => 1 + v), [H]), g.weight(randn(spec.seed + 91, H, 0.1), [H])], { axis: -1 });
  const eos = g.node('ArgMax', [g.node('Cast', [ids], { to: 1 })], { axis: 1, keepdims: 0 });
  const mask = g.node('OneHot', [eos, g.int64s([TINY_SEQ]), g.floats([0, 1])], { axis: -1 });
  const pooled = g.node('ReduceSum', [g.node('Mul', [ln, g.node('Unsqueeze', [mask, g.int64s([2])])]), g.int64s([1])], { keepdims: 0 });
  const ty = io(opts);
  // optimum's output order: CLIPTextModel → last_hidden_state, pooler_output; with projection → text_embeds,
  // last_hidden_state; then hidden_states.0 (embeddings) … hidden_states.N (last layer, before the LayerNorm).
  if (spec.projection) {
    const P = spec.projection;
    fromF32(g, g.node('MatMul', [pooled, g.weight(randn(spec.seed + 92, H * P, 1 / Math.sqrt(H)), [H, P])]), 'text_embeds', opts);
    g.output('text_embeds', ty, [batch, P]);
    fromF32(g, ln, 'last_hidden_state', opts);
    g.output('last_hidden_state', ty, [batch, TINY_SEQ, H]);
  } else {
    fromF32(g, ln, 'last_hidden_state', opts);
    g.output('last_hidden_state', ty, [batch, TINY_SEQ, H]);
    fromF32(g, pooled, 'pooler_output', opts);
    g.output('pooler_output', ty, [batch, H]);
  }
  hidden.forEach((h, i) => {
    fromF32(g, h, `hidden_states.${i}`, opts);
    g.output(`hidden_states.${i}`, ty, [batch, TINY_SEQ, H]);
  });
  return g.encode();
}

/** text_encoder/: CLIPTextModel (SDXL's first encoder, ViT-L). */
export function sdxlTextEncoderGraph(vocabSize: number, opts: TinySdxlGraphOptions = {}): EncodedGraph {
  return clipGraph(vocabSize, { name: 'text_encoder', hidden: TINY_SDXL.hidden1, layers: TINY_SDXL.layers1, seed: 500 }, opts);
}

/** text_encoder_2/: CLIPTextModelWithProjection (SDXL's second encoder, bigG). */
export function sdxlTextEncoder2Graph(vocabSize: number, opts: TinySdxlGraphOptions = {}): EncodedGraph {
  return clipGraph(vocabSize, { name: 'text_encoder_2', hidden: TINY_SDXL.hidden2, layers: TINY_SDXL.layers2, projection: TINY_SDXL.projection, seed: 600 }, opts);
}

/**
 * unet/: sample, timestep, encoder_hidden_states [batch, 77, hidden1 + hidden2], text_embeds [batch, projection],
 * time_ids [batch, 6] → out_sample. The text states, the pooled embedding and a sinusoid of each time id
 * all shift the per-channel conditioning, as SDXL's cross-attention and added embedding do.
 */
export function sdxlUnetGraph(opts: TinySdxlGraphOptions = {}): EncodedGraph {
  const D = TINY_SDXL.hidden1 + TINY_SDXL.hidden2;
  const P = TINY_SDXL.projection;
  const C = 16;
  const batch = opts.fixedBatch ? 1 : 'batch';
  const g = new GraphBuilder('unet', opts.externalUnetData ? 'model.onnx_data' : undefined);
  const ty = io(opts);
  const sample = toF32(g, g.input('sample', ty, [batch, 4, 'height', 'width']), opts);
  const tsInt = opts.timestep === 'int64';
  const tsIn = g.input('timestep', tsInt ? 'int64' : ty, tsInt ? [1] : [batch]);
  const ts = tsInt || opts.fp16 ? g.node('Cast', [tsIn], { to: 1 }) : tsIn;
  const ehs = toF32(g, g.input('encoder_hidden_states', ty, [batch, TINY_SEQ, D]), opts);
  const textEmbeds = toF32(g, g.input('text_embeds', ty, [batch, P]), opts);
  const timeIds = toF32(g, g.input('time_ids', ty, [batch, 6]), opts);

  const tScale = g.node('Add', [g.node('Mul', [g.node('Sin', [g.node('Mul', [ts, g.scalar(0.013)])]), g.scalar(0.5)]), g.scalar(1)]);
  const tScale4 = g.node('Reshape', [tScale, g.int64s([-1, 1, 1, 1])]);
  const text = g.node('MatMul', [g.node('ReduceMean', [ehs], { axes: [1], keepdims: 0 }), g.weight(randn(701, D * C, 1 / Math.sqrt(D)), [D, C])]);
  // Sizes are hundreds of pixels: a different frequency per id keeps each one's effect distinct.
  const timeFeat = g.node('Sin', [g.node('Mul', [timeIds, g.floats([0.011, 0.013, 0.017, 0.019, 0.023, 0.029])])]);
  const added = g.node('Tanh', [g.node('MatMul', [g.node('Concat', [textEmbeds, timeFeat], { axis: 1 }), g.weight(randn(702, (P + 6) * C, 1 / Math.sqrt(P + 6)), [P + 6, C])])]);
  const cond4 = g.node('Reshape', [g.node('Add', [text, added]), g.int64s([-1, C, 1, 1])]);

  const conv = { kernel_shape: [3, 3], pads: [1, 1, 1, 1] };
  const h1 = g.node('Conv', [sample, g.weight(randn(703, C * 4 * 9, 1 / 6), [C, 4, 3, 3]), g.weight(randn(704, C, 0.1), [C])], conv);
  const h2 = g.node('Tanh', [g.node('Mul', [g.node('Add', [h1, cond4]), tScale4])]);
  const h3 = g.node('Conv', [h2, g.weight(randn(705, 4 * C * 9, 1 / 12), [4, C, 3, 3]), g.weight(randn(706, 4, 0.05), [4])], conv);
  const out = g.node('Add', [g.node('Mul', [sample, g.scalar(0.5)]), h3]);
  fromF32(g, out, 'out_sample', opts);
  g.output('out_sample', ty, [batch, 4, 'height', 'width']);
  return g.encode();
}

export interface TinySdxlModelOptions extends TinySdxlGraphOptions {
  /** model_index.json's `force_zeros_for_empty_prompt` (SDXL base and Turbo: true). */
  forceZerosForEmptyPrompt?: boolean;
  /** SD-architecture graphs (src/engine/tiny/mini.ts) with SDXL's signatures instead of the minimal ones; float32 I/O only. */
  mini?: MiniOptions;
}

/** The `mini` SDXL's text side: SDXL's 768 + 1280 (projection 1280), 12 + 32 layers, scaled down. */
export const MINI_SDXL = { hidden1: 128, layers1: 2, hidden2: 192, layers2: 3, projection: 192, timeEmbedDim: 64 } as const;

/** SDXL base 1.0's scheduler config: SD-Turbo's but for leading spacing (EulerDiscreteScheduler, steps_offset 1). */
export const TINY_SDXL_SCHEDULER_CONFIG = { ...TINY_SCHEDULER_CONFIG, _diffusers_version: '0.19.0.dev0', timestep_spacing: 'leading' } as const;

/**
 * A whole SDXL-signature folder as optimum's ORTStableDiffusionXLPipeline writes it (and as
 * stabilityai/sdxl-turbo publishes it): both encoders and tokenizers (the first pads with
 * `<|endoftext|>`, the second with `!`, as SDXL's do), the UNet with its config (sample_size 128 → 1024²
 * native), the VAE decoder and encoder at SDXL's scaling factor 0.13025, the scheduler, model_index.json.
 */
export async function buildTinySdxlModel(dir: string, opts: TinySdxlModelOptions = {}): Promise<void> {
  const vocab1 = await writeTinyTokenizer(path.join(dir, 'tokenizer'), '<|endoftext|>');
  const vocab2 = await writeTinyTokenizer(path.join(dir, 'tokenizer_2'), '!');
  const S = opts.mini ? MINI_SDXL : TINY_SDXL;
  if (opts.mini) {
    const m = { ...opts.mini, ...(opts.externalUnetData ? { externalUnetData: true } : {}) };
    await writeGraph(path.join(dir, 'text_encoder'), miniTextEncoderGraph(vocab1, { ...m, textHidden: S.hidden1, textLayers: S.layers1 }, { name: 'text_encoder', hiddenStates: true, seed: 1000 }));
    await writeGraph(
      path.join(dir, 'text_encoder_2'),
      miniTextEncoderGraph(vocab2, { ...m, textHidden: S.hidden2, textLayers: S.layers2 }, { name: 'text_encoder_2', hiddenStates: true, projection: S.projection, seed: 1500 }),
    );
    await writeGraph(path.join(dir, 'unet'), miniUnetGraph(S.hidden1 + S.hidden2, m, { pooled: S.projection }));
    await writeGraph(path.join(dir, 'vae_decoder'), miniVaeDecoderGraph(m));
    await writeGraph(path.join(dir, 'vae_encoder'), miniVaeEncoderGraph(m));
  } else {
    await writeGraph(path.join(dir, 'text_encoder'), sdxlTextEncoderGraph(vocab1, opts));
    await writeGraph(path.join(dir, 'text_encoder_2'), sdxlTextEncoder2Graph(vocab2, opts));
    await writeGraph(path.join(dir, 'unet'), sdxlUnetGraph(opts));
    const vaeOpts = { ...(opts.fp16 ? { fp16: true } : {}), ...(opts.fixedBatch ? { fixedBatch: true } : {}) };
    await writeGraph(path.join(dir, 'vae_decoder'), vaeDecoderGraph(vaeOpts));
    await writeGraph(path.join(dir, 'vae_encoder'), vaeEncoderGraph(vaeOpts));
  }
  await writeJson(path.join(dir, 'text_encoder', 'config.json'), {
    architectures: ['CLIPTextModel'],
    hidden_size: S.hidden1,
    num_hidden_layers: S.layers1,
    max_position_embeddings: TINY_SEQ,
  });
  await writeJson(path.join(dir, 'text_encoder_2', 'config.json'), {
    architectures: ['CLIPTextModelWithProjection'],
    hidden_size: S.hidden2,
    num_hidden_layers: S.layers2,
    projection_dim: S.projection,
    max_position_embeddings: TINY_SEQ,
  });
  await writeJson(path.join(dir, 'unet', 'config.json'), {
    _class_name: 'UNet2DConditionModel',
    sample_size: 128,
    in_channels: 4,
    out_channels: 4,
    cross_attention_dim: S.hidden1 + S.hidden2,
    addition_embed_type: 'text_time',
    addition_time_embed_dim: S.timeEmbedDim,
    projection_class_embeddings_input_dim: S.projection + 6 * S.timeEmbedDim,
  });
  const vaeConfig = { _class_name: 'AutoencoderKL', latent_channels: 4, scaling_factor: 0.13025, force_upcast: true };
  await writeJson(path.join(dir, 'vae_decoder', 'config.json'), vaeConfig);
  await writeJson(path.join(dir, 'vae_encoder', 'config.json'), vaeConfig);
  await mkdir(path.join(dir, 'scheduler'), { recursive: true });
  await writeJson(path.join(dir, 'scheduler', 'scheduler_config.json'), TINY_SDXL_SCHEDULER_CONFIG);
  await writeJson(path.join(dir, 'model_index.json'), {
    _class_name: 'StableDiffusionXLPipeline',
    _diffusers_version: '0.24.0',
    force_zeros_for_empty_prompt: opts.forceZerosForEmptyPrompt ?? true,
    scheduler: ['diffusers', 'EulerDiscreteScheduler'],
    text_encoder: ['transformers', 'CLIPTextModel'],
    text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
    tokenizer: ['transformers', 'CLIPTokenizer'],
    tokenizer_2: ['transformers', 'CLIPTokenizer'],
    unet: ['diffusers', 'UNet2DConditionModel'],
    vae: ['diffusers', 'AutoencoderKL'],
  });
  await writeJson(path.join(dir, VERSION_FILE), { version: TINY_MODEL_VERSION, sdxl: true, options: opts });
}

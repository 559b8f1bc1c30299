/**
 * An SD-Turbo-class model with random weights: the real SD 2.1 UNet (UNet2DConditionModel, 865.9 M
 * parameters), the OpenCLIP-H text encoder as SD 2.x ships it (CLIPTextModel, 23 layers, 340.4 M) and
 * the SD VAE (AutoencoderKL: decoder 49.5 M, encoder 34.2 M), written in the diffusers ONNX layout with the
 * export's input/output names and dims (UNet weights in `unet/model.onnx_data`: a protobuf cannot hold
 * 3.5 GB). Pretrained weights cannot be downloaded here; this graph loads, allocates and computes what
 * the real one does, so load time, memory and speed measured on it are the real model's.
 *
 * Each function below is one diffusers module and reads like its `forward`. Weights are drawn with
 * std 1/√fan_in (biases small), so activations stay O(1) through the residual stacks and the image is
 * finite noise, not NaN. `config` scales every width, so tests can build the same graphs narrow.
 */
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GraphBuilder } from '../onnx-builder.js';
import { TINY_SCHEDULER_CONFIG, VERSION_FILE, writeJson, writeTinyTokenizer } from './files.js';

export interface SdTurboClassConfig {
  unet: {
    blockOutChannels: readonly number[];
    layersPerBlock: number;
    /** SD 2.1's `attention_head_dim` [5, 10, 20, 20] is the number of heads per block (diffusers' naming). */
    heads: readonly number[];
    crossAttentionDim: number;
  };
  text: { hidden: number; layers: number; heads: number; intermediate: number; vocab: number; maxPositions: number };
  vae: { blockOutChannels: readonly number[]; layersPerBlock: number; latentChannels: number };
  /** GroupNorm groups (32 everywhere in SD). */
  groups: number;
}

/** stabilityai/sd-turbo's configs (unet/, text_encoder/, vae/). */
export const SD_TURBO_CONFIG: SdTurboClassConfig = {
  unet: { blockOutChannels: [320, 640, 1280, 1280], layersPerBlock: 2, heads: [5, 10, 20, 20], crossAttentionDim: 1024 },
  text: { hidden: 1024, layers: 23, heads: 16, intermediate: 4096, vocab: 49408, maxPositions: 77 },
  vae: { blockOutChannels: [128, 256, 512, 512], layersPerBlock: 2, latentChannels: 4 },
  groups: 32,
};

export interface SdTurboClassGraph {
  model: Uint8Array;
  /** External data in the order written (never concatenated: the UNet's is 3.5 GB). */
  externalParts: Buffer[] | null;
  /** Trainable parameters, counted as torch counts them (norm affine, biases, embeddings; no constants). */
  params: number;
}

export interface GraphOptions {
  /** Count parameters without drawing weights (the result is not a runnable graph). */
  dry?: boolean;
}

/** A fast deterministic uniform source: weights need a spread, not Gaussian tails, and there are 1.3 G of them. */
function xorshift(seed: number): () => number {
  let s = (seed * 0x9e3779b1) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** Graph building with parameter counting, and the layers every SD graph is made of. */
class Net {
  params = 0;
  private seed: number;

  constructor(
    readonly g: GraphBuilder,
    seed: number,
    private readonly groups: number,
    /** Count parameters only: no weights are drawn (the graph is not runnable). */
    private readonly dry = false,
  ) {
    this.seed = seed;
  }

  /** A trainable tensor, uniform with standard deviation `std` (or filled with `fill`). */
  param(dims: readonly number[], std: number, fill?: number): string {
    const n = dims.reduce((a, b) => a * b, 1);
    this.params += n;
    if (this.dry) return this.g.weight(new Float32Array(0), [0]);
    const v = new Float32Array(n);
    if (fill !== undefined) v.fill(fill);
    else {
      const next = xorshift(this.seed++);
      const a = std * Math.sqrt(3);
      for (let i = 0; i < n; i++) v[i] = (2 * next() - 1) * a;
    }
    return this.g.weight(v, dims);
  }

  /** nn.Linear on the last axis (weight stored [in, out], as torch's export transposes it for MatMul). */
  linear(x: string, din: number, dout: number, bias = true): string {
    const y = this.g.node('MatMul', [x, this.param([din, dout], 1 / Math.sqrt(din))]);
    return bias ? this.g.node('Add', [y, this.param([dout], 0.02)]) : y;
  }

  /** nn.Conv2d; `pads` [top, left, bottom, right] defaults to 'same' for odd kernels. */
  conv(x: string, cin: number, cout: number, k = 3, stride = 1, pads?: number[]): string {
    const p = (k - 1) / 2;
    return this.g.node('Conv', [x, this.param([cout, cin, k, k], 1 / Math.sqrt(cin * k * k)), this.param([cout], 0.02)], {
      kernel_shape: [k, k],
      pads: pads ?? [p, p, p, p],
      strides: [stride, stride],
    });
  }

  /** nn.GroupNorm as torch exports it: Reshape [B, G, −1] → InstanceNormalization → Reshape → affine. */
  groupNorm(x: string, c: number, eps: number): string {
    const g = this.g;
    const G = this.groups;
    const r = g.node('Reshape', [x, g.int64s([0, G, -1])]);
    const n = g.node('InstanceNormalization', [r, g.weight(new Float32Array(G).fill(1), [G]), g.weight(new Float32Array(G), [G])], { epsilon: eps });
    const back = g.node('Reshape', [n, g.node('Shape', [x])]);
    return g.node('Add', [g.node('Mul', [back, this.param([c, 1, 1], 0, 1)]), this.param([c, 1, 1], 0, 0)]);
  }

  layerNorm(x: string, d: number, eps = 1e-5): string {
    return this.g.node('LayerNormalization', [x, this.param([d], 0, 1), this.param([d], 0, 0)], { axis: -1, epsilon: eps });
  }

  silu(x: string): string {
    return this.g.node('Mul', [x, this.g.node('Sigmoid', [x])]);
  }

  /** Exact GELU, x·½(1 + erf(x/√2)), as torch exports nn.GELU() (ORT fuses it back into one Gelu). */
  gelu(x: string): string {
    const g = this.g;
    const erf = g.node('Erf', [g.node('Div', [x, g.scalar(Math.SQRT2)])]);
    return g.node('Mul', [g.node('Mul', [x, g.node('Add', [erf, g.scalar(1)])]), g.scalar(0.5)]);
  }

  /**
   * Multi-head attention of tokens x [B, N, d] over ctx [B, M, dc] (self-attention when ctx is x):
   * diffusers' Attention (no q/k/v bias in the UNet) and CLIP's CLIPAttention (biases, causal mask).
   */
  attention(x: string, d: number, heads: number, opts: { ctx?: { value: string; dim: number }; qkvBias?: boolean; mask?: string } = {}): string {
    const g = this.g;
    const ctx = opts.ctx ?? { value: x, dim: d };
    const bias = opts.qkvBias ?? false;
    const dh = d / heads;
    const split = (t: string, perm: number[]): string => g.node('Transpose', [g.node('Reshape', [t, g.int64s([0, 0, heads, dh])])], { perm });
    const q = split(this.linear(x, d, d, bias), [0, 2, 1, 3]);
    const kT = split(this.linear(ctx.value, ctx.dim, d, bias), [0, 2, 3, 1]);
    const v = split(this.linear(ctx.value, ctx.dim, d, bias), [0, 2, 1, 3]);
    let scores = g.node('Mul', [g.node('MatMul', [q, kT]), g.scalar(1 / Math.sqrt(dh))]);
    if (opts.mask) scores = g.node('Add', [scores, opts.mask]);
    const attn = g.node('MatMul', [g.node('Softmax', [scores], { axis: -1 }), v]);
    const merged = g.node('Reshape', [g.node('Transpose', [attn], { perm: [0, 2, 1, 3] }), g.int64s([0, 0, d])]);
    return this.linear(merged, d, d); // to_out.0
  }

  /** [B, C, H, W] → [B, H·W, C] tokens, and back to `like`'s shape. */
  toTokens(x: string, c: number): string {
    return this.g.node('Transpose', [this.g.node('Reshape', [x, this.g.int64s([0, c, -1])])], { perm: [0, 2, 1] });
  }

  fromTokens(t: string, like: string): string {
    return this.g.node('Reshape', [this.g.node('Transpose', [t], { perm: [0, 2, 1] }), this.g.node('Shape', [like])]);
  }

  /** ResnetBlock2D: GN → SiLU → conv → (+ time_emb_proj) → GN → SiLU → conv, plus the (1×1-projected) input. */
  resnet(x: string, cin: number, cout: number, eps: number, temb?: { value: string; dim: number }): string {
    let h = this.conv(this.silu(this.groupNorm(x, cin, eps)), cin, cout);
    if (temb) {
      const proj = this.linear(this.silu(temb.value), temb.dim, cout);
      h = this.g.node('Add', [h, this.g.node('Unsqueeze', [proj, this.g.int64s([2, 3])])]);
    }
    h = this.conv(this.silu(this.groupNorm(h, cout, eps)), cout, cout);
    const skip = cin === cout ? x : this.conv(x, cin, cout, 1);
    return this.g.node('Add', [skip, h]);
  }

  /** Upsample2D: nearest ×2, then a 3×3 conv. */
  upsample(x: string, c: number): string {
    return this.conv(this.g.node('Resize', [x, '', this.g.floats([1, 1, 2, 2])], { mode: 'nearest' }), c, c);
  }
}

// ---------------------------------------------------------------------------------------------------
// UNet2DConditionModel (SD 2.1: linear projections, GEGLU feed-forward, 64-wide heads)

/** BasicTransformerBlock: self-attention, cross-attention to the text, GEGLU feed-forward; pre-LN residuals. */
function basicTransformerBlock(n: Net, x: string, d: number, heads: number, ctx: { value: string; dim: number }): string {
  const g = n.g;
  let h = g.node('Add', [n.attention(n.layerNorm(x, d), d, heads), x]);
  h = g.node('Add', [n.attention(n.layerNorm(h, d), d, heads, { ctx }), h]);
  // FeedForward(GEGLU): proj d → 2·4d, value half × GELU(gate half), then 4d → d.
  const proj = n.linear(n.layerNorm(h, d), d, 8 * d);
  const half = (from: number, to: number): string => g.node('Slice', [proj, g.int64s([from]), g.int64s([to]), g.int64s([-1])]);
  const ff = n.linear(g.node('Mul', [half(0, 4 * d), n.gelu(half(4 * d, 8 * d))]), 4 * d, d);
  return g.node('Add', [ff, h]);
}

/** Transformer2DModel with use_linear_projection: GN → tokens → proj_in → block → proj_out → image, + input. */
function transformer2d(n: Net, x: string, c: number, heads: number, ctx: { value: string; dim: number }): string {
  const tokens = n.linear(n.toTokens(n.groupNorm(x, c, 1e-6), c), c, c);
  const out = n.linear(basicTransformerBlock(n, tokens, c, heads, ctx), c, c);
  return n.g.node('Add', [n.fromTokens(out, x), x]);
}

/** Timesteps(flip_sin_to_cos, shift 0) → TimestepEmbedding: [cos | sin] of t·10000^(−i/half), Linear, SiLU, Linear. */
function timeEmbedding(n: Net, t: string, c0: number, dim: number): string {
  const g = n.g;
  const half = c0 / 2;
  const freqs = Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
  const args = g.node('Mul', [g.node('Unsqueeze', [t, g.int64s([1])]), g.weight(freqs, [1, half])]);
  const emb = g.node('Concat', [g.node('Cos', [args]), g.node('Sin', [args])], { axis: 1 });
  return n.linear(n.silu(n.linear(emb, c0, dim)), dim, dim);
}

interface Skip {
  value: string;
  c: number;
}

export function sdTurboUnetGraph(cfg: SdTurboClassConfig = SD_TURBO_CONFIG, opts: GraphOptions = {}): SdTurboClassGraph {
  const { blockOutChannels: ch, layersPerBlock, heads, crossAttentionDim } = cfg.unet;
  const g = new GraphBuilder('unet', 'model.onnx_data');
  const n = new Net(g, 1_000_000, cfg.groups, opts.dry);
  const sample = g.input('sample', 'float32', ['batch_size', 4, 'height', 'width']);
  const timestep = g.input('timestep', 'float32', ['steps']);
  const ctx = { value: g.input('encoder_hidden_states', 'float32', ['batch_size', 'sequence_length', crossAttentionDim]), dim: crossAttentionDim };
  const tdim = ch[0]! * 4;
  const temb = { value: timeEmbedding(n, timestep, ch[0]!, tdim), dim: tdim };

  let h = n.conv(sample, 4, ch[0]!);
  let c = ch[0]!;
  const skips: Skip[] = [{ value: h, c }];
  // Down: CrossAttnDownBlock2D × 3, DownBlock2D (no attention, no downsampler).
  for (let b = 0; b < ch.length; b++) {
    const attn = b < ch.length - 1;
    for (let l = 0; l < layersPerBlock; l++) {
      h = n.resnet(h, c, ch[b]!, 1e-5, temb);
      c = ch[b]!;
      if (attn) h = transformer2d(n, h, c, heads[b]!, ctx);
      skips.push({ value: h, c });
    }
    if (b < ch.length - 1) {
      h = n.conv(h, c, c, 3, 2); // Downsample2D
      skips.push({ value: h, c });
    }
  }
  // UNetMidBlock2DCrossAttn: resnet, transformer, resnet.
  h = n.resnet(h, c, c, 1e-5, temb);
  h = transformer2d(n, h, c, heads.at(-1)!, ctx);
  h = n.resnet(h, c, c, 1e-5, temb);
  // Up: UpBlock2D, CrossAttnUpBlock2D × 3; each resnet takes the next skip, concatenated on channels.
  for (let b = ch.length - 1; b >= 0; b--) {
    const attn = b < ch.length - 1;
    for (let l = 0; l <= layersPerBlock; l++) {
      const skip = skips.pop()!;
      h = n.resnet(g.node('Concat', [h, skip.value], { axis: 1 }), c + skip.c, ch[b]!, 1e-5, temb);
      c = ch[b]!;
      if (attn) h = transformer2d(n, h, c, heads[b]!, ctx);
    }
    if (b > 0) h = n.upsample(h, c);
  }
  const out = n.conv(n.silu(n.groupNorm(h, c, 1e-5)), c, 4);
  g.node('Identity', [out], {}, 'out_sample');
  g.output('out_sample', 'float32', ['batch_size', 4, 'height', 'width']);
  return { ...g.encodeParts(), params: n.params };
}

// ---------------------------------------------------------------------------------------------------
// CLIPTextModel (OpenCLIP ViT-H/14's text tower, its last layer dropped as SD 2.x does)

/** CLIPEncoderLayer: pre-LN causal self-attention and a GELU MLP, each residual. */
function clipEncoderLayer(n: Net, x: string, d: number, heads: number, inner: number, mask: string): string {
  const g = n.g;
  const h = g.node('Add', [x, n.attention(n.layerNorm(x, d), d, heads, { qkvBias: true, mask })]);
  const mlp = n.linear(n.gelu(n.linear(n.layerNorm(h, d), d, inner)), inner, d);
  return g.node('Add', [h, mlp]);
}

export function sdTurboTextEncoderGraph(cfg: SdTurboClassConfig = SD_TURBO_CONFIG, opts: GraphOptions = {}): SdTurboClassGraph {
  const { hidden: d, layers, heads, intermediate, vocab, maxPositions: P } = cfg.text;
  const g = new GraphBuilder('text_encoder');
  const n = new Net(g, 2_000_000, cfg.groups, opts.dry);
  const ids = g.input('input_ids', 'int32', ['batch_size', 'sequence_length']);
  // The first L positions and the L×L causal mask, L = the input's length.
  const len = g.node('Slice', [g.node('Shape', [ids]), g.int64s([1]), g.int64s([2])]);
  const positions = g.node('Slice', [n.param([P, d], 0.01), g.int64s([0]), len, g.int64s([0])]);
  const causal = new Float32Array(P * P);
  for (let i = 0; i < P; i++) for (let j = i + 1; j < P; j++) causal[i * P + j] = -3.4028234663852886e38;
  const mask = g.node('Slice', [g.weight(causal, [P, P]), g.int64s([0, 0]), g.node('Concat', [len, len], { axis: 0 }), g.int64s([0, 1])]);
  let x = g.node('Add', [g.node('Gather', [n.param([vocab, d], 0.02), ids], { axis: 0 }), positions]);
  for (let l = 0; l < layers; l++) x = clipEncoderLayer(n, x, d, heads, intermediate, mask);
  const last = n.layerNorm(x, d);
  g.node('Identity', [last], {}, 'last_hidden_state');
  // pooler_output: the hidden state at the end-of-text token (the largest id), per sequence.
  const eot = g.node('ArgMax', [g.node('Cast', [ids], { to: 1 })], { axis: -1, keepdims: 1 });
  g.node('GatherND', [last, eot], { batch_dims: 1 }, 'pooler_output');
  g.output('last_hidden_state', 'float32', ['batch_size', 'sequence_length', d]);
  g.output('pooler_output', 'float32', ['batch_size', d]);
  return { ...g.encodeParts(), params: n.params };
}

// ---------------------------------------------------------------------------------------------------
// AutoencoderKL (the SD VAE)

/** The VAE's mid-block Attention: GN, single-head attention over all pixels (q/k/v biased), residual. */
function vaeAttention(n: Net, x: string, c: number): string {
  const tokens = n.toTokens(n.groupNorm(x, c, 1e-6), c);
  return n.g.node('Add', [n.fromTokens(n.attention(tokens, c, 1, { qkvBias: true }), x), x]);
}

/** UNetMidBlock2D of the VAE: resnet, attention, resnet. */
function vaeMidBlock(n: Net, x: string, c: number): string {
  return n.resnet(vaeAttention(n, n.resnet(x, c, c, 1e-6), c), c, c, 1e-6);
}

export function sdTurboVaeDecoderGraph(cfg: SdTurboClassConfig = SD_TURBO_CONFIG, opts: GraphOptions = {}): SdTurboClassGraph {
  const { blockOutChannels, layersPerBlock, latentChannels: zc } = cfg.vae;
  const ch = [...blockOutChannels].reverse();
  const g = new GraphBuilder('vae_decoder');
  const n = new Net(g, 3_000_000, cfg.groups, opts.dry);
  const z = g.input('latent_sample', 'float32', ['batch_size', zc, 'height_latent', 'width_latent']);
  let h = n.conv(n.conv(z, zc, zc, 1), zc, ch[0]!); // post_quant_conv, decoder.conv_in
  h = vaeMidBlock(n, h, ch[0]!);
  let c = ch[0]!;
  // UpDecoderBlock2D × 4: layers_per_block + 1 resnets, then ×2 (all but the last).
  for (let b = 0; b < ch.length; b++) {
    for (let l = 0; l <= layersPerBlock; l++) {
      h = n.resnet(h, c, ch[b]!, 1e-6);
      c = ch[b]!;
    }
    if (b < ch.length - 1) h = n.upsample(h, c);
  }
  const rgb = n.conv(n.silu(n.groupNorm(h, c, 1e-6)), c, 3);
  g.node('Identity', [rgb], {}, 'sample');
  g.output('sample', 'float32', ['batch_size', 3, 'height', 'width']);
  return { ...g.encodeParts(), params: n.params };
}

/** The encoder: DownEncoderBlock2D × 4 (stride-2 conv padded right/bottom, as diffusers pads), mid block, mean and log-variance. */
export function sdTurboVaeEncoderGraph(cfg: SdTurboClassConfig = SD_TURBO_CONFIG, opts: GraphOptions = {}): SdTurboClassGraph {
  const { blockOutChannels: ch, layersPerBlock, latentChannels: zc } = cfg.vae;
  const g = new GraphBuilder('vae_encoder');
  const n = new Net(g, 4_000_000, cfg.groups, opts.dry);
  const x = g.input('sample', 'float32', ['batch_size', 3, 'height', 'width']);
  let h = n.conv(x, 3, ch[0]!);
  let c = ch[0]!;
  for (let b = 0; b < ch.length; b++) {
    for (let l = 0; l < layersPerBlock; l++) {
      h = n.resnet(h, c, ch[b]!, 1e-6);
      c = ch[b]!;
    }
    if (b < ch.length - 1) h = n.conv(h, c, c, 3, 2, [0, 0, 1, 1]);
  }
  h = vaeMidBlock(n, h, c);
  const moments = n.conv(n.conv(n.silu(n.groupNorm(h, c, 1e-6)), c, 2 * zc), 2 * zc, 2 * zc, 1); // conv_out, quant_conv
  // optimum's export: the distribution's parameters (mean ‖ log-variance); the pipeline takes the mean.
  g.node('Identity', [moments], {}, 'latent_parameters');
  g.output('latent_parameters', 'float32', ['batch_size', 2 * zc, 'height_latent', 'width_latent']);
  return { ...g.encodeParts(), params: n.params };
}

// ---------------------------------------------------------------------------------------------------
// The folder

async function writeGraphParts(dir: string, graph: SdTurboClassGraph): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'model.onnx'), graph.model);
  if (!graph.externalParts) return;
  const fh = await open(path.join(dir, 'model.onnx_data'), 'w');
  try {
    for (const part of graph.externalParts) await fh.write(part);
  } finally {
    await fh.close();
  }
}

export interface SdTurboClassReport {
  params: { textEncoder: number; unet: number; vaeDecoder: number; vaeEncoder: number };
}

/** Each graph's parameter count, without drawing a weight. */
export function sdTurboClassParams(cfg: SdTurboClassConfig = SD_TURBO_CONFIG): SdTurboClassReport['params'] {
  return {
    textEncoder: sdTurboTextEncoderGraph(cfg, { dry: true }).params,
    unet: sdTurboUnetGraph(cfg, { dry: true }).params,
    vaeDecoder: sdTurboVaeDecoderGraph(cfg, { dry: true }).params,
    vaeEncoder: sdTurboVaeEncoderGraph(cfg, { dry: true }).params,
  };
}

/**
 * Writes the model folder (optimum's layout: model_index.json, scheduler/, tokenizer/, text_encoder/,
 * unet/ with model.onnx_data, vae_decoder/, vae_encoder/), one graph at a time so at most one graph's
 * weights are in memory. The tokenizer is the tiny CLIP vocabulary (ids stay below the 49 408-row table).
 */
export async function buildSdTurboClassModel(dir: string, cfg: SdTurboClassConfig = SD_TURBO_CONFIG, log: (l: string) => void = () => {}): Promise<SdTurboClassReport> {
  await writeTinyTokenizer(path.join(dir, 'tokenizer'), '!');
  await mkdir(path.join(dir, 'scheduler'), { recursive: true });
  await writeJson(path.join(dir, 'scheduler', 'scheduler_config.json'), TINY_SCHEDULER_CONFIG);
  const params = { textEncoder: 0, unet: 0, vaeDecoder: 0, vaeEncoder: 0 };
  const steps: Array<[keyof typeof params, string, () => SdTurboClassGraph]> = [
    ['textEncoder', 'text_encoder', () => sdTurboTextEncoderGraph(cfg)],
    ['unet', 'unet', () => sdTurboUnetGraph(cfg)],
    ['vaeDecoder', 'vae_decoder', () => sdTurboVaeDecoderGraph(cfg)],
    ['vaeEncoder', 'vae_encoder', () => sdTurboVaeEncoderGraph(cfg)],
  ];
  for (const [key, sub, build] of steps) {
    const graph = build();
    params[key] = graph.params;
    await writeGraphParts(path.join(dir, sub), graph);
    log(`${sub}: ${(graph.params / 1e6).toFixed(1)} M parameters`);
  }
  const { text, unet, vae } = cfg;
  await writeJson(path.join(dir, 'text_encoder', 'config.json'), {
    _class_name: 'CLIPTextModel',
    architectures: ['CLIPTextModel'],
    hidden_act: 'gelu',
    hidden_size: text.hidden,
    intermediate_size: text.intermediate,
    max_position_embeddings: text.maxPositions,
    num_attention_heads: text.heads,
    num_hidden_layers: text.layers,
    projection_dim: 512,
    vocab_size: text.vocab,
  });
  await writeJson(path.join(dir, 'unet', 'config.json'), {
    _class_name: 'UNet2DConditionModel',
    attention_head_dim: unet.heads,
    block_out_channels: unet.blockOutChannels,
    cross_attention_dim: unet.crossAttentionDim,
    down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
    in_channels: 4,
    layers_per_block: unet.layersPerBlock,
    out_channels: 4,
    sample_size: 64,
    up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
    use_linear_projection: true,
  });
  const vaeConfig = {
    _class_name: 'AutoencoderKL',
    block_out_channels: vae.blockOutChannels,
    latent_channels: vae.latentChannels,
    layers_per_block: vae.layersPerBlock,
    sample_size: 768,
    scaling_factor: 0.18215,
  };
  await writeJson(path.join(dir, 'vae_decoder', 'config.json'), vaeConfig);
  await writeJson(path.join(dir, 'vae_encoder', 'config.json'), vaeConfig);
  await writeJson(path.join(dir, 'model_index.json'), {
    _class_name: 'ORTStableDiffusionPipeline',
    _diffusers_version: '0.24.0',
    feature_extractor: [null, null],
    requires_safety_checker: false,
    safety_checker: [null, null],
    scheduler: ['diffusers', 'EulerDiscreteScheduler'],
    text_encoder: ['optimum', 'ORTModelTextEncoder'],
    tokenizer: ['transformers', 'CLIPTokenizer'],
    unet: ['optimum', 'ORTModelUnet'],
    vae_decoder: ['optimum', 'ORTModelVaeDecoder'],
    vae_encoder: ['optimum', 'ORTModelVaeEncoder'],
  });
  // Written last: its presence means the folder is complete.
  await writeJson(path.join(dir, VERSION_FILE), { kind: 'sd-turbo-class', config: cfg, params });
  return { params };
}

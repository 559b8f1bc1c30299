/**
 * "Mini" stand-ins: random-weight graphs built from the same blocks as the real SD graphs (GroupNorm +
 * SiLU + 3×3 conv ResNet blocks, strided-conv downsampling, nearest-upsampling, attention and MLP
 * transformer blocks with cross-attention to the text, a CLIP-like pre-LN text transformer, a VAE decoder
 * that upsamples ×8 through conv stacks), at a width chosen by `width`. They load, allocate and compute
 * like a real model at a fraction of its size, so session settings, tiling and quantization can be
 * measured on them. Same input/output signatures as the tiny graphs.
 */
import { GraphBuilder } from '../onnx-builder.js';
import { createRng } from '../rng.js';
import { TINY_SEQ } from './graphs.js';

export interface MiniOptions {
  /** Channel multiplier: 1 → UNet widths 64/128/256/512 (~45 M parameters); real SD is ~5× wider. */
  width?: number;
  /** Text encoder hidden size and layers (CLIP ViT-L: 768 × 12). */
  textHidden?: number;
  textLayers?: number;
  /** Put UNet weights in `model.onnx_data`, as large exports do. */
  externalUnetData?: boolean;
}

export interface EncodedGraph {
  model: Uint8Array;
  externalData: Buffer | null;
}

let seedCounter = 1;

function rand(n: number, scale: number): Float32Array {
  const v = createRng(seedCounter++).normal(n);
  for (let i = 0; i < n; i++) v[i] = v[i]! * scale;
  return v;
}

function ones(n: number): Float32Array {
  return new Float32Array(n).fill(1);
}

class Blocks {
  constructor(readonly g: GraphBuilder) {}

  conv(x: string, cin: number, cout: number, k = 3, stride = 1): string {
    const w = this.g.weight(rand(cout * cin * k * k, 1 / Math.sqrt(cin * k * k)), [cout, cin, k, k]);
    const b = this.g.weight(rand(cout, 0.02), [cout]);
    const p = (k - 1) / 2;
    return this.g.node('Conv', [x, w, b], { kernel_shape: [k, k], pads: [p, p, p, p], strides: [stride, stride] });
  }

  /** GroupNorm the way torch exports it: Reshape to [B, G, −1] → InstanceNormalization → Reshape → affine. */
  groupNorm(x: string, c: number, groups = 32): string {
    const g = this.g;
    const G = Math.min(groups, c);
    const shape = g.node('Shape', [x]);
    const r = g.node('Reshape', [x, g.int64s([0, G, -1])]);
    const n = g.node('InstanceNormalization', [r, g.weight(ones(G), [G]), g.weight(new Float32Array(G), [G])], { epsilon: 1e-5 });
    const back = g.node('Reshape', [n, shape]);
    return g.node('Add', [g.node('Mul', [back, g.weight(ones(c), [c, 1, 1])]), g.weight(new Float32Array(c), [c, 1, 1])]);
  }

  silu(x: string): string {
    return this.g.node('Mul', [x, this.g.node('Sigmoid', [x])]);
  }

  resBlock(x: string, cin: number, cout: number, temb?: { value: string; dim: number }): string {
    let h = this.conv(this.silu(this.groupNorm(x, cin)), cin, cout);
    if (temb) {
      const proj = this.g.node('MatMul', [temb.value, this.g.weight(rand(temb.dim * cout, 1 / Math.sqrt(temb.dim)), [temb.dim, cout])]);
      h = this.g.node('Add', [h, this.g.node('Unsqueeze', [proj, this.g.int64s([2, 3])])]);
    }
    h = this.conv(this.silu(this.groupNorm(h, cout)), cout, cout);
    const skip = cin === cout ? x : this.conv(x, cin, cout, 1);
    return this.g.node('Add', [skip, this.g.node('Mul', [h, this.g.scalar(0.5)])]);
  }

  linear(x: string, din: number, dout: number, bias = true): string {
    const y = this.g.node('MatMul', [x, this.g.weight(rand(din * dout, 1 / Math.sqrt(din)), [din, dout])]);
    return bias ? this.g.node('Add', [y, this.g.weight(rand(dout, 0.02), [dout])]) : y;
  }

  layerNorm(x: string, d: number): string {
    return this.g.node('LayerNormalization', [x, this.g.weight(ones(d), [d]), this.g.weight(new Float32Array(d), [d])], { axis: -1, epsilon: 1e-5 });
  }

  /** Single-head scaled dot-product attention of tokens x [B, N, d] over context [B, M, dc]. */
  attention(x: string, d: number, ctx: string, dc: number): string {
    const q = this.linear(x, d, d, false);
    const k = this.linear(ctx, dc, d, false);
    const v = this.linear(ctx, dc, d, false);
    const scores = this.g.node('Mul', [this.g.node('MatMul', [q, this.g.node('Transpose', [k], { perm: [0, 2, 1] })]), this.g.scalar(1 / Math.sqrt(d))]);
    const attn = this.g.node('MatMul', [this.g.node('Softmax', [scores], { axis: -1 }), v]);
    return this.linear(attn, d, d);
  }

  gelu(x: string): string {
    // The sigmoid approximation x·σ(1.702x): one fused-friendly op pair, as some exports write it.
    return this.g.node('Mul', [x, this.g.node('Sigmoid', [this.g.node('Mul', [x, this.g.scalar(1.702)])])]);
  }

  /** Pre-LN transformer layer on [B, N, d] tokens; cross-attention to `ctx` when given. */
  transformer(x: string, d: number, ctx?: { value: string; dim: number }): string {
    let h = this.g.node('Add', [x, this.attention(this.layerNorm(x, d), d, this.layerNorm(x, d), d)]);
    if (ctx) h = this.g.node('Add', [h, this.attention(this.layerNorm(h, d), d, ctx.value, ctx.dim)]);
    const mlp = this.linear(this.gelu(this.linear(this.layerNorm(h, d), d, 4 * d)), 4 * d, d);
    return this.g.node('Add', [h, mlp]);
  }

  /** Spatial transformer: [B, C, H, W] → tokens → transformer → back. */
  spatialTransformer(x: string, c: number, ctx: { value: string; dim: number }): string {
    const g = this.g;
    const shape = g.node('Shape', [x]);
    const tokens = g.node('Transpose', [g.node('Reshape', [this.groupNorm(x, c), g.int64s([0, c, -1])])], { perm: [0, 2, 1] });
    const out = this.transformer(tokens, c, ctx);
    const back = g.node('Reshape', [g.node('Transpose', [out], { perm: [0, 2, 1] }), shape]);
    return g.node('Add', [x, back]);
  }

  upsample(x: string): string {
    return this.g.node('Resize', [x, '', this.g.floats([1, 1, 2, 2])], { mode: 'nearest' });
  }
}

/** SDXL's encoders as optimum exports them: every layer's `hidden_states.i`, and for the second a `text_embeds` projection. */
export interface MiniClipOptions {
  name: string;
  hiddenStates: boolean;
  projection?: number;
  seed: number;
}

export function miniTextEncoderGraph(vocabSize: number, opts: MiniOptions = {}, clip: MiniClipOptions = { name: 'text_encoder', hiddenStates: false, seed: 1000 }): EncodedGraph {
  seedCounter = clip.seed;
  const H = opts.textHidden ?? 256;
  const g = new GraphBuilder(clip.name);
  const b = new Blocks(g);
  const ids = g.input('input_ids', 'int32', ['batch', TINY_SEQ]);
  let x = g.node('Add', [g.node('Gather', [g.weight(rand(vocabSize * H, 0.02), [vocabSize, H]), ids], { axis: 0 }), g.weight(rand(TINY_SEQ * H, 0.01), [TINY_SEQ, H])]);
  const hidden = [x];
  for (let l = 0; l < (opts.textLayers ?? 4); l++) hidden.push((x = b.transformer(x, H)));
  const h = b.layerNorm(x, H);
  const pooled = g.node('ReduceMean', [h], { axes: [1], keepdims: 0 });
  if (clip.projection) {
    g.node('Identity', [b.linear(pooled, H, clip.projection, false)], {}, 'text_embeds');
    g.output('text_embeds', 'float32', ['batch', clip.projection]);
  }
  g.node('Identity', [h], {}, 'last_hidden_state');
  g.output('last_hidden_state', 'float32', ['batch', TINY_SEQ, H]);
  if (!clip.projection) {
    g.node('Identity', [pooled], {}, 'pooler_output');
    g.output('pooler_output', 'float32', ['batch', H]);
  }
  if (clip.hiddenStates) {
    hidden.forEach((v, i) => {
      g.node('Identity', [v], {}, `hidden_states.${i}`);
      g.output(`hidden_states.${i}`, 'float32', ['batch', TINY_SEQ, H]);
    });
  }
  return g.encode();
}

/** `sdxl`: SDXL's added conditioning — `text_embeds` [B, pooled] and `time_ids` [B, 6] through its add_embedding MLP. */
export function miniUnetGraph(textHidden: number, opts: MiniOptions = {}, sdxl?: { pooled: number }): EncodedGraph {
  seedCounter = 2000;
  const m = opts.width ?? 1;
  const ch = [64, 128, 256, 512].map((c) => Math.max(32, Math.round((c * m) / 32) * 32));
  const g = new GraphBuilder('unet', opts.externalUnetData ? 'model.onnx_data' : undefined);
  const b = new Blocks(g);
  const sample = g.input('sample', 'float32', ['batch', 4, 'height', 'width']);
  const ts = g.input('timestep', 'float32', ['batch']);
  const ehs = g.input('encoder_hidden_states', 'float32', ['batch', TINY_SEQ, textHidden]);
  const ctx = { value: ehs, dim: textHidden };
  // Sinusoidal timestep embedding → MLP, as SD's time_embedding.
  const half = 32;
  const freqs = Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
  const args = g.node('Mul', [g.node('Unsqueeze', [ts, g.int64s([1])]), g.weight(freqs, [1, half])]);
  const sincos = g.node('Concat', [g.node('Sin', [args]), g.node('Cos', [args])], { axis: 1 });
  const tdim = ch[0]! * 4;
  let tembValue = b.linear(b.silu(b.linear(sincos, 2 * half, tdim)), tdim, tdim);
  if (sdxl) {
    // Each time id through the same sinusoidal embedding (SDXL: 256 dims each), flattened, next to the pooled text.
    const textEmbeds = g.input('text_embeds', 'float32', ['batch', sdxl.pooled]);
    const ids = g.input('time_ids', 'float32', ['batch', 6]);
    const idArgs = g.node('Mul', [g.node('Unsqueeze', [ids, g.int64s([2])]), g.weight(freqs, [1, 1, half])]);
    const idEmb = g.node('Reshape', [g.node('Concat', [g.node('Sin', [idArgs]), g.node('Cos', [idArgs])], { axis: 2 }), g.int64s([0, 6 * 2 * half])]);
    const addIn = g.node('Concat', [textEmbeds, idEmb], { axis: 1 });
    const dim = sdxl.pooled + 6 * 2 * half;
    tembValue = g.node('Add', [tembValue, b.linear(b.silu(b.linear(addIn, dim, tdim)), tdim, tdim)]);
  }
  const temb = { value: b.silu(tembValue), dim: tdim };

  let h = b.conv(sample, 4, ch[0]!);
  const skips: Array<{ value: string; c: number }> = [];
  for (let l = 0; l < ch.length; l++) {
    const cin = l === 0 ? ch[0]! : ch[l - 1]!;
    h = b.resBlock(h, cin, ch[l]!, temb);
    if (l >= 1) h = b.spatialTransformer(h, ch[l]!, ctx);
    skips.push({ value: h, c: ch[l]! });
    if (l < ch.length - 1) h = b.conv(h, ch[l]!, ch[l]!, 3, 2);
  }
  h = b.spatialTransformer(b.resBlock(h, ch.at(-1)!, ch.at(-1)!, temb), ch.at(-1)!, ctx);
  for (let l = ch.length - 1; l >= 0; l--) {
    const skip = skips[l]!;
    h = b.resBlock(g.node('Concat', [h, skip.value], { axis: 1 }), (l === ch.length - 1 ? ch.at(-1)! : ch[l + 1]!) + skip.c, ch[l]!, temb);
    if (l >= 1) h = b.spatialTransformer(h, ch[l]!, ctx);
    if (l > 0) h = b.conv(b.upsample(h), ch[l]!, ch[l]!);
  }
  const out = b.conv(b.silu(b.groupNorm(h, ch[0]!)), ch[0]!, 4);
  // Mostly the input back, as the tiny UNet does, so latents stay bounded over steps with random weights.
  g.node('Add', [g.node('Mul', [sample, g.scalar(0.5)]), g.node('Mul', [out, g.scalar(0.1)])], {}, 'out_sample');
  g.output('out_sample', 'float32', ['batch', 4, 'height', 'width']);
  return g.encode();
}

export function miniVaeDecoderGraph(opts: MiniOptions = {}): EncodedGraph {
  seedCounter = 3000;
  const m = opts.width ?? 1;
  const ch = [256, 128, 64, 32].map((c) => Math.max(32, Math.round((c * m) / 32) * 32));
  const g = new GraphBuilder('vae_decoder');
  const b = new Blocks(g);
  const z = g.input('latent_sample', 'float32', ['batch', 4, 'latent_height', 'latent_width']);
  let h = b.conv(z, 4, ch[0]!);
  h = b.resBlock(h, ch[0]!, ch[0]!);
  for (let l = 1; l < ch.length; l++) {
    h = b.conv(b.upsample(h), ch[l - 1]!, ch[l]!);
    h = b.resBlock(h, ch[l]!, ch[l]!);
  }
  const rgb = b.conv(b.silu(b.groupNorm(h, ch.at(-1)!)), ch.at(-1)!, 3);
  g.node('Tanh', [rgb], {}, 'sample');
  g.output('sample', 'float32', ['batch', 3, 'height', 'width']);
  return g.encode();
}

/** The VAE encoder at the decoder's widths in reverse: ResNet blocks and three stride-2 convs (÷8). */
export function miniVaeEncoderGraph(opts: MiniOptions = {}): EncodedGraph {
  seedCounter = 4000;
  const m = opts.width ?? 1;
  const ch = [32, 64, 128, 256].map((c) => Math.max(32, Math.round((c * m) / 32) * 32));
  const g = new GraphBuilder('vae_encoder');
  const b = new Blocks(g);
  const x = g.input('sample', 'float32', ['batch', 3, 'height', 'width']);
  let h = b.resBlock(b.conv(x, 3, ch[0]!), ch[0]!, ch[0]!);
  for (let l = 1; l < ch.length; l++) h = b.resBlock(b.conv(h, ch[l - 1]!, ch[l]!, 3, 2), ch[l]!, ch[l]!);
  const z = b.conv(b.silu(b.groupNorm(h, ch.at(-1)!)), ch.at(-1)!, 4);
  g.node('Mul', [z, g.scalar(0.1)], {}, 'latent_sample');
  g.output('latent_sample', 'float32', ['batch', 4, 'latent_height', 'latent_width']);
  return g.encode();
}

/**
 * Random-weight stand-ins for the three Stable Diffusion ONNX graphs, with the same input/output
 * names, dtypes, ranks and symbolic dims as the diffusers/optimum exports. They compute something
 * small but input-dependent, so a pipeline bug (wrong feed, wrong layout) changes the picture.
 */
import { createRng } from '../rng.js';
import { GraphBuilder, type ElemType } from '../onnx-builder.js';

export const TINY_HIDDEN = 32;
export const TINY_SEQ = 77;
const UNET_CHANNELS = 16;

export interface TinyGraphOptions {
  /** float16 graph inputs/outputs, as fp16 exports have (the arithmetic inside stays float32). */
  fp16?: boolean;
  /** dtype of the UNet `timestep` input: float ([batch], the graph's float type) or int64 ([1]). */
  timestep?: 'float' | 'int64';
  /** Fixed batch of 1 instead of a symbolic batch dim (forces two UNet runs for guidance). */
  fixedBatch?: boolean;
  /** Put the UNet's weights in `model.onnx_data` next to it, as large exports do. */
  externalUnetData?: boolean;
  /** UNet width (default 16) and extra C→C 3×3 convs (default 0): raise them for benchmark-scale compute. */
  unetChannels?: number;
  unetMidConvs?: number;
  /** Give the UNet a `timestep_cond` [batch, dim] input, as LCM-distilled UNets have (dim 256). */
  timestepCondDim?: number;
  /**
   * The VAE encoder's output: `latent_sample` [batch, 4, …] (diffusers' export, default) or optimum's
   * `latent_parameters` [batch, 8, …] (the mean, then a constant log-variance of −2).
   */
  vaeEncoderOutput?: 'latent_sample' | 'latent_parameters';
}

export interface EncodedGraph {
  model: Uint8Array;
  externalData: Buffer | null;
}

export function randn(seed: number, n: number, scale: number): Float32Array {
  const v = createRng(seed).normal(n);
  for (let i = 0; i < n; i++) v[i] = v[i]! * scale;
  return v;
}

export function io(opts: Pick<TinyGraphOptions, 'fp16'>): ElemType {
  return opts.fp16 ? 'float16' : 'float32';
}

/** Graph input → float32 inside. */
export function toF32(g: GraphBuilder, name: string, opts: Pick<TinyGraphOptions, 'fp16'>): string {
  return opts.fp16 ? g.node('Cast', [name], { to: 1 }) : name;
}

/** float32 inside → the graph's output dtype, written under `name`. */
export function fromF32(g: GraphBuilder, value: string, name: string, opts: Pick<TinyGraphOptions, 'fp16'>): void {
  if (opts.fp16) g.node('Cast', [value], { to: 10 }, name);
  else g.node('Identity', [value], {}, name);
}

export function textEncoderGraph(vocabSize: number, opts: TinyGraphOptions = {}): EncodedGraph {
  const H = TINY_HIDDEN;
  const batch = opts.fixedBatch ? 1 : 'batch';
  const g = new GraphBuilder('text_encoder');
  const ids = g.input('input_ids', 'int32', [batch, TINY_SEQ]);
  const emb = g.weight(randn(101, vocabSize * H, 1), [vocabSize, H]);
  const pos = g.weight(randn(102, TINY_SEQ * H, 0.1), [TINY_SEQ, H]);
  const w = g.weight(randn(103, H * H, 1 / Math.sqrt(H)), [H, H]);
  const b = g.weight(randn(104, H, 0.1), [H]);
  const x = g.node('Add', [g.node('Gather', [emb, ids], { axis: 0 }), pos]);
  // A causal-ish mix: each position also sees the running mean of the sequence, so later tokens depend
  // on earlier ones as in CLIP's causal attention.
  const mean = g.node('ReduceMean', [x], { axes: [1], keepdims: 1 });
  const h = g.node('Tanh', [g.node('Add', [g.node('MatMul', [g.node('Add', [x, mean]), w]), b])]);
  const pooled = g.node('ReduceMean', [h], { axes: [1], keepdims: 0 });
  fromF32(g, h, 'last_hidden_state', opts);
  fromF32(g, pooled, 'pooler_output', opts);
  g.output('last_hidden_state', io(opts), [batch, TINY_SEQ, H]);
  g.output('pooler_output', io(opts), [batch, H]);
  return g.encode();
}

export function unetGraph(opts: TinyGraphOptions = {}): EncodedGraph {
  const H = TINY_HIDDEN;
  const C = opts.unetChannels ?? UNET_CHANNELS;
  const batch = opts.fixedBatch ? 1 : 'batch';
  const g = new GraphBuilder('unet', opts.externalUnetData ? 'model.onnx_data' : undefined);
  const sample = toF32(g, g.input('sample', io(opts), [batch, 4, 'height', 'width']), opts);
  const tsInt = opts.timestep === 'int64';
  const tsIn = g.input('timestep', tsInt ? 'int64' : io(opts), tsInt ? [1] : [batch]);
  const ts = tsInt || opts.fp16 ? g.node('Cast', [tsIn], { to: 1 }) : tsIn;
  const ehs = toF32(g, g.input('encoder_hidden_states', io(opts), [batch, TINY_SEQ, H]), opts);

  // Timestep → per-sample scale in (0.5, 1.5).
  const tScale = g.node('Add', [g.node('Mul', [g.node('Sin', [g.node('Mul', [ts, g.scalar(0.013)])]), g.scalar(0.5)]), g.scalar(1)]);
  const tScale4 = g.node('Reshape', [tScale, g.int64s([-1, 1, 1, 1])]);
  // Text conditioning: projected mean of the encoder states, added per channel.
  const cond = g.node('MatMul', [g.node('ReduceMean', [ehs], { axes: [1], keepdims: 0 }), g.weight(randn(201, H * C, 1 / Math.sqrt(H)), [H, C])]);
  const cond4 = g.node('Reshape', [cond, g.int64s([-1, C, 1, 1])]);

  const conv = { kernel_shape: [3, 3], pads: [1, 1, 1, 1] };
  const h1 = g.node('Conv', [sample, g.weight(randn(202, C * 4 * 9, 1 / 6), [C, 4, 3, 3]), g.weight(randn(203, C, 0.1), [C])], conv);
  let h1c = g.node('Add', [h1, cond4]);
  if (opts.timestepCondDim) {
    const D = opts.timestepCondDim;
    const w = toF32(g, g.input('timestep_cond', io(opts), [batch, D]), opts);
    const proj = g.node('MatMul', [w, g.weight(randn(206, D * C, 1 / Math.sqrt(D)), [D, C])]);
    h1c = g.node('Add', [h1c, g.node('Reshape', [proj, g.int64s([-1, C, 1, 1])])]);
  }
  let h2 = g.node('Tanh', [g.node('Mul', [h1c, tScale4])]);
  for (let m = 0; m < (opts.unetMidConvs ?? 0); m++) {
    const w = g.weight(randn(210 + m, C * C * 9, 1 / Math.sqrt(C * 9)), [C, C, 3, 3]);
    h2 = g.node('Tanh', [g.node('Conv', [h2, w, g.weight(randn(230 + m, C, 0.05), [C])], conv)]);
  }
  const h3 = g.node('Conv', [h2, g.weight(randn(204, 4 * C * 9, 1 / 12), [4, C, 3, 3]), g.weight(randn(205, 4, 0.05), [4])], conv);
  // Predict mostly the input back (a crude ε-prediction) so latents stay bounded across steps.
  const out = g.node('Add', [g.node('Mul', [sample, g.scalar(0.5)]), h3]);
  fromF32(g, out, 'out_sample', opts);
  g.output('out_sample', io(opts), [batch, 4, 'height', 'width']);
  return g.encode();
}

/** The tiny decoder's 3×3 conv (latents → RGB before the ×8 upsampling and tanh); the encoder inverts it. */
function decoderConv(): { w: Float32Array; b: Float32Array } {
  return { w: randn(301, 3 * 4 * 9, 0.004), b: randn(302, 3, 0.1) };
}

export function vaeDecoderGraph(opts: TinyGraphOptions = {}): EncodedGraph {
  const batch = opts.fixedBatch ? 1 : 'batch';
  const g = new GraphBuilder('vae_decoder');
  const z = toF32(g, g.input('latent_sample', io(opts), [batch, 4, 'latent_height', 'latent_width']), opts);
  const dec = decoderConv();
  const conv = g.node('Conv', [z, g.weight(dec.w, [3, 4, 3, 3]), g.weight(dec.b, [3])], {
    kernel_shape: [3, 3],
    pads: [1, 1, 1, 1],
  });
  const up = g.node('Resize', [conv, '', g.floats([1, 1, 8, 8])], { mode: 'linear' });
  const img = g.node('Tanh', [up]);
  fromF32(g, img, 'sample', opts);
  g.output('sample', io(opts), [batch, 3, 'height', 'width']);
  return g.encode();
}

/**
 * The Moore–Penrose inverse of the decoder's conv seen on smooth latents (its 3×3 kernels summed: a 3×4
 * matrix W), W⁺ = Wᵀ(WWᵀ)⁻¹, as a [4, 3] row-major matrix.
 */
function decoderPseudoInverse(w: Float32Array): Float64Array {
  const W = [0, 1, 2].map((o) => [0, 1, 2, 3].map((i) => {
    let sum = 0;
    for (let k = 0; k < 9; k++) sum += w[(o * 4 + i) * 9 + k]!;
    return sum;
  }));
  const A = [0, 1, 2].map((r) => [0, 1, 2].map((c) => W[r]!.reduce((acc, v, i) => acc + v * W[c]![i]!, 0)));
  const [a, b, c] = A[0]!;
  const [d, e, f] = A[1]!;
  const [g, h, k] = A[2]!;
  const det = a! * (e! * k! - f! * h!) - b! * (d! * k! - f! * g!) + c! * (d! * h! - e! * g!);
  const inv = [
    [e! * k! - f! * h!, c! * h! - b! * k!, b! * f! - c! * e!],
    [f! * g! - d! * k!, a! * k! - c! * g!, c! * d! - a! * f!],
    [d! * h! - e! * g!, b! * g! - a! * h!, a! * e! - b! * d!],
  ].map((row) => row.map((v) => v / det));
  const P = new Float64Array(12);
  for (let i = 0; i < 4; i++) for (let o = 0; o < 3; o++) P[i * 3 + o] = [0, 1, 2].reduce((acc, m) => acc + W[m]![i]! * inv[m]![o]!, 0);
  return P;
}

/**
 * The VAE encoder with the diffusers ONNX export's signature: `sample` [batch, 3, height, width] in [-1, 1]
 * → `latent_sample` [batch, 4, height/8, width/8] (unscaled: the pipeline multiplies by the scaling factor).
 * It inverts the tiny decoder on smooth pictures (8×8 average, atanh, the conv's pseudo-inverse), so a
 * decode of its latents looks like the input, as a trained VAE's round trip does.
 */
export function vaeEncoderGraph(opts: TinyGraphOptions = {}): EncodedGraph {
  const batch = opts.fixedBatch ? 1 : 'batch';
  const g = new GraphBuilder('vae_encoder');
  const x = toF32(g, g.input('sample', io(opts), [batch, 3, 'height', 'width']), opts);
  const dec = decoderConv();
  const pooled = g.node('AveragePool', [x], { kernel_shape: [8, 8], strides: [8, 8] });
  // tanh's inverse, kept finite at saturated pixels.
  const pre = g.node('Atanh', [g.node('Clip', [pooled, g.scalar(-0.995), g.scalar(0.995)])]);
  const centred = g.node('Sub', [pre, g.weight(dec.b, [1, 3, 1, 1])]);
  const P = Float32Array.from(decoderPseudoInverse(dec.w));
  const z = g.node('Conv', [centred, g.weight(P, [4, 3, 1, 1])], { kernel_shape: [1, 1] });
  if (opts.vaeEncoderOutput === 'latent_parameters') {
    const logvar = g.node('Add', [g.node('Mul', [z, g.scalar(0)]), g.scalar(-2)]);
    fromF32(g, g.node('Concat', [z, logvar], { axis: 1 }), 'latent_parameters', opts);
    g.output('latent_parameters', io(opts), [batch, 8, 'latent_height', 'latent_width']);
    return g.encode();
  }
  fromF32(g, z, 'latent_sample', opts);
  g.output('latent_sample', io(opts), [batch, 4, 'latent_height', 'latent_width']);
  return g.encode();
}

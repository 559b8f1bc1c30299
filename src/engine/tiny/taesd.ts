/**
 * TAESD-signature graphs: the Tiny AutoEncoder's decoder and encoder as diffusers' `AutoencoderTiny`
 * exports them to ONNX (deinferno/taesd-onnx layout): decoder `latent_sample` [b, 4, h, w] (the UNet's
 * latents as they are: scaling factor 1) → `sample` [b, 3, 8h, 8w] in [-1, 1]; encoder `sample` in
 * [-1, 1] → `latent_sample`. The layer structure is TAESD's own (clamp, conv + ReLU residual blocks, ×2
 * nearest upsampling ×3), so with `channels: 64` the graph costs what the real one costs; weights are random.
 */
import { GraphBuilder } from '../onnx-builder.js';
import { createRng } from '../rng.js';

export interface TaesdOptions {
  /** TAESD uses 64. */
  channels?: number;
}

export interface EncodedGraph {
  model: Uint8Array;
  externalData: Buffer | null;
}

function conv(g: GraphBuilder, x: string, cin: number, cout: number, seed: number, opts: { bias?: boolean; stride?: number } = {}): string {
  const rng = createRng(seed);
  const w = rng.normal(cout * cin * 9);
  const s = 1 / Math.sqrt(cin * 9);
  for (let i = 0; i < w.length; i++) w[i] = w[i]! * s;
  const inputs = [x, g.weight(w, [cout, cin, 3, 3])];
  if (opts.bias !== false) inputs.push(g.weight(new Float32Array(cout).fill(0.01), [cout]));
  const st = opts.stride ?? 1;
  return g.node('Conv', inputs, { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [st, st] });
}

/** TAESD's Block: conv-ReLU-conv-ReLU-conv, plus the input, then ReLU. */
function block(g: GraphBuilder, x: string, c: number, seed: number): string {
  let h = g.node('Relu', [conv(g, x, c, c, seed)]);
  h = g.node('Relu', [conv(g, h, c, c, seed + 1)]);
  h = conv(g, h, c, c, seed + 2);
  return g.node('Relu', [g.node('Add', [h, x])]);
}

export function taesdDecoderGraph(opts: TaesdOptions = {}): EncodedGraph {
  const C = opts.channels ?? 64;
  const g = new GraphBuilder('taesd_decoder');
  const z = g.input('latent_sample', 'float32', ['batch', 4, 'latent_height', 'latent_width']);
  // Clamp(): tanh(x / 3) · 3.
  let h = g.node('Mul', [g.node('Tanh', [g.node('Div', [z, g.scalar(3)])]), g.scalar(3)]);
  h = g.node('Relu', [conv(g, h, 4, C, 500)]);
  let seed = 510;
  for (let up = 0; up < 3; up++) {
    for (let b = 0; b < 3; b++) h = block(g, h, C, (seed += 3));
    h = g.node('Resize', [h, '', g.floats([1, 1, 2, 2])], { mode: 'nearest' });
    h = conv(g, h, C, C, (seed += 3), { bias: false });
  }
  h = block(g, h, C, (seed += 3));
  const rgb01 = conv(g, h, C, 3, (seed += 3));
  // diffusers' DecoderTiny returns x·2 − 1 (its [0, 1] → the VAE's [-1, 1]); the sigmoid keeps the random
  // stand-in in range as trained weights are.
  g.node('Sub', [g.node('Mul', [g.node('Sigmoid', [rgb01]), g.scalar(2)]), g.scalar(1)], {}, 'sample');
  g.output('sample', 'float32', ['batch', 3, 'height', 'width']);
  return g.encode();
}

export function taesdEncoderGraph(opts: TaesdOptions = {}): EncodedGraph {
  const C = opts.channels ?? 64;
  const g = new GraphBuilder('taesd_encoder');
  const x = g.input('sample', 'float32', ['batch', 3, 'height', 'width']);
  // EncoderTiny takes [0, 1]: diffusers feeds x.add(1).div(2).
  let h = conv(g, g.node('Div', [g.node('Add', [x, g.scalar(1)]), g.scalar(2)]), 3, C, 600);
  let seed = 610;
  h = block(g, h, C, (seed += 3));
  for (let down = 0; down < 3; down++) {
    h = conv(g, h, C, C, (seed += 3), { bias: false, stride: 2 });
    for (let b = 0; b < 3; b++) h = block(g, h, C, (seed += 3));
  }
  g.node('Identity', [conv(g, h, C, 4, (seed += 3))], {}, 'latent_sample');
  g.output('latent_sample', 'float32', ['batch', 4, 'latent_height', 'latent_width']);
  return g.encode();
}

/**
 * Turns the ESRGAN-slim ×2 model that ships in the @upscalerjs/esrgan-slim npm package (a Keras RDN saved
 * as a TF.js layers model) into an ONNX graph, so it runs on onnxruntime-node — several times faster than
 * TF.js on WebAssembly — and through the same tiled path as user-supplied ONNX models.
 * Only the layer kinds that model uses are handled; anything else is refused.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { GraphBuilder } from '../../engine/onnx-builder.js';
import { SuperResolutionError } from './types.js';

interface KerasLayer {
  class_name: string;
  name: string;
  config: {
    filters?: number;
    kernel_size?: number[];
    strides?: number[];
    padding?: string;
    activation?: string;
    use_bias?: boolean;
    axis?: number;
    size?: number[];
    interpolation?: string;
    dilation_rate?: number[];
  };
  inbound_nodes: Array<Array<[string, number, number, unknown]>>;
}

interface LayersModelJson {
  format: string;
  modelTopology: { model_config: { config: { layers: KerasLayer[]; output_layers: Array<[string, number, number]> } } };
  weightsManifest: Array<{ paths: string[]; weights: Array<{ name: string; shape: number[]; dtype: string }> }>;
}

export const ESRGAN_SLIM_PACKAGE = '@upscalerjs/esrgan-slim';

/** Directory of the package's ×2 model, or null when the package is not installed. */
export function esrganSlimX2Dir(): string | null {
  try {
    // The package's exports map hides package.json: resolve its entry and walk up to the package root.
    let dir = path.dirname(createRequire(import.meta.url).resolve(ESRGAN_SLIM_PACKAGE));
    while (!existsSync(path.join(dir, 'models', 'x2', 'model.json'))) {
      const up = path.dirname(dir);
      if (up === dir) return null;
      dir = up;
    }
    return path.join(dir, 'models', 'x2');
  } catch {
    return null;
  }
}

/** Keras HWIO kernel → ONNX OIHW. */
function toOihw(k: Float32Array, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(k.length);
  for (let y = 0; y < kh!; y++)
    for (let x = 0; x < kw!; x++)
      for (let i = 0; i < ci!; i++)
        for (let o = 0; o < co!; o++) out[((o * ci! + i) * kh! + y) * kw! + x] = k[((y * kw! + x) * ci! + i) * co! + o]!;
  return out;
}

function readWeights(dir: string, json: LayersModelJson): Map<string, { data: Float32Array; shape: number[] }> {
  const weights = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const group of json.weightsManifest) {
    const buf = Buffer.concat(group.paths.map((p) => readFileSync(path.join(dir, p))));
    let offset = 0;
    for (const w of group.weights) {
      if (w.dtype !== 'float32') throw new SuperResolutionError(`weight ${w.name} is ${w.dtype}; only float32 is handled`);
      const n = w.shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      Buffer.from(buf.buffer, buf.byteOffset + offset, n * 4).copy(Buffer.from(data.buffer));
      offset += n * 4;
      weights.set(w.name, { data, shape: w.shape });
    }
  }
  return weights;
}

/**
 * Builds the ONNX graph: input `image` [1,3,H,W] 0…1, output `upscaled` [1,3,2H,2W] 0…1
 * (the Keras model works on 0…255 NHWC; the scaling is folded into the graph).
 */
export function convertLayersModel(dir: string): Uint8Array {
  const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as LayersModelJson;
  if (json.format !== 'layers-model') throw new SuperResolutionError(`${dir}: not a TF.js layers model`);
  const weights = readWeights(dir, json);
  const cfg = json.modelTopology.model_config.config;
  const g = new GraphBuilder('esrgan-slim-x2');
  const input = g.input('image', 'float32', [1, 3, 'height', 'width']);
  const names = new Map<string, string>();
  const inbound = (l: KerasLayer): string[] =>
    (l.inbound_nodes[0] ?? []).map(([n]) => {
      const t = names.get(n);
      if (!t) throw new SuperResolutionError(`layer ${l.name} reads unknown layer ${n}`);
      return t;
    });

  for (const l of cfg.layers) {
    const c = l.config;
    switch (l.class_name) {
      case 'InputLayer':
        names.set(l.name, g.node('Mul', [input, g.scalar(255)]));
        break;
      case 'Conv2D': {
        const k = weights.get(`${l.name}/kernel`);
        if (!k || k.shape.length !== 4) throw new SuperResolutionError(`no kernel for ${l.name}`);
        const [kh, kw, ci, co] = k.shape as [number, number, number, number];
        if ((c.strides ?? [1, 1]).some((s) => s !== 1) || (c.dilation_rate ?? [1, 1]).some((d) => d !== 1)) {
          throw new SuperResolutionError(`${l.name}: strided/dilated convolutions are not handled`);
        }
        const pads = c.padding === 'same' ? [(kh - 1) >> 1, (kw - 1) >> 1, kh >> 1, kw >> 1] : [0, 0, 0, 0];
        const ins = [inbound(l)[0]!, g.weight(toOihw(k.data, k.shape), [co, ci, kh, kw])];
        if (c.use_bias !== false) ins.push(g.weight(weights.get(`${l.name}/bias`)!.data, [co]));
        let out = g.node('Conv', ins, { kernel_shape: [kh, kw], pads, strides: [1, 1] });
        if (c.activation === 'relu') out = g.node('Relu', [out]);
        else if (c.activation && c.activation !== 'linear') throw new SuperResolutionError(`${l.name}: activation ${c.activation}`);
        names.set(l.name, out);
        break;
      }
      case 'Activation':
        if (c.activation !== 'relu') throw new SuperResolutionError(`${l.name}: activation ${c.activation}`);
        names.set(l.name, g.node('Relu', inbound(l)));
        break;
      case 'Concatenate':
        // Keras concatenates NHWC on the last axis, which is channel axis 1 in NCHW.
        if (c.axis !== -1 && c.axis !== 3) throw new SuperResolutionError(`${l.name}: concat axis ${c.axis}`);
        names.set(l.name, g.node('Concat', inbound(l), { axis: 1 }));
        break;
      case 'Add':
        names.set(l.name, inbound(l).reduce((a, b) => g.node('Add', [a, b])));
        break;
      case 'UpSampling2D': {
        if (c.interpolation !== 'nearest') throw new SuperResolutionError(`${l.name}: ${c.interpolation} upsampling`);
        const [sh, sw] = c.size ?? [2, 2];
        names.set(
          l.name,
          g.node('Resize', [inbound(l)[0]!, '', g.floats([1, 1, sh!, sw!])], {
            mode: 'nearest',
            coordinate_transformation_mode: 'asymmetric',
            nearest_mode: 'floor',
          }),
        );
        break;
      }
      default:
        throw new SuperResolutionError(`${l.name}: layer kind ${l.class_name} is not handled`);
    }
  }
  const last = names.get(cfg.output_layers[0]![0]);
  if (!last) throw new SuperResolutionError('model has no output layer');
  g.node('Mul', [last, g.scalar(1 / 255)], {}, 'upscaled');
  g.output('upscaled', 'float32', [1, 3, 'out_height', 'out_width']);
  return g.encode(13).model;
}

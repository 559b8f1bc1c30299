/**
 * int8 weights by dynamic quantization, written with ONNX's standard operators as onnxruntime's
 * `quantize_dynamic` writes them: every MatMul (and Gemm) whose weight is a float32 initializer becomes
 *
 *   x ─ DynamicQuantizeLinear ─ x_q (uint8), x_scale, x_zp
 *   MatMulInteger(x_q, W_q (int8), x_zp, 0) ─ Cast(float) ─ Mul(x_scale · w_scale[col]) [─ Add(bias)]
 *
 * with W quantized symmetrically per output column. ONNX Runtime fuses the chain into one int8 GEMM
 * (MatMulIntegerToFloat), so the weights stay int8 in memory (¼ of fp32) and the products run on int8
 * kernels; activations are quantized per tensor at run time. Conv weights (`convs`, default 'dequantize')
 * are stored int8 too but computed in float — weight-only, as QDQ models write it:
 *
 *   W_q (int8), w_scale[M] ─ DequantizeLinear(axis 0) ─ Conv(x, W, bias)
 *
 * onnxruntime keeps DequantizeLinear out of constant folding (it marks QDQ fusions), so W stays int8 in
 * memory and is expanded per run, one layer at a time (see `weightsFirst`); the convolution keeps its float
 * kernel (ConvInteger, `convs: 'integer'`, has no fast one on CPU). Weights in an external data file are read
 * one tensor at a time, and the result's weights are written to `model.onnx_data` beside it, so a model
 * larger than memory or than protobuf's 2 GB can be converted.
 */
import { cp, mkdir, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pkg from 'onnx-proto';
import { EngineError } from '../contract/errors.js';
import { weightsFirst } from './onnx-inspect.js';

const { onnx } = pkg;
type TensorProto = pkg.onnx.ITensorProto;
type NodeProto = pkg.onnx.INodeProto;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT8 = onnx.TensorProto.DataType.INT8;
const EXTERNAL = onnx.TensorProto.DataLocation.EXTERNAL;

export type ConvMode = 'dequantize' | 'integer' | 'float';
export const CONV_MODES: readonly ConvMode[] = ['dequantize', 'integer', 'float'];

export interface QuantizeOptions {
  /** Weights with fewer elements stay float (default 256: biases, tiny projections). */
  minElements?: number;
  /**
   * 7-bit weights (±63): avoids the int16 saturation of u8×s8 products on AVX2 CPUs without VNNI,
   * at some precision (onnxruntime's `reduce_range`). Default false.
   */
  reduceRange?: boolean;
  /**
   * Conv weights: 'dequantize' (default: int8 weights expanded to float per run by DequantizeLinear, the
   * convolution itself in float), 'integer' (DynamicQuantizeLinear → ConvInteger: onnxruntime's CPU
   * ConvInteger has no fast kernel: the mini UNet ran 4–9× slower a step) or 'float' (left as they are).
   */
  convs?: ConvMode;
}

export interface QuantizeReport {
  /** MatMul/Gemm/Conv nodes whose weights were rewritten to int8. */
  quantized: number;
  /** Float weight bytes before, int8 (+ scale) bytes after, for the rewritten weights. */
  floatBytes: number;
  int8Bytes: number;
}

/** A tensor's raw bytes, from the proto or from its external data file. */
async function tensorBytes(t: TensorProto, dir: string): Promise<Uint8Array> {
  if (t.dataLocation === EXTERNAL) {
    const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const file = path.resolve(dir, kv.get('location') ?? '');
    const offset = Number(kv.get('offset') ?? 0);
    const fh = await open(file, 'r');
    try {
      const length = kv.has('length') ? Number(kv.get('length')) : (await fh.stat()).size - offset;
      const buf = Buffer.alloc(length);
      await fh.read(buf, 0, length, offset);
      return buf;
    } finally {
      await fh.close();
    }
  }
  if (t.rawData && t.rawData.length > 0) return t.rawData;
  if (t.dataType === FLOAT && t.floatData && t.floatData.length > 0) return new Uint8Array(Float32Array.from(t.floatData).buffer);
  return new Uint8Array(0);
}

function asFloats(bytes: Uint8Array): Float32Array {
  // Copy: proto and file buffers need not be 4-byte aligned.
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/** W [K, N] → per-column symmetric int8 and its scales. */
export function quantizeColumns(w: Float32Array, K: number, N: number, reduceRange = false): { q: Int8Array; scales: Float32Array } {
  const qmax = reduceRange ? 63 : 127;
  const maxAbs = new Float32Array(N);
  for (let k = 0; k < K; k++) {
    const row = k * N;
    for (let n = 0; n < N; n++) {
      const a = Math.abs(w[row + n]!);
      if (a > maxAbs[n]!) maxAbs[n] = a;
    }
  }
  const scales = new Float32Array(N);
  for (let n = 0; n < N; n++) scales[n] = maxAbs[n]! > 0 ? maxAbs[n]! / qmax : 1;
  const q = new Int8Array(K * N);
  for (let k = 0; k < K; k++) {
    const row = k * N;
    for (let n = 0; n < N; n++) q[row + n] = Math.max(-qmax, Math.min(qmax, Math.round(w[row + n]! / scales[n]!)));
  }
  return { q, scales };
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}

function attr(node: NodeProto, name: string): pkg.onnx.IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Rewrites one graph file; `dst` gets the graph, `<dst dir>/model.onnx_data` its weights. */
export async function quantizeGraphFile(src: string, dst: string, opts: QuantizeOptions = {}): Promise<QuantizeReport> {
  const minElements = opts.minElements ?? 256;
  if (path.resolve(path.dirname(src)) === path.resolve(path.dirname(dst))) throw new EngineError(`quantize into another folder than ${path.dirname(src)}`);
  let model: pkg.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(await readFile(src));
  } catch (err) {
    throw new EngineError(`cannot read ${src} as an ONNX model: ${(err as Error).message}`, { cause: err });
  }
  const graph = model.graph;
  if (!graph) throw new EngineError(`${src} has no graph`);
  const srcDir = path.dirname(src);
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const uses = new Map<string, number>();
  for (const n of graph.node ?? []) for (const i of n.input ?? []) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of graph.output ?? []) uses.set(o.name ?? '', (uses.get(o.name ?? '') ?? 0) + 1);

  const report: QuantizeReport = { quantized: 0, floatBytes: 0, int8Bytes: 0 };
  const added: TensorProto[] = [];
  const dropped = new Set<string>();
  const nodes: NodeProto[] = [];
  let k = 0;
  const fresh = (base: string): string => `${base}_q8_${k++}`;

  const opset = Number((model.opsetImport ?? []).find((o) => (o.domain ?? '') === '')?.version ?? 0);
  // Per-axis DequantizeLinear (one scale per output channel) is opset 13; older graphs keep float convs
  // rather than be raised to an opset whose other operators changed signature.
  const convs = opts.convs ?? 'dequantize';
  for (const node of graph.node ?? []) {
    if (convs === 'dequantize' && opset >= 13 && node.opType === 'Conv' && (node.domain ?? '') === '') {
      const conv = await dequantizedConv(node);
      nodes.push(...(conv ?? [node]));
      continue;
    }
    if (convs === 'integer' && node.opType === 'Conv' && (node.domain ?? '') === '') {
      const conv = await quantizeConv(node);
      nodes.push(...(conv ?? [node]));
      continue;
    }
    const isMatMul = node.opType === 'MatMul' && (node.domain ?? '') === '';
    const isGemm = node.opType === 'Gemm' && (node.domain ?? '') === '';
    const wName = node.input?.[1] ?? '';
    const w = inits.get(wName);
    const dims = (w?.dims ?? []).map(Number);
    const gemmOk = !isGemm || (Number(attr(node, 'transA')?.i ?? 0) === 0 && Number(attr(node, 'alpha')?.f ?? 1) === 1);
    if (!(isMatMul || isGemm) || !w || w.dataType !== FLOAT || dims.length !== 2 || dims[0]! * dims[1]! < minElements || !gemmOk) {
      nodes.push(node);
      continue;
    }
    const transB = isGemm && Number(attr(node, 'transB')?.i ?? 0) === 1;
    let floats = asFloats(await tensorBytes(w, srcDir));
    let [K, N] = dims as [number, number];
    if (transB) {
      floats = transpose(floats, K, N);
      [K, N] = [N, K];
    }
    const { q, scales } = quantizeColumns(floats, K, N, opts.reduceRange);
    const qName = fresh(`${wName}_int8`);
    const zpName = fresh(`${wName}_zero`);
    const scaleName = fresh(`${wName}_scale`);
    added.push({ name: qName, dims: [K, N], dataType: INT8, rawData: bytesOf(q) });
    added.push({ name: zpName, dims: [N], dataType: INT8, rawData: new Uint8Array(N) });
    added.push({ name: scaleName, dims: [N], dataType: FLOAT, rawData: bytesOf(scales) });
    report.quantized++;
    report.floatBytes += floats.byteLength;
    report.int8Bytes += q.byteLength + scales.byteLength + N;
    if ((uses.get(wName) ?? 0) <= 1) dropped.add(wName);

    const x = node.input![0]!;
    const out = node.output![0]!;
    const [xq, xs, xzp, yi, yf, s] = ['x_q', 'x_scale', 'x_zero', 'y_int32', 'y_float', 'scale'].map((b) => fresh(`${out}_${b}`)) as [string, string, string, string, string, string];
    const base = node.name ?? out;
    nodes.push({ opType: 'DynamicQuantizeLinear', name: fresh(`${base}_dql`), input: [x], output: [xq, xs, xzp] });
    nodes.push({ opType: 'MatMulInteger', name: fresh(`${base}_mmi`), input: [xq, qName, xzp, zpName], output: [yi] });
    nodes.push({ opType: 'Cast', name: fresh(`${base}_cast`), input: [yi], output: [yf], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }] });
    nodes.push({ opType: 'Mul', name: fresh(`${base}_scales`), input: [xs, scaleName], output: [s] });
    const bias = isGemm ? (node.input?.[2] ?? '') : '';
    const beta = isGemm ? Number(attr(node, 'beta')?.f ?? 1) : 1;
    if (bias && beta === 1) {
      const scaled = fresh(`${out}_scaled`);
      nodes.push({ opType: 'Mul', name: fresh(`${base}_mul`), input: [yf, s], output: [scaled] });
      nodes.push({ opType: 'Add', name: fresh(`${base}_bias`), input: [scaled, bias], output: [out] });
    } else if (bias) {
      throw new EngineError(`${src}: Gemm ${base} with beta ${beta} is not supported by the quantizer`);
    } else {
      nodes.push({ opType: 'Mul', name: fresh(`${base}_mul`), input: [yf, s], output: [out] });
    }
  }
  /** A Conv's float weight [M, C, kh, kw] as int8 per output channel, or null when it is not one. */
  async function convWeight(node: NodeProto): Promise<{ wName: string; dims: number[]; q: Int8Array; scales: Float32Array } | null> {
    const wName = node.input?.[1] ?? '';
    const w = inits.get(wName);
    const dims = (w?.dims ?? []).map(Number);
    if (!w || w.dataType !== FLOAT || dims.length < 3 || dims.reduce((a, b) => a * b, 1) < minElements) return null;
    const M = dims[0]!;
    const per = dims.slice(1).reduce((a, b) => a * b, 1);
    // Output channel m's weights are row m of a [M, per] matrix: quantize "columns" of its transpose.
    const floats = asFloats(await tensorBytes(w, srcDir));
    const { q: qT, scales } = quantizeColumns(transpose(floats, M, per), per, M, opts.reduceRange);
    const q = new Int8Array(M * per);
    for (let m = 0; m < M; m++) for (let i = 0; i < per; i++) q[m * per + i] = qT[i * M + m]!;
    report.quantized++;
    report.floatBytes += floats.byteLength;
    if ((uses.get(wName) ?? 0) <= 1) dropped.add(wName);
    return { wName, dims, q, scales };
  }

  /** Conv(x, W) → Conv(x, DequantizeLinear(W_q, scales, 0, axis 0)): int8 at rest, float arithmetic. */
  async function dequantizedConv(node: NodeProto): Promise<NodeProto[] | null> {
    const cw = await convWeight(node);
    if (!cw) return null;
    const { wName, dims, q, scales } = cw;
    const M = dims[0]!;
    const [qName, zpName, scaleName, wf] = ['int8', 'zero', 'scale', 'float'].map((b) => fresh(`${wName}_${b}`)) as [string, string, string, string];
    added.push({ name: qName, dims, dataType: INT8, rawData: bytesOf(q) });
    added.push({ name: zpName, dims: [M], dataType: INT8, rawData: new Uint8Array(M) });
    added.push({ name: scaleName, dims: [M], dataType: FLOAT, rawData: bytesOf(scales) });
    report.int8Bytes += q.byteLength + scales.byteLength + M;
    const base = node.name ?? node.output![0]!;
    return [
      { opType: 'DequantizeLinear', name: fresh(`${base}_dq`), input: [qName, scaleName, zpName], output: [wf], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
      { ...node, input: [node.input![0]!, wf, ...node.input!.slice(2)] },
    ];
  }

  async function quantizeConv(node: NodeProto): Promise<NodeProto[] | null> {
    const bias = node.input?.[2] ?? '';
    const b = bias ? inits.get(bias) : undefined;
    if (bias && !b) return null; // a computed bias: leave this Conv as it is
    const cw = await convWeight(node);
    if (!cw) return null;
    const { wName, dims, q, scales } = cw;
    const M = dims[0]!;
    const qName = fresh(`${wName}_int8`);
    const zpName = fresh(`${wName}_zero`);
    const scaleName = fresh(`${wName}_scale`);
    added.push({ name: qName, dims, dataType: INT8, rawData: bytesOf(q) });
    // ConvInteger takes one zero point for the whole weight (symmetric: 0); the scales stay per channel.
    added.push({ name: zpName, dims: [], dataType: INT8, rawData: new Uint8Array(1) });
    added.push({ name: scaleName, dims: [1, M, 1, 1], dataType: FLOAT, rawData: bytesOf(scales) });
    report.int8Bytes += q.byteLength + scales.byteLength + 1;
    const out = node.output![0]!;
    const base = node.name ?? out;
    const [xq, xs, xzp, yi, yf, s] = ['x_q', 'x_scale', 'x_zero', 'y_int32', 'y_float', 'scale'].map((b) => fresh(`${out}_${b}`)) as [string, string, string, string, string, string];
    const list: NodeProto[] = [
      { opType: 'DynamicQuantizeLinear', name: fresh(`${base}_dql`), input: [node.input![0]!], output: [xq, xs, xzp] },
      { opType: 'ConvInteger', name: fresh(`${base}_convi`), input: [xq, qName, xzp, zpName], output: [yi], attribute: node.attribute ?? [] },
      { opType: 'Cast', name: fresh(`${base}_cast`), input: [yi], output: [yf], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }] },
      { opType: 'Mul', name: fresh(`${base}_scales`), input: [xs, scaleName], output: [s] },
    ];
    if (b) {
      const scaled = fresh(`${out}_scaled`);
      // [M] → [1, M, 1, 1] so it adds per channel.
      const biasIn = fresh(`${bias}_nchw`);
      added.push({ name: biasIn, dims: [1, M, 1, 1], dataType: FLOAT, rawData: await tensorBytes(b, srcDir) });
      if ((uses.get(bias) ?? 0) <= 1) dropped.add(bias);
      list.push({ opType: 'Mul', name: fresh(`${base}_mul`), input: [yf, s], output: [scaled] });
      list.push({ opType: 'Add', name: fresh(`${base}_bias`), input: [scaled, biasIn], output: [out] });
    } else {
      list.push({ opType: 'Mul', name: fresh(`${base}_mul`), input: [yf, s], output: [out] });
    }
    return list;
  }

  if (report.quantized === 0) throw new EngineError(`${src}: no MatMul/Gemm/Conv with a float32 weight of ≥ ${minElements} elements to quantize`);

  // Weights: every initializer over 1 KiB goes to one external file, 64-byte aligned.
  const dataName = 'model.onnx_data';
  const fh = await open(path.join(path.dirname(dst), dataName), 'w');
  let offset = 0;
  const kept: TensorProto[] = [];
  try {
    for (const t of [...(graph.initializer ?? []).filter((t) => !dropped.has(t.name ?? '')), ...added]) {
      const bytes = await tensorBytes(t, srcDir);
      const copy: TensorProto = { name: t.name ?? null, dims: t.dims ?? [], dataType: t.dataType ?? null };
      if (bytes.length >= 1024) {
        const pad = (64 - (offset % 64)) % 64;
        if (pad) await fh.write(new Uint8Array(pad), 0, pad, offset);
        offset += pad;
        await fh.write(bytes, 0, bytes.length, offset);
        copy.dataLocation = EXTERNAL;
        copy.externalData = [
          { key: 'location', value: dataName },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(bytes.length) },
        ];
        offset += bytes.length;
      } else {
        copy.rawData = bytes;
      }
      kept.push(copy);
    }
  } finally {
    await fh.close();
  }
  graph.initializer = kept;
  graph.node = weightsFirst(nodes, new Set(graph.initializer.map((t) => t.name ?? '')));
  // DynamicQuantizeLinear needs opset 11.
  for (const o of model.opsetImport ?? []) if ((o.domain ?? '') === '' && Number(o.version) < 11) o.version = 11;
  await writeFile(dst, onnx.ModelProto.encode(model).finish());
  return report;
}

/** The graphs whose weights are worth int8: the UNet (most of the compute) and the text encoder(s). */
const QUANTIZED_PARTS = ['unet', 'text_encoder', 'text_encoder_2'];

export interface ModelQuantizeReport {
  parts: Record<string, QuantizeReport>;
}

/**
 * Writes an int8 copy of a diffusers-ONNX model folder into `dst`: the UNet and text encoder(s) quantized,
 * everything else (VAE, tokenizer, scheduler, configs, the pull manifest so registry defaults carry over)
 * copied. Written into `<dst>.tmp` and renamed, so a crash never leaves half a model under the name.
 */
export async function quantizeModel(src: string, dst: string, opts: QuantizeOptions & { source?: string } = {}): Promise<ModelQuantizeReport> {
  const tmp = `${dst}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const parts: Record<string, QuantizeReport> = {};
  try {
    for (const entry of await readdir(src, { withFileTypes: true })) {
      if (entry.name === '.ort-cache') continue; // optimized graphs of the fp32 model
      const from = path.join(src, entry.name);
      const to = path.join(tmp, entry.name);
      if (entry.isDirectory() && QUANTIZED_PARTS.includes(entry.name)) {
        await mkdir(to);
        for (const f of await readdir(from)) {
          if (f === 'model.onnx' || f.startsWith('.') || /\.(onnx_data|pb|data)$/.test(f)) continue; // rewritten below
          await cp(path.join(from, f), path.join(to, f));
        }
        parts[entry.name] = await quantizeGraphFile(path.join(from, 'model.onnx'), path.join(to, 'model.onnx'), opts);
      } else {
        await cp(from, to, { recursive: true });
      }
    }
    if (!parts.unet) throw new EngineError(`${src} has no unet/model.onnx to quantize`);
    await writeFile(path.join(tmp, 'mengtu-quantized.json'), `${JSON.stringify({ from: path.resolve(src), ...(opts.source ? { source: opts.source } : {}), int8: true, parts }, null, 2)}\n`);
    await rm(dst, { recursive: true, force: true });
    await cp(tmp, dst, { recursive: true });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { parts };
}

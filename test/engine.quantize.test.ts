import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pkg from 'onnx-proto';
import { createRng } from '../src/engine/rng.js';
import { quantizeColumns, quantizeModel } from '../src/engine/quantize.js';
import { resolveModel } from '../src/engine/registry.js';
import { loadEngine } from '../src/engine/sampler.js';
import { buildTinyModel } from '../src/engine/tiny/build.js';
import { psnr } from '../src/pipeline/sr/psnr.js';

const { onnx } = pkg;

let root: string;
let fp32: string;

async function ops(file: string): Promise<string[]> {
  const m = onnx.ModelProto.decode(await readFile(file));
  return (m.graph?.node ?? []).map((n) => n.opType ?? '');
}

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mengtu-quant-'));
  fp32 = path.join(root, 'models', 'tiny-fp32');
  await mkdir(path.dirname(fp32), { recursive: true });
  // The SD-architecture graphs: MatMuls in attention/MLP and the text encoder, Convs in the ResNet blocks.
  await buildTinyModel(fp32, { mini: { width: 0.5, textHidden: 64, textLayers: 2, externalUnetData: true } });
});
after(async () => rm(root, { recursive: true, force: true }));

describe('quantizeColumns', () => {
  it('is symmetric per column: each column\'s largest |w| maps to ±127, and dequantizes within half a step', () => {
    const K = 16;
    const N = 5;
    const w = createRng(1).normal(K * N);
    for (let k = 0; k < K; k++) w[k * N + 2] = w[k * N + 2]! * 100; // one much wider column
    const { q, scales } = quantizeColumns(w, K, N);
    for (let n = 0; n < N; n++) {
      let maxQ = 0;
      for (let k = 0; k < K; k++) {
        maxQ = Math.max(maxQ, Math.abs(q[k * N + n]!));
        assert.ok(Math.abs(q[k * N + n]! * scales[n]! - w[k * N + n]!) <= scales[n]! / 2 + 1e-6);
      }
      assert.equal(maxQ, 127);
    }
    assert.ok(scales[2]! > 50 * scales[0]!, 'scales are per column');
    assert.equal(Math.max(...quantizeColumns(w, K, N, true).q.map(Math.abs)), 63);
  });
});

describe('quantizeModel', () => {
  it('writes an int8 UNet and text encoder with standard operators; the picture from the same noise stays close', async () => {
    const int8 = path.join(root, 'models', 'tiny-int8');
    const report = await quantizeModel(fp32, int8, { source: 'tiny', convs: 'integer' });
    assert.ok(report.parts.unet!.quantized > 10);
    assert.ok(report.parts.text_encoder!.quantized > 4);
    assert.ok(report.parts.unet!.int8Bytes < report.parts.unet!.floatBytes / 3.5);
    const unetOps = await ops(path.join(int8, 'unet', 'model.onnx'));
    assert.ok(unetOps.includes('MatMulInteger') && unetOps.includes('ConvInteger') && unetOps.includes('DynamicQuantizeLinear'));
    assert.ok(!unetOps.includes('Conv'));
    // MatMuls left are attention's activation × activation products: none has a weight operand.
    const g = onnx.ModelProto.decode(await readFile(path.join(int8, 'unet', 'model.onnx'))).graph!;
    const weights = new Set((g.initializer ?? []).map((t) => t.name));
    const floatWeightMatMuls = (g.node ?? []).filter((n) => n.opType === 'MatMul' && weights.has(n.input![1]!));
    assert.deepEqual(floatWeightMatMuls, []);
    const size = async (d: string): Promise<number> => (await stat(path.join(d, 'unet', 'model.onnx_data'))).size;
    assert.ok((await size(int8)) < (await size(fp32)) / 3, 'UNet weights on disk about a quarter');
    // The VAE and tokenizer are copied unchanged.
    assert.deepEqual(await readFile(path.join(int8, 'vae_decoder', 'model.onnx')), await readFile(path.join(fp32, 'vae_decoder', 'model.onnx')));

    const a = await loadEngine(fp32, { threads: 1, graphCache: false });
    const b = await loadEngine(int8, { threads: 1, graphCache: false });
    try {
      const req = { prompt: 'a lighthouse on a cliff', width: 64, height: 64, seed: 3, steps: 2, guidanceScale: 4 };
      const x = await a.generate(req);
      const y = await b.generate(req);
      const db = psnr(x.image, y.image);
      assert.ok(db > 35, `PSNR int8 vs fp32 ${db.toFixed(1)} dB`);
      assert.ok(db < 200, 'and it really is a different model');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('by default Conv weights are int8 at rest, expanded by DequantizeLinear per output channel before a float Conv', async () => {
    const dst = path.join(root, 'models', 'tiny-dq');
    const r = await quantizeModel(fp32, dst);
    const g = onnx.ModelProto.decode(await readFile(path.join(dst, 'unet', 'model.onnx'))).graph!;
    const inits = new Map((g.initializer ?? []).map((t) => [t.name!, t]));
    const nodes = g.node ?? [];
    const convs = nodes.filter((n) => n.opType === 'Conv');
    assert.ok(convs.length > 5 && !nodes.some((n) => n.opType === 'ConvInteger'));
    const dqs = new Map(nodes.filter((n) => n.opType === 'DequantizeLinear').map((n) => [n.output![0]!, n]));
    for (const c of convs) {
      const dq = dqs.get(c.input![1]!);
      assert.ok(dq, `${c.name}: its weight comes from a DequantizeLinear`);
      const [q, scale, zero] = dq.input!.map((i) => inits.get(i)!);
      assert.equal(q!.dataType, onnx.TensorProto.DataType.INT8);
      assert.equal(zero!.dataType, onnx.TensorProto.DataType.INT8);
      assert.deepEqual(scale!.dims!.map(Number), [Number(q!.dims![0])], 'one scale per output channel');
      assert.equal(Number(dq.attribute!.find((a) => a.name === 'axis')!.i), 0);
    }
    // No float 4-D weight is left, and the weights' DequantizeLinear nodes come first (onnxruntime's order).
    assert.deepEqual([...inits.values()].filter((t) => t.dims?.length === 4 && t.dataType === onnx.TensorProto.DataType.FLOAT).map((t) => t.name), []);
    assert.ok(nodes.slice(0, dqs.size).every((n) => n.opType === 'DequantizeLinear'));
    assert.ok(r.parts.unet!.int8Bytes < r.parts.unet!.floatBytes / 3.5);

    // onnxruntime keeps the weights int8: its optimized graph (the graph cache) still dequantizes them.
    const cache = path.join(root, 'dq-cache');
    const a = await loadEngine(fp32, { threads: 1, graphCache: false });
    const b = await loadEngine(dst, { threads: 1, graphCache: cache });
    try {
      const entry = (await readdir(cache)).find((e) => e.startsWith('unet-'))!;
      const saved = onnx.ModelProto.decode(await readFile(path.join(cache, entry, 'model.onnx'))).graph!;
      const savedNodes = saved.node ?? [];
      const savedDq = savedNodes.filter((n) => n.opType === 'DequantizeLinear');
      assert.equal(savedDq.length, convs.length, 'not constant-folded back to float');
      assert.ok(savedNodes.slice(0, savedDq.length).every((n) => n.opType === 'DequantizeLinear'), 'reordered for the next load');
      const req = { prompt: 'a lighthouse on a cliff', width: 64, height: 64, seed: 3, steps: 2, guidanceScale: 4 };
      const x = await a.generate(req);
      const y = await b.generate(req);
      const db = psnr(x.image, y.image);
      assert.ok(db > 40 && db < 200, `PSNR int8 (Conv dequantize) vs fp32 ${db.toFixed(1)} dB`);
      await b.close();
      // From the cache, the same picture.
      const c = await loadEngine(dst, { threads: 1, graphCache: cache });
      try {
        assert.deepEqual((await c.generate(req)).image.data, y.image.data);
      } finally {
        await c.close();
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("convs: 'float' quantizes only MatMul/Gemm weights", async () => {
    const dst = path.join(root, 'matmul-only');
    const r = await quantizeModel(fp32, dst, { convs: 'float' });
    const unetOps = await ops(path.join(dst, 'unet', 'model.onnx'));
    assert.ok(unetOps.includes('MatMulInteger') && unetOps.includes('Conv') && !unetOps.includes('ConvInteger') && !unetOps.includes('DequantizeLinear'));
    assert.ok(r.parts.unet!.quantized > 0);
  });

  it('the copy is selectable by its bare name under the models folder, with the source\'s defaults', async () => {
    const env = { MENGTU_HOME: root };
    const m = await resolveModel('tiny-int8', { env, pull: false });
    assert.equal(m.dir, path.join(root, 'models', 'tiny-int8'));
    assert.equal(m.defaults.steps, 4, 'the tiny registry entry\'s defaults');
  });
});

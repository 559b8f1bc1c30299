import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { RawImage } from '../src/engine/types.js';
import {
  SR_STRENGTH,
  SuperResolutionError,
  buildTinySrGraph,
  createSuperResolver,
  resizeRaw,
  upscaleSeparable,
  type SuperResolver,
} from '../src/pipeline/sr/index.js';
import { convertLayersModel, esrganSlimX2Dir } from '../src/pipeline/sr/keras-to-onnx.js';
import { loadOnnxUpscaler } from '../src/pipeline/sr/onnx-upscaler.js';
import { psnr } from '../src/pipeline/sr/psnr.js';
import { startSuperResolverThread } from '../src/pipeline/offload/sr-thread.js';
import { renderReferenceImage } from '../src/pipeline/sr/reference-image.js';

function noiseImage(w: number, h: number, seed: number): RawImage {
  const data = new Uint8ClampedArray(w * h * 4);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = i % 4 === 3 ? 255 : s >>> 24;
  }
  return { width: w, height: h, data };
}

function maxAbsDiff(a: RawImage, b: RawImage): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

describe('super-resolution', () => {
  let dir: string;
  let modelDir: string;
  const closers: SuperResolver[] = [];

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mengtu-sr-'));
    modelDir = path.join(dir, 'models', 'tiny-sr');
    mkdirSync(modelDir, { recursive: true });
    writeFileSync(path.join(modelDir, 'model.onnx'), buildTinySrGraph());
  });
  after(async () => {
    for (const c of closers) await c.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports the contract sr_strength echo', () => {
    assert.equal(SR_STRENGTH, 0.4);
  });

  it('loads a user ONNX model from a directory, reads its names, and delivers exactly 2×', async () => {
    const sr = await createSuperResolver({ modelDir, tile: 32 });
    closers.push(sr);
    assert.equal(sr.method, 'onnx:tiny-sr');
    assert.match(sr.status, /model\.onnx.*input 'lr'/);
    const out = await sr.upscale(noiseImage(77, 45, 1), 2);
    assert.equal(out.width, 154);
    assert.equal(out.height, 90);
    assert.equal(out.data.length, 154 * 90 * 4);
  });

  it('tiled output equals untiled output (no seams)', async () => {
    const img = noiseImage(100, 70, 3);
    const graph = buildTinySrGraph();
    const whole = await loadOnnxUpscaler(graph, { tile: 1000, overlap: 0 });
    const tiled = await loadOnnxUpscaler(graph, { tile: 24, overlap: 4 });
    const noOverlap = await loadOnnxUpscaler(graph, { tile: 24, overlap: 0 });
    const a = await whole.upscale(img, 2);
    const b = await tiled.upscale(img, 2);
    const c = await noOverlap.upscale(img, 2);
    assert.ok(maxAbsDiff(a, b) <= 1, `tiled differs by ${maxAbsDiff(a, b)}`);
    // Without overlap the tile borders lose context: the comparison above is not trivially true.
    assert.ok(maxAbsDiff(a, c) > 1, 'seams should show without overlap');
    for (const u of [whole, tiled, noOverlap]) await u.close();
  });

  it('fixed-input graphs are fed padded tiles of their declared size', async () => {
    const img = noiseImage(77, 45, 5);
    const fixed = await loadOnnxUpscaler(buildTinySrGraph(7, 40), { tile: 128, overlap: 4 });
    assert.deepEqual(fixed.fixedInput, { w: 40, h: 40 });
    const dynamic = await loadOnnxUpscaler(buildTinySrGraph(7), { tile: 1000, overlap: 0 });
    const a = await fixed.upscale(img, 2);
    const b = await dynamic.upscale(img, 2);
    assert.equal(a.width, 154);
    assert.equal(a.height, 90);
    // Inside a 2-px frame (where edge replication vs zero padding of the conv differ) the results agree.
    let maxd = 0;
    for (let y = 2; y < 88; y++) {
      for (let x = 2; x < 152; x++) {
        for (let c = 0; c < 3; c++) maxd = Math.max(maxd, Math.abs(a.data[(y * 154 + x) * 4 + c]! - b.data[(y * 154 + x) * 4 + c]!));
      }
    }
    assert.ok(maxd <= 1, `fixed-size tiling differs by ${maxd}`);
    await fixed.close();
    await dynamic.close();
  });

  it('the built-in ESRGAN-slim conversion matches the TF.js model it was converted from', async () => {
    const mdir = esrganSlimX2Dir();
    assert.ok(mdir, '@upscalerjs/esrgan-slim must be installed');
    const json = JSON.parse(readFileSync(path.join(mdir, 'model.json'), 'utf8'));
    const bin = readFileSync(path.join(mdir, json.weightsManifest[0].paths[0]));
    await tf.setBackend('cpu');
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
      }),
    );
    const img = noiseImage(36, 20, 9);
    const nhwc = new Float32Array(36 * 20 * 3);
    for (let p = 0; p < 36 * 20; p++) for (let c = 0; c < 3; c++) nhwc[p * 3 + c] = img.data[p * 4 + c]!;
    const out = model.predict(tf.tensor4d(nhwc, [1, 20, 36, 3])) as tf.Tensor;
    assert.deepEqual(out.shape, [1, 40, 72, 3]);
    const ref = await out.data();
    const u = await loadOnnxUpscaler(convertLayersModel(mdir), { tile: 16, overlap: 12 });
    const mine = await u.upscale(img, 2);
    await u.close();
    let maxd = 0;
    for (let p = 0; p < 40 * 72; p++) {
      for (let c = 0; c < 3; c++) {
        const t = Math.min(255, Math.max(0, Math.round(ref[p * 3 + c]!)));
        maxd = Math.max(maxd, Math.abs(t - mine.data[p * 4 + c]!));
      }
    }
    assert.ok(maxd <= 1, `ONNX conversion differs from TF.js by ${maxd}`);
  });

  it('mode lanczos never loads a model; mode model fails loudly without one', async () => {
    const l = await createSuperResolver({ mode: 'lanczos', modelDir });
    assert.equal(l.method, 'lanczos');
    assert.match(l.status, /Lanczos/);
    await assert.rejects(
      createSuperResolver({ mode: 'model', modelDir: path.join(dir, 'nope'), builtin: false }),
      SuperResolutionError,
    );
    const fallback = await createSuperResolver({ modelDir: path.join(dir, 'nope'), builtin: false });
    assert.equal(fallback.method, 'lanczos');
    assert.match(fallback.status, /no SR model available.*not found.*falling back/);
  });

  it('on its own worker thread (as the server runs it): the same pixels as in-process for every method, the input left whole', async () => {
    const img = noiseImage(72, 40, 11);
    const copy = img.data.slice();
    for (const options of [{}, { modelDir, tile: 32 }, { mode: 'lanczos' as const }]) {
      const local = await createSuperResolver(options);
      const threaded = await startSuperResolverThread(options);
      closers.push(local, threaded);
      assert.equal(threaded.method, local.method);
      assert.equal(threaded.status, local.status);
      const a = await local.upscale(img, 2);
      const b = await threaded.upscale(img, 2);
      assert.deepEqual([b.width, b.height], [a.width, a.height]);
      assert.equal(maxAbsDiff(a, b), 0, `${local.method}: thread and in-process differ`);
      assert.equal(threaded.completed, 1, 'upscaled on the thread');
      assert.deepEqual(img.data, copy, 'the caller keeps its image');
    }
    await assert.rejects(startSuperResolverThread({ mode: 'model', modelDir: path.join(dir, 'nope'), builtin: false }), /no super-resolution model available/);
  });

  it('PSNR against a downscaled reference: learned ≥ bilinear, lanczos ≈≥ bilinear, all ≥ nearest', async () => {
    const ref = renderReferenceImage(512);
    const small = await resizeRaw(ref, 256, 256, 'lanczos3');
    const score: Record<string, number> = {};
    score.nearest = psnr(ref, upscaleSeparable(small, 2, 'nearest'));
    score.bilinear = psnr(ref, upscaleSeparable(small, 2, 'bilinear'));
    const esr = await createSuperResolver();
    closers.push(esr);
    assert.equal(esr.method, 'esrgan-slim');
    const lz = await createSuperResolver({ mode: 'lanczos' });
    const tiny = await createSuperResolver({ modelDir, tile: 64 });
    closers.push(tiny);
    for (const sr of [esr, lz, tiny]) {
      const up = await sr.upscale(small, 2);
      assert.equal(up.width, 512);
      assert.equal(up.height, 512);
      score[sr.method] = psnr(ref, up);
    }
    console.log('PSNR dB (512 reference, 256 → 512):', JSON.stringify(score, (_, v: number) => (typeof v === 'number' ? Number(v.toFixed(2)) : v)));
    for (const [k, v] of Object.entries(score)) assert.ok(v >= score.nearest! - 1e-9, `${k} below nearest`);
    assert.ok(score['esrgan-slim']! > score.bilinear!, 'the learned model should beat bilinear');
    assert.ok(score.lanczos! >= score.bilinear! - 0.25, 'lanczos should not fall behind bilinear');
    // The tiny test graph is bilinear plus a small learned-style residual: close to bilinear, above nearest.
    assert.ok(Math.abs(score['onnx:tiny-sr']! - score.bilinear!) < 3);
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { floatsToHalf, halfToFloats } from '../src/engine/fp16.js';
import { loadEngine } from '../src/engine/sampler.js';
import { buildTinyModel, ensureTinyModel } from '../src/engine/tiny/build.js';

let root: string;
let fp32Dir: string;
let fp16Dir: string;

function meta(s: ort.InferenceSession, which: 'in' | 'out'): Array<[string, string, Array<number | string>]> {
  const list = which === 'in' ? s.inputMetadata : s.outputMetadata;
  return list.map((m) => (m.isTensor ? [m.name, m.type, [...m.shape]] : [m.name, 'non-tensor', []]));
}

async function session(dir: string, component: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path.join(dir, component, 'model.onnx'), { intraOpNumThreads: 1 });
}

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mengtu-tiny-'));
  process.env.MENGTU_HOME = root;
  fp32Dir = path.join(root, 'fp32');
  fp16Dir = path.join(root, 'fp16');
  await buildTinyModel(fp32Dir);
  await buildTinyModel(fp16Dir, { fp16: true, timestep: 'int64', externalUnetData: true });
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('tiny model files', () => {
  it('has the diffusers ONNX layout', async () => {
    for (const f of [
      'model_index.json',
      'text_encoder/model.onnx',
      'unet/model.onnx',
      'vae_decoder/model.onnx',
      'vae_decoder/config.json',
      'tokenizer/vocab.json',
      'tokenizer/merges.txt',
      'tokenizer/tokenizer_config.json',
      'scheduler/scheduler_config.json',
    ]) {
      assert.ok((await stat(path.join(fp32Dir, f))).size > 0, f);
    }
    const index = JSON.parse(await readFile(path.join(fp32Dir, 'model_index.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(index.unet, ['diffusers', 'OnnxRuntimeModel']);
    assert.deepEqual(index.tokenizer, ['transformers', 'CLIPTokenizer']);
    const sched = JSON.parse(await readFile(path.join(fp32Dir, 'scheduler/scheduler_config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(sched._class_name, 'EulerDiscreteScheduler');
    assert.equal(sched.timestep_spacing, 'trailing');
  });

  it('declares the same graph inputs and outputs as the Stable Diffusion exports', async () => {
    const te = await session(fp32Dir, 'text_encoder');
    assert.deepEqual(meta(te, 'in'), [['input_ids', 'int32', ['batch', 77]]]);
    assert.deepEqual(meta(te, 'out'), [
      ['last_hidden_state', 'float32', ['batch', 77, 32]],
      ['pooler_output', 'float32', ['batch', 32]],
    ]);
    const unet = await session(fp32Dir, 'unet');
    assert.deepEqual(meta(unet, 'in'), [
      ['sample', 'float32', ['batch', 4, 'height', 'width']],
      ['timestep', 'float32', ['batch']],
      ['encoder_hidden_states', 'float32', ['batch', 77, 32]],
    ]);
    assert.deepEqual(meta(unet, 'out'), [['out_sample', 'float32', ['batch', 4, 'height', 'width']]]);
    const vae = await session(fp32Dir, 'vae_decoder');
    assert.deepEqual(meta(vae, 'in'), [['latent_sample', 'float32', ['batch', 4, 'latent_height', 'latent_width']]]);
    assert.deepEqual(meta(vae, 'out'), [['sample', 'float32', ['batch', 3, 'height', 'width']]]);
    await Promise.all([te.release(), unet.release(), vae.release()]);
  });

  it('the fp16 variant has float16 inputs/outputs, an int64 [1] timestep and external UNet weights', async () => {
    const unet = await session(fp16Dir, 'unet');
    assert.deepEqual(meta(unet, 'in'), [
      ['sample', 'float16', ['batch', 4, 'height', 'width']],
      ['timestep', 'int64', [1]],
      ['encoder_hidden_states', 'float16', ['batch', 77, 32]],
    ]);
    assert.ok((await stat(path.join(fp16Dir, 'unet', 'model.onnx_data'))).size > 1000);
    const te = await session(fp16Dir, 'text_encoder');
    assert.equal(meta(te, 'out')[0]![1], 'float16');
    await Promise.all([te.release(), unet.release()]);
  });

  it('is deterministic: building twice gives byte-identical files', async () => {
    const again = path.join(root, 'again');
    await buildTinyModel(again);
    for (const f of ['text_encoder/model.onnx', 'unet/model.onnx', 'vae_decoder/model.onnx', 'tokenizer/vocab.json', 'tokenizer/merges.txt']) {
      assert.deepEqual(await readFile(path.join(again, f)), await readFile(path.join(fp32Dir, f)), f);
    }
  });

  it('builds a CLIP-shaped vocabulary', async () => {
    const vocab = JSON.parse(await readFile(path.join(fp32Dir, 'tokenizer/vocab.json'), 'utf8')) as Record<string, number>;
    const merges = (await readFile(path.join(fp32Dir, 'tokenizer/merges.txt'), 'utf8')).trim().split('\n');
    assert.equal(merges[0], '#version: 0.2');
    const nMerges = merges.length - 1;
    assert.ok(nMerges >= 200, `${nMerges} merges`);
    assert.equal(Object.keys(vocab).length, 512 + nMerges + 2);
    assert.equal(vocab['!'], 0);
    assert.equal(vocab['!</w>'], 256);
    assert.equal(vocab['<|endoftext|>'], 512 + nMerges + 1);
    assert.equal(vocab['<|startoftext|>'], 512 + nMerges);
  });
});

describe('tiny graphs compute from their inputs', () => {
  it('text encoder output depends on the token ids', async () => {
    const te = await session(fp32Dir, 'text_encoder');
    const ids = (fill: number): ort.Tensor => new ort.Tensor('int32', new Int32Array(77).fill(fill), [1, 77]);
    const a = (await te.run({ input_ids: ids(5) })).last_hidden_state!.data as Float32Array;
    const b = (await te.run({ input_ids: ids(6) })).last_hidden_state!.data as Float32Array;
    assert.notDeepEqual(Array.from(a), Array.from(b));
    await te.release();
  });

  it('UNet output depends on the timestep and on the text conditioning', async () => {
    const unet = await session(fp32Dir, 'unet');
    const sample = new ort.Tensor('float32', new Float32Array(2 * 4 * 8 * 8).map((_, i) => Math.sin(i)), [2, 4, 8, 8]);
    const ehs = (v: number): ort.Tensor => new ort.Tensor('float32', new Float32Array(2 * 77 * 32).fill(v), [2, 77, 32]);
    const ts = (v: number): ort.Tensor => new ort.Tensor('float32', new Float32Array([v, v]), [2]);
    const run = async (t: number, e: number): Promise<number[]> =>
      Array.from((await unet.run({ sample, timestep: ts(t), encoder_hidden_states: ehs(e) })).out_sample!.data as Float32Array);
    const base = await run(999, 0.1);
    assert.equal(base.length, 2 * 4 * 8 * 8);
    assert.notDeepEqual(await run(500, 0.1), base);
    assert.notDeepEqual(await run(999, -0.1), base);
    await unet.release();
  });

  it('VAE decoder upsamples ×8 to 3 channels in [-1, 1]', async () => {
    const vae = await session(fp32Dir, 'vae_decoder');
    const z = new ort.Tensor('float32', new Float32Array(4 * 5 * 7).map((_, i) => Math.cos(i) * 3), [1, 4, 5, 7]);
    const out = (await vae.run({ latent_sample: z })).sample!;
    assert.deepEqual(out.dims, [1, 3, 40, 56]);
    const d = out.data as Float32Array;
    assert.ok(d.every((v) => v >= -1 && v <= 1));
    assert.ok(new Set(d).size > 100, 'output varies with the latents');
    await vae.release();
  });

  it('fp16 graphs run on float16 tensors and agree with the fp32 graphs', async () => {
    const v32 = await session(fp32Dir, 'vae_decoder');
    const v16 = await session(fp16Dir, 'vae_decoder');
    const z = new Float32Array(4 * 3 * 3).map((_, i) => Math.cos(i));
    const a = (await v32.run({ latent_sample: new ort.Tensor('float32', z, [1, 4, 3, 3]) })).sample!.data as Float32Array;
    const out16 = (await v16.run({ latent_sample: new ort.Tensor('float16', floatsToHalf(z), [1, 4, 3, 3]) })).sample!;
    assert.equal(out16.type, 'float16');
    const b = halfToFloats(out16.data as Uint16Array);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    assert.ok(maxDiff < 2e-3, `max diff ${maxDiff}`);
    await Promise.all([v32.release(), v16.release()]);
  });
});

describe('ensureTinyModel', () => {
  it('builds under MENGTU_HOME/models/tiny once, atomically, and reuses it', async () => {
    const dir = await ensureTinyModel();
    assert.equal(dir, path.join(root, 'models', 'tiny'));
    const first = (await stat(path.join(dir, 'unet', 'model.onnx'))).mtimeMs;
    assert.equal(await ensureTinyModel(), dir);
    assert.equal((await stat(path.join(dir, 'unet', 'model.onnx'))).mtimeMs, first);
    const leftovers = (await readdir(path.join(root, 'models'))).filter((n) => n !== 'tiny');
    assert.deepEqual(leftovers, [], 'no temp build dirs left behind');
  });

  it('rebuilds a copy left by an older version', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'mengtu-tiny-old-'));
    try {
      const env = { ...process.env, MENGTU_HOME: home };
      const dir = await ensureTinyModel(env);
      await writeFile(path.join(dir, 'mengtu-tiny.json'), JSON.stringify({ version: 0 }));
      await writeFile(path.join(dir, 'unet', 'model.onnx'), 'stale');
      assert.equal(await ensureTinyModel(env), dir);
      assert.deepEqual(await readFile(path.join(dir, 'unet', 'model.onnx')), await readFile(path.join(root, 'models', 'tiny', 'unet', 'model.onnx')));
      assert.deepEqual((await readdir(path.join(home, 'models'))).sort(), ['tiny']);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('concurrent first calls both get a complete model', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'mengtu-tiny-race-'));
    try {
      const env = { ...process.env, MENGTU_HOME: home };
      const [a, b] = await Promise.all([ensureTinyModel(env), ensureTinyModel(env)]);
      assert.equal(a, b);
      assert.ok((await stat(path.join(a, 'model_index.json'))).isFile());
      assert.deepEqual((await readdir(path.join(home, 'models'))).sort(), ['tiny']);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('mini (SD-architecture) model', () => {
  it('has the SD signatures, runs through the engine, and its blocks respond to text and seed', async () => {
    const dir = path.join(root, 'mini');
    await buildTinyModel(dir, { mini: { width: 0.5, textHidden: 64, textLayers: 1, externalUnetData: true } });
    const unet = await session(dir, 'unet');
    assert.deepEqual(meta(unet, 'in'), [
      ['sample', 'float32', ['batch', 4, 'height', 'width']],
      ['timestep', 'float32', ['batch']],
      ['encoder_hidden_states', 'float32', ['batch', 77, 64]],
    ]);
    const ops = new Set((await readFile(path.join(dir, 'unet', 'model.onnx'))).toString('latin1').match(/InstanceNormalization|Softmax|LayerNormalization|Conv/g));
    assert.deepEqual([...ops].sort(), ['Conv', 'InstanceNormalization', 'LayerNormalization', 'Softmax']);
    await unet.release();
    const engine = await loadEngine(dir, { threads: 1, graphCache: false });
    try {
      const req = { prompt: 'a cat', width: 64, height: 64, seed: 1, steps: 2, guidanceScale: 0 };
      const a = await engine.generate(req);
      const b = await engine.generate({ ...req, prompt: 'a red car on a bridge' });
      const c = await engine.generate({ ...req, seed: 2 });
      assert.ok(new Set(a.image.data).size > 20, 'not flat');
      assert.notDeepEqual(a.image.data, b.image.data);
      assert.notDeepEqual(a.image.data, c.image.data);
    } finally {
      await engine.close();
    }
  });
});

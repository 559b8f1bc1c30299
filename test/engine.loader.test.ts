import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EngineError } from '../src/contract/errors.js';
import { cudaAvailability } from '../src/engine/execution-provider.js';
import { fromHalfBits, halfToFloats, toHalfBits } from '../src/engine/fp16.js';
import { locateModel } from '../src/engine/model-files.js';
import { OnnxGraph } from '../src/engine/onnx-session.js';
import { DiffusionEngine, loadEngine } from '../src/engine/sampler.js';
import { buildTinyModel, ensureTinyModel } from '../src/engine/tiny/build.js';

let root: string;
let tiny: string;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mengtu-loader-'));
  process.env.MENGTU_HOME = root;
  tiny = await ensureTinyModel();
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh copy of the tiny model to break. */
async function copyModel(name: string): Promise<string> {
  const dir = path.join(root, name);
  await cp(tiny, dir, { recursive: true });
  return dir;
}

function engineErrorNaming(file: string): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof EngineError, `expected EngineError, got ${String(err)}`);
    assert.ok(err.message.includes(file), `"${err.message}" should name ${file}`);
    assert.equal(err.code, 50501);
    return true;
  };
}

describe('model files', () => {
  it('locates the three graphs, tokenizer and configs', async () => {
    const f = await locateModel(tiny);
    assert.equal(f.unet, path.join(tiny, 'unet', 'model.onnx'));
    assert.equal(f.vaeScalingFactor, 0.18215);
    assert.equal(f.schedulerConfig._class_name, 'EulerDiscreteScheduler');
  });

  it('reads graph inputs and dtypes from the session', async () => {
    const g = await OnnxGraph.load(path.join(tiny, 'unet', 'model.onnx'), { executionProvider: 'cpu', intraOpNumThreads: 1 });
    assert.deepEqual([...g.inputs.keys()], ['sample', 'timestep', 'encoder_hidden_states']);
    assert.equal(g.input('timestep').type, 'float32');
    assert.throws(() => g.input('nope'), EngineError);
    await g.release();
  });

  it('missing model_index.json → EngineError naming it', async () => {
    const dir = await copyModel('no-index');
    await rm(path.join(dir, 'model_index.json'));
    await assert.rejects(loadEngine(dir), engineErrorNaming(path.join(dir, 'model_index.json')));
  });

  it('missing unet/model.onnx → EngineError naming it', async () => {
    const dir = await copyModel('no-unet');
    await rm(path.join(dir, 'unet', 'model.onnx'));
    await assert.rejects(loadEngine(dir, { threads: 1 }), engineErrorNaming(path.join(dir, 'unet', 'model.onnx')));
  });

  it('missing external weights (model.onnx_data) → EngineError naming that file', async () => {
    const dir = await copyModel('no-data');
    await rm(path.join(dir, 'unet', 'model.onnx_data'));
    await assert.rejects(loadEngine(dir, { threads: 1 }), engineErrorNaming(path.join(dir, 'unet', 'model.onnx_data')));
  });

  it('corrupt graph → EngineError naming the file', async () => {
    const dir = await copyModel('corrupt');
    const file = path.join(dir, 'vae_decoder', 'model.onnx');
    await writeFile(file, Buffer.from('this is not a protobuf, just some text that went wrong'));
    await assert.rejects(loadEngine(dir, { threads: 1 }), engineErrorNaming(file));
  });

  it('truncated graph → EngineError naming the file', async () => {
    const dir = await copyModel('truncated');
    const file = path.join(dir, 'text_encoder', 'model.onnx');
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await assert.rejects(loadEngine(dir, { threads: 1 }), engineErrorNaming(file));
  });

  it('missing tokenizer vocab → EngineError naming it', async () => {
    const dir = await copyModel('no-vocab');
    await rm(path.join(dir, 'tokenizer', 'vocab.json'));
    await assert.rejects(loadEngine(dir), engineErrorNaming(path.join(dir, 'tokenizer', 'vocab.json')));
  });

  it('a graph without the inputs the sampler feeds is refused at load time', async () => {
    const dir = await copyModel('swapped');
    // The VAE where the UNet should be: loads fine, but has no `sample`/`timestep` inputs.
    await rm(path.join(dir, 'unet'), { recursive: true });
    await cp(path.join(dir, 'vae_decoder'), path.join(dir, 'unet'), { recursive: true });
    await assert.rejects(loadEngine(dir, { threads: 1 }), engineErrorNaming(path.join(dir, 'unet', 'model.onnx')));
  });
});

describe('execution providers', () => {
  it('asking for CUDA where it is not installed is a clear EngineError', async (t) => {
    if (cudaAvailability().available) {
      t.skip('this machine has the CUDA provider');
      return;
    }
    await assert.rejects(loadEngine(tiny, { executionProvider: 'cuda' }), (err: unknown) => {
      assert.ok(err instanceof EngineError);
      assert.match(err.message, /CUDA execution provider is unavailable/);
      assert.match(err.message, /onnxruntime-node-install=cuda12/);
      assert.match(err.message, /'cpu'/);
      return true;
    });
  });

  it('CPU with a configured thread count loads and runs', async () => {
    const engine = await loadEngine(tiny, { threads: 1, executionProvider: 'cpu', defaults: { steps: 1, guidanceScale: 0 } });
    const out = await engine.generate({ prompt: 'cat', width: 16, height: 16, seed: 1 });
    assert.equal(out.image.data.length, 16 * 16 * 4);
    await engine.close();
  });
});

describe('fp16 conversion', () => {
  it('converts known values', () => {
    assert.equal(toHalfBits(1), 0x3c00);
    assert.equal(toHalfBits(-2), 0xc000);
    assert.equal(toHalfBits(65504), 0x7bff);
    assert.equal(toHalfBits(1e6), 0x7c00);
    assert.equal(toHalfBits(0.1), 0x2e66);
    assert.equal(toHalfBits(2 ** -24), 0x0001);
    assert.equal(toHalfBits(1e-9), 0);
    assert.ok(Number.isNaN(fromHalfBits(toHalfBits(NaN))));
    assert.equal(fromHalfBits(0x3555), 0.333251953125);
  });

  it('round-trips within half precision', () => {
    for (let i = -2000; i <= 2000; i++) {
      const v = i / 97;
      const back = fromHalfBits(toHalfBits(v));
      assert.ok(Math.abs(back - v) <= Math.abs(v) * 2 ** -11 + 2 ** -25, `${v} → ${back}`);
    }
    assert.deepEqual(Array.from(halfToFloats(new Uint16Array([0x3c00, 0xbc00]))), [1, -1]);
  });
});

describe('optimized-graph cache', () => {
  it('the first load writes each optimized graph, the next loads them from the cache, and the pictures match', async () => {
    const dir = path.join(root, 'cached');
    await buildTinyModel(dir, { externalUnetData: true });
    const cache = path.join(root, 'graph-cache');
    const first = (await loadEngine(dir, { threads: 1, graphCache: cache })) as DiffusionEngine;
    const entries = (await readdir(cache)).sort();
    assert.deepEqual(entries.map((e) => e.replace(/-[0-9a-f]{16}$/, '')), ['text_encoder', 'unet', 'vae_decoder']);
    for (const e of entries) assert.ok((await stat(path.join(cache, e, 'model.onnx'))).size > 0);
    const second = (await loadEngine(dir, { threads: 1, graphCache: cache })) as DiffusionEngine;
    const plain = (await loadEngine(dir, { threads: 1, graphCache: false })) as DiffusionEngine;
    try {
      assert.deepEqual([first.unet.source, second.textEncoder.source, second.unet.source, second.vae.source], ['file', 'cache', 'cache', 'cache']);
      assert.equal(plain.unet.source, 'file');
      const req = { prompt: 'a cat', width: 64, height: 64, seed: 9, steps: 2, guidanceScale: 5 };
      const [a, b, c] = await Promise.all([first.generate(req), second.generate(req), plain.generate(req)]);
      assert.deepEqual(b.image.data, a.image.data);
      assert.deepEqual(c.image.data, a.image.data);
    } finally {
      await Promise.all([first.close(), second.close(), plain.close()]);
    }
  });

  it('a changed graph gets a new entry; a damaged entry is rebuilt; an unusable cache folder is skipped', async () => {
    const dir = path.join(root, 'cached2');
    await buildTinyModel(dir);
    const cache = path.join(root, 'graph-cache2');
    await (await loadEngine(dir, { threads: 1, graphCache: cache })).close();
    const unetEntry = (await readdir(cache)).find((e) => e.startsWith('unet-'))!;
    await writeFile(path.join(cache, unetEntry, 'model.onnx'), 'garbage');
    const again = (await loadEngine(dir, { threads: 1, graphCache: cache })) as DiffusionEngine;
    assert.equal(again.unet.source, 'file', 'the damaged entry was not used');
    await again.close();
    const third = (await loadEngine(dir, { threads: 1, graphCache: cache })) as DiffusionEngine;
    assert.equal(third.unet.source, 'cache', 'and was rebuilt');
    await third.close();
    // A different UNet (other weights) must not hit the old entry.
    await buildTinyModel(dir, { unetChannels: 8 });
    const changed = (await loadEngine(dir, { threads: 1, graphCache: cache })) as DiffusionEngine;
    assert.equal(changed.unet.source, 'file');
    await changed.close();
    // A file where the cache folder should be: loads without the cache.
    const blocked = path.join(root, 'not-a-dir');
    await writeFile(blocked, 'x');
    const skipped = (await loadEngine(dir, { threads: 1, graphCache: blocked })) as DiffusionEngine;
    assert.equal(skipped.unet.source, 'file');
    await skipped.close();
  });
});

import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EngineError } from '../src/contract/errors.js';
import { cudaAvailability } from '../src/engine/execution-provider.js';
import { fromHalfBits, halfToFloats, toHalfBits } from '../src/engine/fp16.js';
import { locateModel } from '../src/engine/model-files.js';
import { OnnxGraph } from '../src/engine/onnx-session.js';
import { loadEngine } from '../src/engine/sampler.js';
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

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { DiffusionEngine } from '../src/engine/sampler.js';
import { buildSdTurboClassModel, SD_TURBO_CONFIG, sdTurboClassParams, type SdTurboClassConfig } from '../src/engine/tiny/sd-turbo-class.js';

// The same graphs at a fraction of the width: every block, skip and head split of SD 2.1, runnable in a test.
const NARROW: SdTurboClassConfig = {
  unet: { blockOutChannels: [32, 64, 64, 64], layersPerBlock: 2, heads: [1, 2, 2, 2], crossAttentionDim: 64 },
  text: { hidden: 64, layers: 2, heads: 2, intermediate: 256, vocab: 49408, maxPositions: 77 },
  vae: { blockOutChannels: [32, 32, 64, 64], layersPerBlock: 2, latentChannels: 4 },
  groups: 32,
};

let root: string;
let dir: string;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mengtu-sdturbo-'));
  dir = path.join(root, 'narrow');
  await buildSdTurboClassModel(dir, NARROW);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

function signature(s: ort.InferenceSession): Array<[string, string, Array<number | string>]> {
  return [...s.inputMetadata, ...s.outputMetadata].map((m) => (m.isTensor ? [m.name, m.type, [...m.shape]] : [m.name, '?', []]));
}

describe('SD-Turbo-class generator', () => {
  it('counts the parameters of SD 2.1 / SD-Turbo (diffusers: UNet 865 910 724, CLIPTextModel 23 layers 340 387 840)', () => {
    assert.deepEqual(sdTurboClassParams(SD_TURBO_CONFIG), { textEncoder: 340_387_840, unet: 865_910_724, vaeDecoder: 49_490_199, vaeEncoder: 34_163_664 });
  });

  it('writes the optimum layout with the export signatures, UNet weights in external data', async () => {
    const open = (sub: string) => ort.InferenceSession.create(path.join(dir, sub, 'model.onnx'), { intraOpNumThreads: 1 });
    assert.deepEqual(signature(await open('text_encoder')), [
      ['input_ids', 'int32', ['batch_size', 'sequence_length']],
      ['last_hidden_state', 'float32', ['batch_size', 'sequence_length', 64]],
      ['pooler_output', 'float32', ['batch_size', 64]],
    ]);
    assert.deepEqual(signature(await open('unet')), [
      ['sample', 'float32', ['batch_size', 4, 'height', 'width']],
      ['timestep', 'float32', ['steps']],
      ['encoder_hidden_states', 'float32', ['batch_size', 'sequence_length', 64]],
      ['out_sample', 'float32', ['batch_size', 4, 'height', 'width']],
    ]);
    assert.deepEqual(signature(await open('vae_decoder')), [
      ['latent_sample', 'float32', ['batch_size', 4, 'height_latent', 'width_latent']],
      ['sample', 'float32', ['batch_size', 3, 'height', 'width']],
    ]);
    assert.deepEqual(signature(await open('vae_encoder')), [
      ['sample', 'float32', ['batch_size', 3, 'height', 'width']],
      ['latent_parameters', 'float32', ['batch_size', 8, 'height_latent', 'width_latent']],
    ]);
    // Nearly all of the UNet's bytes are in model.onnx_data (4 bytes a parameter).
    const params = sdTurboClassParams(NARROW).unet;
    assert.ok((await stat(path.join(dir, 'unet', 'model.onnx_data'))).size > 0.99 * 4 * params);
    const config = JSON.parse(await readFile(path.join(dir, 'unet', 'config.json'), 'utf8')) as { block_out_channels: number[] };
    assert.deepEqual(config.block_out_channels, NARROW.unet.blockOutChannels);
  });

  it('the text encoder is causal and pools at the end-of-text token', async () => {
    const s = await ort.InferenceSession.create(path.join(dir, 'text_encoder', 'model.onnx'), { intraOpNumThreads: 1 });
    const run = async (ids: number[]) => {
      const out = await s.run({ input_ids: new ort.Tensor('int32', Int32Array.from(ids), [1, ids.length]) });
      return { last: out.last_hidden_state!.data as Float32Array, pooled: out.pooler_output!.data as Float32Array };
    };
    const a = await run([10, 20, 30, 99, 5, 5]);
    const b = await run([10, 20, 30, 99, 7, 8]);
    const d = NARROW.text.hidden;
    // Positions before a change do not see it; the changed ones do.
    assert.deepEqual(a.last.subarray(0, 4 * d), b.last.subarray(0, 4 * d));
    assert.notDeepEqual(a.last.subarray(4 * d), b.last.subarray(4 * d));
    // Pooled = the state at the largest id (99, position 3).
    assert.deepEqual(a.pooled, a.last.slice(3 * d, 4 * d));
  });

  it('generates a finite, non-flat picture through the engine, and image-to-image through its vae_encoder', async () => {
    const engine = await DiffusionEngine.load(dir, { graphCache: false, taesd: null, threads: 1 });
    try {
      const req = { prompt: 'a photo of a cat', width: 64, height: 64, seed: 3, steps: 1, guidanceScale: 0 };
      const out = await engine.generate(req);
      const px = out.image.data;
      const values = new Set<number>();
      for (let i = 0; i < px.length; i += 4) values.add(px[i]!);
      assert.ok(values.size > 20, `red channel has only ${values.size} distinct values`);
      const other = await engine.generate({ ...req, prompt: 'a red house' });
      assert.notDeepEqual(other.image.data, px, 'the prompt reaches the UNet');
      const i2i = await engine.generate({ ...req, steps: 2, init: { image: out.image, strength: 0.5 } });
      assert.equal(i2i.img2img?.stepsRun, 1);
    } finally {
      await engine.close();
    }
  });

  it('lowMemory unloads each graph after its phase (text encoder, UNet, VAE), reloads them for the next request, with the same pictures', async () => {
    const req = { prompt: 'a photo of a cat', width: 64, height: 64, seed: 5, steps: 1, guidanceScale: 0 };
    const cache = path.join(root, 'ort-cache');
    const plain = await DiffusionEngine.load(dir, { graphCache: cache, taesd: null, threads: 1 });
    const low = await DiffusionEngine.load(dir, { graphCache: cache, taesd: null, threads: 1, lowMemory: true });
    try {
      const a = await plain.generate(req);
      const b = await low.generate(req);
      assert.throws(() => low.textEncoder.session, /unloaded/);
      assert.throws(() => low.unet.session, /unloaded/);
      assert.throws(() => low.vae.session, /unloaded/);
      assert.equal(plain.textEncoder.session.inputNames[0], 'input_ids');
      assert.equal(plain.unet.session.inputNames[0], 'sample');
      const [c, d] = await Promise.all([low.generate({ ...req, prompt: 'a red house' }), low.generate(req)]);
      assert.deepEqual(b.image.data, a.image.data);
      assert.deepEqual(d.image.data, a.image.data);
      assert.notDeepEqual(c.image.data, a.image.data);
      assert.ok(low.textEncoder.reloads >= 1 && low.textEncoder.reloads <= 2, `reloads: ${low.textEncoder.reloads}`);
      assert.ok(low.unet.reloads >= 1 && low.unet.reloads <= 2, `UNet reloads: ${low.unet.reloads}`);
      assert.ok(low.vae.reloads >= 1 && low.vae.reloads <= 2, `VAE reloads: ${low.vae.reloads}`);
      assert.equal(plain.textEncoder.reloads + plain.unet.reloads + plain.vae.reloads, 0);
      // Image-to-image (its vae_encoder unloaded after encoding, too), twice.
      const i2i = { ...req, steps: 2, init: { image: a.image, strength: 0.5 } };
      const want = (await plain.generate(i2i)).image.data;
      assert.deepEqual((await low.generate(i2i)).image.data, want);
      assert.deepEqual((await low.generate(i2i)).image.data, want);
    } finally {
      await Promise.all([plain.close(), low.close()]);
    }
  });
});

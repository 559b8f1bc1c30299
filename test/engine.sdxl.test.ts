import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { localPathFor } from '../src/engine/download/layout.js';
import { findEntry, inferDefaults, resolveModel } from '../src/engine/registry.js';
import { quantizeModel } from '../src/engine/quantize.js';
import { DiffusionEngine } from '../src/engine/sampler.js';
import { psnr } from '../src/pipeline/sr/psnr.js';
import { loadClipTokenizer } from '../src/engine/tokenizer.js';
import { buildTinyModel, buildTinyTaesd } from '../src/engine/tiny/build.js';
import { buildTinySdxlModel, MINI_SDXL, TINY_SDXL } from '../src/engine/tiny/sdxl.js';
import type { GenerateRequest, RawImage, StepInfo } from '../src/engine/types.js';

let root: string;
let dir: string;
let engine: DiffusionEngine;
let fixedBatch: DiffusionEngine;
let noZeros: DiffusionEngine;
let fp16: DiffusionEngine;

const base = { prompt: 'a red fox in the snow', width: 96, height: 64, seed: 7, steps: 2, guidanceScale: 5 } satisfies GenerateRequest;

interface Captured {
  dims: readonly number[];
  data: Float32Array;
}

/** Every UNet feed of one generation (copied: the engine refills its buffers in place) — what the UNet got. */
async function unetFeeds(e: DiffusionEngine, req: GenerateRequest): Promise<Array<Record<string, Captured>>> {
  const runs: Array<Record<string, Captured>> = [];
  const g = e.unet;
  const orig = g.run.bind(g);
  g.run = async (feeds, fetch) => {
    const copy: Record<string, Captured> = {};
    for (const [k, t] of Object.entries(feeds)) {
      const d = t.data as ArrayLike<number | bigint>;
      copy[k] = { dims: t.dims, data: Float32Array.from(Array.from(d, Number)) };
    }
    runs.push(copy);
    return orig(feeds, fetch);
  };
  try {
    await e.generate(req);
  } finally {
    g.run = orig;
  }
  return runs;
}

/** diffusers' SDXL encode_prompt, computed here straight from the two encoder graphs. */
async function expectedEmbeds(modelDir: string, prompt: string): Promise<{ states: Float32Array; pooled: Float32Array }> {
  const out: Float32Array[] = [];
  let pooled: Float32Array | null = null;
  for (const [enc, tok, layers] of [
    ['text_encoder', 'tokenizer', TINY_SDXL.layers1],
    ['text_encoder_2', 'tokenizer_2', TINY_SDXL.layers2],
  ] as const) {
    const t = await loadClipTokenizer(path.join(modelDir, tok));
    const s = await ort.InferenceSession.create(path.join(modelDir, enc, 'model.onnx'));
    const res = await s.run({ input_ids: new ort.Tensor('int32', t.encode(prompt), [1, 77]) });
    // hidden_states[-2]: of hidden_states.0 … hidden_states.N, the one before the last layer's.
    out.push(res[`hidden_states.${layers - 1}`]!.data as Float32Array);
    if (enc === 'text_encoder_2') pooled = Float32Array.from(res.text_embeds!.data as Float32Array);
    await s.release();
  }
  const [a, b] = out as [Float32Array, Float32Array];
  const h1 = TINY_SDXL.hidden1;
  const h2 = TINY_SDXL.hidden2;
  const states = new Float32Array(77 * (h1 + h2));
  for (let t = 0; t < 77; t++) {
    states.set(a.subarray(t * h1, (t + 1) * h1), t * (h1 + h2));
    states.set(b.subarray(t * h2, (t + 1) * h2), t * (h1 + h2) + h1);
  }
  return { states, pooled: pooled! };
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string, tol = 1e-5): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  assert.ok(worst <= tol, `${what}: max |Δ| ${worst} > ${tol}`);
}

function row(c: Captured, i: number): Float32Array {
  const per = c.data.length / c.dims[0]!;
  return c.data.subarray(i * per, (i + 1) * per);
}

function isZero(a: Float32Array): boolean {
  return a.every((v) => v === 0);
}

function sameBytes(a: RawImage, b: RawImage): boolean {
  return Buffer.from(a.data.buffer, a.data.byteOffset, a.data.length).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.length));
}

function maxDiff(a: RawImage, b: RawImage): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mengtu-sdxl-'));
  process.env.MENGTU_HOME = root; // no installed TAESD unless a test passes one
  dir = path.join(root, 'sdxl');
  await buildTinySdxlModel(dir, { externalUnetData: true });
  await buildTinySdxlModel(path.join(root, 'fixed'), { fixedBatch: true });
  await buildTinySdxlModel(path.join(root, 'no-zeros'), { forceZerosForEmptyPrompt: false });
  await buildTinySdxlModel(path.join(root, 'fp16'), { fp16: true, timestep: 'int64' });
  const opts = { threads: 2, graphCache: false as const };
  engine = await DiffusionEngine.load(dir, opts);
  fixedBatch = await DiffusionEngine.load(path.join(root, 'fixed'), opts);
  noZeros = await DiffusionEngine.load(path.join(root, 'no-zeros'), opts);
  fp16 = await DiffusionEngine.load(path.join(root, 'fp16'), opts);
});

after(async () => {
  await Promise.all([engine, fixedBatch, noZeros, fp16].map((e) => e?.close()));
  await rm(root, { recursive: true, force: true });
});

describe('tiny SDXL model', () => {
  it("has optimum's SDXL layout and signatures", async () => {
    const index = JSON.parse(await readFile(path.join(dir, 'model_index.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(index._class_name, 'StableDiffusionXLPipeline');
    assert.equal(index.force_zeros_for_empty_prompt, true);
    const io = async (c: string): Promise<[string[], string[]]> => {
      const s = await ort.InferenceSession.create(path.join(dir, c, 'model.onnx'));
      const r: [string[], string[]] = [
        s.inputMetadata.map((m) => (m.isTensor ? `${m.name}:${m.type}:${m.shape.length}` : m.name)),
        s.outputMetadata.map((m) => (m.isTensor ? `${m.name}:${m.type}:${m.shape.length}` : m.name)),
      ];
      await s.release();
      return r;
    };
    const hs = (n: number): string[] => Array.from({ length: n + 1 }, (_, i) => `hidden_states.${i}:float32:3`);
    assert.deepEqual(await io('text_encoder'), [['input_ids:int32:2'], ['last_hidden_state:float32:3', 'pooler_output:float32:2', ...hs(TINY_SDXL.layers1)]]);
    assert.deepEqual(await io('text_encoder_2'), [['input_ids:int32:2'], ['text_embeds:float32:2', 'last_hidden_state:float32:3', ...hs(TINY_SDXL.layers2)]]);
    assert.deepEqual(await io('unet'), [
      ['sample:float32:4', 'timestep:float32:1', 'encoder_hidden_states:float32:3', 'text_embeds:float32:2', 'time_ids:float32:2'],
      ['out_sample:float32:4'],
    ]);
    assert.equal(engine.files.latentFormat, 'sdxl');
    assert.equal(engine.files.vaeScalingFactor, 0.13025);
    assert.equal(engine.nativeSize, 1024);
  });
});

describe('SDXL conditioning reaches the UNet as diffusers feeds it', () => {
  it('with guidance and a negative prompt: [negative; prompt] rows of concat(enc1, enc2) penultimate states, pooled text_embeds, time_ids', async () => {
    const runs = await unetFeeds(engine, { ...base, negativePrompt: 'blurry, dark' });
    assert.equal(runs.length, base.steps, 'one batched run a step');
    const pos = await expectedEmbeds(dir, base.prompt);
    const neg = await expectedEmbeds(dir, 'blurry, dark');
    for (const feeds of runs) {
      const ehs = feeds.encoder_hidden_states!;
      assert.deepEqual(ehs.dims, [2, 77, TINY_SDXL.hidden1 + TINY_SDXL.hidden2]);
      assertClose(row(ehs, 0), neg.states, 'negative states');
      assertClose(row(ehs, 1), pos.states, 'prompt states');
      const te = feeds.text_embeds!;
      assert.deepEqual(te.dims, [2, TINY_SDXL.projection]);
      assertClose(row(te, 0), neg.pooled, 'negative pooled');
      assertClose(row(te, 1), pos.pooled, 'prompt pooled');
      const ids = feeds.time_ids!;
      assert.deepEqual(ids.dims, [2, 6]);
      // original (h, w), crop (0, 0), target (h, w): the rendered 64×96 for both rows.
      assert.deepEqual([...row(ids, 0)], [64, 96, 0, 0, 64, 96]);
      assert.deepEqual([...row(ids, 1)], [64, 96, 0, 0, 64, 96]);
    }
  });

  it('with guidance and no negative prompt: zeroed unconditional embeds (force_zeros_for_empty_prompt)', async () => {
    const runs = await unetFeeds(engine, base);
    const pos = await expectedEmbeds(dir, base.prompt);
    const f = runs[0]!;
    assert.ok(isZero(row(f.encoder_hidden_states!, 0)), 'negative states are zeros');
    assert.ok(isZero(row(f.text_embeds!, 0)), 'negative pooled is zeros');
    assertClose(row(f.encoder_hidden_states!, 1), pos.states, 'prompt states');
    assertClose(row(f.text_embeds!, 1), pos.pooled, 'prompt pooled');
  });

  it('a model without force_zeros_for_empty_prompt encodes the empty negative prompt instead', async () => {
    const runs = await unetFeeds(noZeros, base);
    const empty = await expectedEmbeds(path.join(root, 'no-zeros'), '');
    const f = runs[0]!;
    assert.ok(!isZero(row(f.encoder_hidden_states!, 0)));
    assertClose(row(f.encoder_hidden_states!, 0), empty.states, 'empty-prompt states');
    assertClose(row(f.text_embeds!, 0), empty.pooled, 'empty-prompt pooled');
  });

  it('without guidance: one row, the prompt only', async () => {
    const runs = await unetFeeds(engine, { ...base, guidanceScale: 0, width: 128, height: 72 });
    const pos = await expectedEmbeds(dir, base.prompt);
    const f = runs[0]!;
    assert.deepEqual(f.encoder_hidden_states!.dims, [1, 77, TINY_SDXL.hidden1 + TINY_SDXL.hidden2]);
    assertClose(f.encoder_hidden_states!.data, pos.states, 'prompt states');
    assertClose(f.text_embeds!.data, pos.pooled, 'prompt pooled');
    // 72 is rendered as 72 (a multiple of 8): time_ids carry the rendered size.
    assert.deepEqual([...f.time_ids!.data], [72, 128, 0, 0, 72, 128]);
  });

  it('a fixed-batch UNet gets the prompt and the negative in separate runs', async () => {
    const runs = await unetFeeds(fixedBatch, { ...base, negativePrompt: 'blurry, dark' });
    assert.equal(runs.length, 2 * base.steps);
    const dirF = path.join(root, 'fixed');
    const pos = await expectedEmbeds(dirF, base.prompt);
    const neg = await expectedEmbeds(dirF, 'blurry, dark');
    const [c, u] = runs as [Record<string, Captured>, Record<string, Captured>];
    assertClose(c.encoder_hidden_states!.data, pos.states, 'cond run states');
    assertClose(c.text_embeds!.data, pos.pooled, 'cond run pooled');
    assertClose(u.encoder_hidden_states!.data, neg.states, 'uncond run states');
    assertClose(u.text_embeds!.data, neg.pooled, 'uncond run pooled');
    assert.deepEqual([...u.time_ids!.data], [64, 96, 0, 0, 64, 96]);
  });
});

describe('SDXL generation', () => {
  it('is deterministic per seed; seed, prompt, negative prompt and guidance each change the picture', async () => {
    const a = await engine.generate(base);
    const b = await engine.generate(base);
    assert.deepEqual([a.image.width, a.image.height], [96, 64]);
    assert.ok(sameBytes(a.image, b.image), 'same seed → same pixels');
    assert.ok(new Set(a.image.data).size > 50, 'not a flat image');
    for (const [what, other] of [
      ['seed', { ...base, seed: 8 }],
      ['prompt', { ...base, prompt: 'a blue boat on a lake' }],
      ['negative prompt', { ...base, negativePrompt: 'blurry' }],
      ['guidance off', { ...base, guidanceScale: 0 }],
    ] as const) {
      assert.ok(!sameBytes(a.image, (await engine.generate(other)).image), `${what} changes the picture`);
    }
  });

  it('the batched and fixed-batch UNets give the same picture (same weights, same conditioning)', async () => {
    const a = await engine.generate({ ...base, negativePrompt: 'blurry' });
    const b = await fixedBatch.generate({ ...base, negativePrompt: 'blurry' });
    assert.ok(maxDiff(a.image, b.image) <= 1, `max diff ${maxDiff(a.image, b.image)}`);
  });

  it('float16 graph inputs (text_embeds and time_ids too) and an int64 timestep work', async () => {
    const a = await fp16.generate(base);
    assert.ok(sameBytes(a.image, (await fp16.generate(base)).image));
    const ref = await engine.generate(base);
    // Same weights; only the graph boundaries are rounded to half precision.
    assert.ok(maxDiff(a.image, ref.image) <= 8, `max diff ${maxDiff(a.image, ref.image)} vs float32`);
  });

  it('image-to-image on SDXL: the init picture steers the result, conditioning as for text-to-image', async () => {
    const src = await engine.generate({ ...base, guidanceScale: 0 });
    const runs = await unetFeeds(engine, { ...base, steps: 4, init: { image: src.image, strength: 0.5 } });
    assert.equal(runs.length, 2, 'strength 0.5 of 4 steps runs the last 2');
    assert.deepEqual([...row(runs[0]!.time_ids!, 1)], [64, 96, 0, 0, 64, 96]);
    const a = await engine.generate({ ...base, steps: 4, init: { image: src.image, strength: 0.5 } });
    const b = await engine.generate({ ...base, steps: 4, seed: base.seed, init: { image: (await engine.generate({ ...base, seed: 99 })).image, strength: 0.5 } });
    assert.ok(!sameBytes(a.image, b.image), 'a different init picture gives a different result');
  });

  it('renders 1024² natively, with SDXL step previews and the tiny decoder (TAESDXL signature)', async () => {
    const taesdDir = path.join(root, 'taesdxl');
    await buildTinyTaesd(taesdDir, { channels: 8 });
    const e = await DiffusionEngine.load(dir, { threads: 2, graphCache: false, taesd: taesdDir });
    try {
      const steps: StepInfo[] = [];
      const out = await e.generate({ ...base, width: 1024, height: 1024, steps: 2, guidanceScale: 0, previews: true, onStep: (s) => steps.push(s), decoder: 'taesd' });
      assert.deepEqual([out.image.width, out.image.height], [1024, 1024]);
      assert.equal(out.decoder, 'taesd');
      assert.equal(steps[0]!.latents.format, 'sdxl');
      assert.deepEqual([steps[0]!.latents.height, steps[0]!.latents.width], [128, 128]);
      assert.deepEqual([steps[0]!.preview?.width, steps[0]!.preview?.height], [1024, 1024]);
      const vae = await e.generate({ ...base, width: 1024, height: 1024, steps: 2, guidanceScale: 0 });
      assert.equal(vae.decoder, 'vae');
      assert.ok(!sameBytes(vae.image, out.image), 'the two decoders differ');
    } finally {
      await e.close();
    }
  });
});

describe('int8 copy of an SDXL model', () => {
  it('quantizes both encoders and the UNet, passes the load checks, and stays close to fp32', async () => {
    const dst = path.join(root, 'sdxl-int8');
    const report = await quantizeModel(dir, dst);
    assert.deepEqual(Object.keys(report.parts).sort(), ['text_encoder', 'text_encoder_2', 'unet']);
    const q = await DiffusionEngine.load(dst, { threads: 2, graphCache: false });
    try {
      const req = { ...base, guidanceScale: 0 };
      const [a, b] = [await engine.generate(req), await q.generate(req)];
      const db = psnr(a.image, b.image);
      assert.ok(db > 30 && Number.isFinite(db), `PSNR ${db.toFixed(1)} dB vs fp32`);
    } finally {
      await q.close();
    }
  });
});

describe('SDXL with lowMemory', () => {
  it('unloads both text encoders after each prompt and reloads them for the next, with the same pictures', async () => {
    const low = await DiffusionEngine.load(dir, { threads: 1, graphCache: path.join(root, 'ort-cache-low'), lowMemory: true });
    try {
      const a = await engine.generate(base);
      const b = await low.generate(base);
      assert.throws(() => low.textEncoder.session, /unloaded/);
      assert.throws(() => low.sdxl!.encoder2.session, /unloaded/);
      const c = await low.generate(base);
      assert.ok(sameBytes(a.image, b.image) && sameBytes(a.image, c.image));
      assert.deepEqual([low.textEncoder.reloads, low.sdxl!.encoder2.reloads], [1, 1]);
    } finally {
      await low.close();
    }
  });
});

describe('mini SDXL (the SD-architecture blocks with SDXL signatures)', () => {
  it('passes the load checks and draws deterministically', async () => {
    const d = path.join(root, 'mini-sdxl');
    await buildTinySdxlModel(d, { mini: { width: 0.25 } });
    const e = await DiffusionEngine.load(d, { threads: 2, graphCache: false });
    try {
      assert.deepEqual(e.sdxl?.dims, { hidden1: MINI_SDXL.hidden1, hidden2: MINI_SDXL.hidden2, pooled: MINI_SDXL.projection, seq: 77 });
      const req = { ...base, width: 128, height: 128, steps: 1 };
      const a = await e.generate(req);
      assert.ok(sameBytes(a.image, (await e.generate(req)).image));
      assert.ok(!sameBytes(a.image, (await e.generate({ ...req, prompt: 'a blue boat' })).image), 'the text reaches the UNet');
    } finally {
      await e.close();
    }
  });
});

describe('the installed tiny decoder for SDXL latents', () => {
  it('is taesdxl, never the SD taesd', async () => {
    const home = path.join(root, 'taesd-home');
    await buildTinyTaesd(path.join(home, 'models', 'taesd'), { channels: 8 });
    const saved = process.env.MENGTU_HOME;
    process.env.MENGTU_HOME = home;
    try {
      const onlySd = await DiffusionEngine.load(dir, { threads: 1, graphCache: false });
      assert.equal(onlySd.taesd, null, 'the SD taesd is not used for SDXL latents');
      await onlySd.close();
      await buildTinyTaesd(path.join(home, 'models', 'taesdxl'), { channels: 8 });
      const e = await DiffusionEngine.load(dir, { threads: 1, graphCache: false });
      try {
        assert.equal(e.taesd?.graph.file, path.join(home, 'models', 'taesdxl', 'vae_decoder', 'model.onnx'));
        const out = await e.generate({ ...base, guidanceScale: 0, decoder: 'taesd' });
        assert.equal(out.decoder, 'taesd');
      } finally {
        await e.close();
      }
    } finally {
      process.env.MENGTU_HOME = saved;
    }
  });
});

describe('an SDXL folder that does not fit fails at load, naming why', () => {
  async function copyModel(name: string): Promise<string> {
    const d = path.join(root, name);
    await cp(dir, d, { recursive: true });
    return d;
  }

  it('an SDXL UNet without text_encoder_2/', async () => {
    const d = await copyModel('no-te2');
    await rm(path.join(d, 'text_encoder_2'), { recursive: true });
    await assert.rejects(DiffusionEngine.load(d, { threads: 1, graphCache: false }), /takes text_embeds and time_ids \(an SDXL UNet\).*no text_encoder_2/);
  });

  it('text_encoder_2/ without tokenizer_2/', async () => {
    const d = await copyModel('no-tok2');
    await rm(path.join(d, 'tokenizer_2'), { recursive: true });
    await assert.rejects(DiffusionEngine.load(d, { threads: 1, graphCache: false }), /text_encoder_2\/ but no tokenizer_2/);
  });

  it('a second encoder without hidden states or text_embeds', async () => {
    const d = await copyModel('bad-te2');
    const sd = path.join(root, 'sd-for-parts');
    await buildTinyModel(sd);
    await cp(path.join(sd, 'text_encoder', 'model.onnx'), path.join(d, 'text_encoder_2', 'model.onnx'));
    await assert.rejects(DiffusionEngine.load(d, { threads: 1, graphCache: false }), /no text_embeds output.*CLIPTextModelWithProjection/);
  });

  it('a UNet config whose cross-attention width is not the two encoders together', async () => {
    const d = await copyModel('bad-config');
    const f = path.join(d, 'unet', 'config.json');
    const c = JSON.parse(await readFile(f, 'utf8')) as Record<string, unknown>;
    await writeFile(f, JSON.stringify({ ...c, cross_attention_dim: 2048 }));
    await assert.rejects(DiffusionEngine.load(d, { threads: 1, graphCache: false }), /does not fit together: the text state width is 80 .* but 2048 by unet\/config\.json cross_attention_dim/);
  });

  it('an SD UNet next to two text encoders', async () => {
    const d = await copyModel('sd-unet');
    const sd = path.join(root, 'sd-for-parts');
    await cp(path.join(sd, 'unet', 'model.onnx'), path.join(d, 'unet', 'model.onnx'));
    await rm(path.join(d, 'unet', 'model.onnx_data'), { force: true });
    await rm(path.join(d, 'unet', 'config.json'));
    await assert.rejects(DiffusionEngine.load(d, { threads: 1, graphCache: false }), /has no text_embeds input.*not SDXL's/);
  });
});

describe('SDXL in the registry and in pulls', () => {
  it('sdxl-turbo and sdxl name the stabilityai repos that carry optimum ONNX exports', () => {
    assert.equal(findEntry('sdxl-turbo')?.repo, 'stabilityai/sdxl-turbo');
    assert.deepEqual(findEntry('sdxl-turbo')?.defaults, { steps: 1, guidanceScale: 0, scheduler: 'euler_a', size: 512 });
    assert.equal(findEntry('sdxl')?.repo, 'stabilityai/stable-diffusion-xl-base-1.0');
    assert.equal(findEntry('stabilityai/stable-diffusion-xl-base-1.0')?.name, 'sdxl');
  });

  it("a pull keeps the second encoder, its tokenizer, external weights and configs, and skips the PyTorch/OpenVINO copies", () => {
    for (const f of ['text_encoder_2/model.onnx', 'text_encoder_2/model.onnx_data', 'tokenizer_2/vocab.json', 'tokenizer_2/merges.txt', 'unet/model.onnx_data', 'unet/config.json', 'text_encoder_2/config.json']) {
      assert.equal(localPathFor(f, undefined), f, f);
    }
    for (const f of ['text_encoder_2/model.safetensors', 'unet/diffusion_pytorch_model.fp16.safetensors', 'unet/openvino_model.xml', 'unet/openvino_model.bin', 'vae/config.json', 'sd_xl_turbo_1.0.safetensors']) {
      assert.equal(localPathFor(f, undefined), null, f);
    }
  });

  it('an SDXL folder outside the registry gets SDXL defaults (turbo by name keeps 1 step, no CFG)', async () => {
    assert.deepEqual(await inferDefaults(dir, 'someone/my-sdxl-onnx'), { steps: 25, guidanceScale: 5, size: 1024 });
    assert.deepEqual(await inferDefaults(dir, 'someone/sdxl-turbo-onnx'), { steps: 1, guidanceScale: 0, scheduler: 'euler', size: 512 });
  });

  it('`tiny-sdxl` is built locally like `tiny` and resolves to an SDXL folder', async () => {
    const m = await resolveModel('tiny-sdxl', { env: { ...process.env, MENGTU_HOME: root } });
    assert.equal(m.dir, path.join(root, 'models', 'tiny-sdxl'));
    const e = await DiffusionEngine.load(m.dir, { threads: 1, graphCache: false });
    try {
      assert.ok(e.sdxl, 'loaded with both text encoders');
    } finally {
      await e.close();
    }
  });
});

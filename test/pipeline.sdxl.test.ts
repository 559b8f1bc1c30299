import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { MengtuClient } from '../src/client/index.js';
import { parseCVProcessRequest, REQ_KEY_V21 } from '../src/contract/cvprocess.js';
import { DiffusionEngine } from '../src/engine/sampler.js';
import { ensureTinyModel } from '../src/engine/tiny/build.js';
import type { Engine, GenerateRequest } from '../src/engine/types.js';
import { newJob, runPipeline } from '../src/pipeline/runner.js';
import { createSuperResolver } from '../src/pipeline/sr/index.js';
import { generateStage, renderSize } from '../src/pipeline/stages/generate.js';
import { superResolutionStage } from '../src/pipeline/stages/super-resolution.js';
import { startTestServer, TEST_AK, TEST_SK } from './helpers/server.js';

let root: string;
let sdxl: DiffusionEngine;
let sd: DiffusionEngine;

/** The engine with a record of the sizes it was asked to render. */
function recording(e: Engine): { engine: Engine; sizes: Array<[number, number]> } {
  const sizes: Array<[number, number]> = [];
  const engine: Engine = {
    modelName: e.modelName,
    img2img: e.img2img,
    ...(e.nativeSize !== undefined ? { nativeSize: e.nativeSize } : {}),
    generate: (req: GenerateRequest) => {
      sizes.push([req.width, req.height]);
      return e.generate(req);
    },
    close: () => e.close(),
  };
  return { engine, sizes };
}

async function run(e: Engine, body: Record<string, unknown>): Promise<{ width: number; height: number; srMethod: string; rendered: Array<[number, number]> }> {
  const { engine, sizes } = recording(e);
  const job = newJob(parseCVProcessRequest({ req_key: REQ_KEY_V21, prompt: 'a lighthouse at dusk', seed: 3, steps: 1, ...body }), 'req-sdxl', engine.modelName);
  const sr = await createSuperResolver({ mode: 'lanczos' });
  const ctx = { engine, log: { info() {}, warn() {}, error() {}, debug() {} } };
  const done = await runPipeline(job, [generateStage(), superResolutionStage(sr)], ctx as never);
  return { width: done.image!.width, height: done.image!.height, srMethod: done.srMethod, rendered: sizes };
}

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mengtu-pipeline-sdxl-'));
  const env = { ...process.env, MENGTU_HOME: root };
  process.env.MENGTU_HOME = root;
  sdxl = await DiffusionEngine.load(await ensureTinyModel(env, 'tiny-sdxl'), { threads: 2, graphCache: false });
  sd = await DiffusionEngine.load(await ensureTinyModel(env), { threads: 2, graphCache: false });
});

after(async () => {
  await Promise.all([sdxl?.close(), sd?.close()]);
  await rm(root, { recursive: true, force: true });
});

describe("Jimeng's default 1024×1024 (512 × use_sr)", () => {
  it('an SDXL-class model renders it at full resolution: no upscale', async () => {
    const r = await run(sdxl, {});
    assert.deepEqual(r.rendered, [[1024, 1024]]);
    assert.deepEqual([r.width, r.height], [1024, 1024]);
    assert.equal(r.srMethod, 'native');
  });

  it('an SD model renders 512² and super-resolution doubles it', async () => {
    const r = await run(sd, {});
    assert.deepEqual(r.rendered, [[512, 512]]);
    assert.deepEqual([r.width, r.height], [1024, 1024]);
    assert.equal(r.srMethod, 'lanczos');
  });

  it('a 1536² delivery on an SDXL-class model: drawn at 1024², SR ×2, resized to 1536²', async () => {
    const r = await run(sdxl, { width: 768, height: 768 });
    assert.deepEqual(r.rendered, [[1024, 1024]]);
    assert.deepEqual([r.width, r.height], [1536, 1536]);
    assert.equal(r.srMethod, 'lanczos');
  });

  it('use_sr off renders the requested size on either', async () => {
    const r = await run(sdxl, { use_sr: false, width: 640, height: 384 });
    assert.deepEqual(r.rendered, [[640, 384]]);
    assert.equal(r.srMethod, '');
  });
});

describe('renderSize', () => {
  const job = (w: number, h: number, useSr = true) => ({ request: { width: w, height: h, use_sr: useSr } as never, outputWidth: useSr ? 2 * w : w, outputHeight: useSr ? 2 * h : h });
  it('draws delivered sizes up to 1.5 × the native area directly, larger ones at half through SR', () => {
    assert.deepEqual(renderSize(job(512, 512), { nativeSize: 1024 }), { width: 1024, height: 1024, native: true });
    assert.deepEqual(renderSize(job(768, 512), { nativeSize: 1024 }), { width: 1536, height: 1024, native: true });
    // 1536² is above 1.5 MP: drawn at the native area (1024²), doubled by SR, resized to 1536².
    assert.deepEqual(renderSize(job(768, 768), { nativeSize: 1024 }), { width: 1024, height: 1024, native: false });
    assert.deepEqual(renderSize(job(768, 640), { nativeSize: 1024 }), { width: 1120, height: 936, native: false });
    // A delivery of 4 × the native area or more: half is already that big.
    assert.deepEqual(renderSize(job(1024, 1024), { nativeSize: 1024 }), { width: 1024, height: 1024, native: false });
  });
  it('leaves models trained below 1024 (SD 1.x 512, SD 2.x 768) and unknown ones on the SR path', () => {
    for (const nativeSize of [512, 768, undefined]) {
      assert.deepEqual(renderSize(job(256, 256), nativeSize === undefined ? {} : { nativeSize }), { width: 256, height: 256, native: false });
    }
  });
});

describe('a server on an SDXL-class model', () => {
  it("answers Jimeng's default request (512 × use_sr) with a 1024² picture the model drew itself", async () => {
    const server = await startTestServer({ engine: { model: 'tiny-sdxl' } });
    try {
      const client = new MengtuClient({ endpoint: server.url, accessKeyId: TEST_AK, secretAccessKey: TEST_SK, retries: 0 });
      const { image, data } = await client.generateImage({ prompt: 'a lighthouse at dusk', seed: 3, use_pre_llm: false });
      const meta = await sharp(image).metadata();
      assert.deepEqual([meta.width, meta.height], [1024, 1024]);
      const p = data.infer_ctx.params;
      assert.deepEqual([p.width, p.height, p.output_width, p.output_height, p.use_sr], [512, 512, 1024, 1024, true]);
      assert.equal(p.sr_upscaler, 'native');
    } finally {
      await server.close();
    }
  });
});

/**
 * The Jimeng 3.x family end to end on a real server with the tiny model: jimeng_t2i_v30 / v31 and
 * jimeng_i2i_v30 through CVSync2AsyncSubmitTask → CVSync2AsyncGetResult; the input picture by base64 and by
 * URL, checked (limits 50200, image risk 50411); each req_key on the model configured for it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import sharp from 'sharp';
import { signRequest } from '../src/client/index.js';
import { buildTinyModel } from '../src/engine/tiny/build.js';
import { renderSize } from '../src/pipeline/stages/generate.js';
import type { RunningServer } from '../src/runtime/server.js';
import { meanDiff } from './helpers/pictures.js';
import { startTestServer, TEST_AK, TEST_SK } from './helpers/server.js';

const SUBMIT = 'Action=CVSync2AsyncSubmitTask&Version=2022-08-31';
const GET = 'Action=CVSync2AsyncGetResult&Version=2022-08-31';
const SYNC = 'Action=CVProcess&Version=2022-08-31';
const FLAGGED = path.join(import.meta.dirname, 'fixtures', 'image-risk-flagged.png');

interface Envelope {
  code: number;
  message: string;
  data: ({ task_id?: string; status?: string; binary_data_base64: string[]; infer_ctx?: { params: Record<string, unknown> } } & Record<string, unknown>) | null;
}

function client(server: () => RunningServer) {
  const call = async (query: string, body: Record<string, unknown>): Promise<{ status: number; json: Envelope }> => {
    const text = JSON.stringify(body);
    const { headers } = signRequest({ accessKeyId: TEST_AK, secretAccessKey: TEST_SK, region: 'cn-north-1', service: 'cv' }, { method: 'POST', path: '/', rawQuery: query, body: text }, new Date());
    const res = await fetch(`${server().url}/?${query}`, { method: 'POST', headers, body: text });
    return { status: res.status, json: (await res.json()) as Envelope };
  };
  /** Submit, then poll GetResult until the task leaves in_queue/generating; the final envelope. */
  const run = async (body: Record<string, unknown>): Promise<{ status: number; json: Envelope }> => {
    const sub = await call(SUBMIT, body);
    assert.equal(sub.json.code, 10000, JSON.stringify(sub.json));
    const taskId = sub.json.data!.task_id!;
    for (let i = 0; i < 1200; i++) {
      const r = await call(GET, { req_key: body.req_key, task_id: taskId });
      const s = r.json.data?.status;
      if (s !== 'in_queue' && s !== 'generating') return r;
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error(`task ${taskId} never finished`);
  };
  return { call, run };
}

async function pngOf(width: number, height: number, paint: (x: number, y: number) => [number, number, number]): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.set(paint(x, y), (y * width + x) * 3);
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** Decoded pixels (PNGs differ in their label's timestamp). */
async function pixels(b64: string): Promise<Buffer> {
  return sharp(Buffer.from(b64, 'base64')).removeAlpha().raw().toBuffer();
}

const gradient = (w: number, h: number): ((x: number, y: number) => [number, number, number]) => (x, y) => [40 + Math.round((170 * x) / w), 210 - Math.round((150 * y) / h), 120];

describe('Jimeng 3.x through the async pair', () => {
  let server: RunningServer;
  let images: http.Server;
  let imagesUrl: string;
  let input: Buffer;
  const { call, run } = client(() => server);

  before(async () => {
    input = await pngOf(300, 200, gradient(300, 200));
    images = http.createServer((req, res) => {
      if (req.url === '/input.png') {
        res.writeHead(200, { 'content-type': 'image/png' }).end(input);
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => images.listen(0, '127.0.0.1', r));
    imagesUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
    server = await startTestServer({ safety: { imageUrlsPrivate: true } });
  });
  after(async () => {
    await server.close();
    await new Promise<void>((r) => images.close(() => r()));
  });

  test('jimeng_t2i_v30: the default 1328×1328 picture, its req_key echoed', async () => {
    const { json } = await run({ req_key: 'jimeng_t2i_v30', prompt: '一座灯塔 at dawn', seed: 7, use_pre_llm: false });
    assert.equal(json.code, 10000, JSON.stringify(json).slice(0, 300));
    assert.equal(json.data!.status, 'done');
    const meta = await sharp(Buffer.from(json.data!.binary_data_base64[0]!, 'base64')).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 1328, 1328]);
    assert.equal(json.data!.infer_ctx!.params.req_key, 't2i_v30');
    assert.equal(json.data!.infer_ctx!.params.seed, 7);
    // 1328² is 6.7 × the tiny model's native 512²: drawn at 512², brought up by super-resolution.
    assert.notEqual(json.data!.infer_ctx!.params.sr_upscaler, '');
  });

  test('jimeng_t2i_v31: the asked size, deterministic per seed', async () => {
    const body = { req_key: 'jimeng_t2i_v31', prompt: 'a red fox in snow', seed: 11, width: 768, height: 512, use_pre_llm: false };
    const a = (await run(body)).json;
    const b = (await run(body)).json;
    assert.equal(a.code, 10000);
    const meta = await sharp(Buffer.from(a.data!.binary_data_base64[0]!, 'base64')).metadata();
    assert.deepEqual([meta.width, meta.height], [768, 512]);
    assert.ok((await pixels(a.data!.binary_data_base64[0]!)).equals(await pixels(b.data!.binary_data_base64[0]!)), 'same seed, same pixels');
    assert.equal(a.data!.infer_ctx!.params.req_key, 't2i_v31');
    // 768×512 is within 1.5 × the native area: drawn as asked, no upscale.
    assert.equal(a.data!.infer_ctx!.params.sr_upscaler, '');
  });

  test('a 3.x req_key on CVProcess is 50215; a bad field is refused at submit with its code', async () => {
    const sync = await call(SYNC, { req_key: 'jimeng_t2i_v30', prompt: 'x' });
    assert.equal(sync.json.code, 50215);
    const wide = await call(SUBMIT, { req_key: 'jimeng_t2i_v30', prompt: 'x', width: 2048, height: 512 });
    assert.deepEqual([wide.status, wide.json.code], [400, 50200]);
    const two = await call(SUBMIT, { req_key: 'jimeng_i2i_v30', prompt: 'x', binary_data_base64: [input.toString('base64')], image_urls: [`${imagesUrl}/input.png`] });
    assert.deepEqual([two.status, two.json.code], [400, 50200]);
  });

  test('a picture-sized body (3 MB) is read on CVSync2AsyncSubmitTask only; others keep the 1 MB limit (413 / 50213)', async () => {
    const body = { req_key: 'jimeng_i2i_v30', prompt: 'x', binary_data_base64: ['A'.repeat(3 * 1024 * 1024)] };
    const sub = await call(SUBMIT, body);
    assert.equal(sub.json.code, 10000, 'accepted: the bytes are checked when decoded');
    const sync = await call(SYNC, body);
    assert.deepEqual([sync.status, sync.json.code], [413, 50213]);
    const huge = await call(SUBMIT, { ...body, binary_data_base64: ['A'.repeat(9 * 1024 * 1024)] });
    assert.deepEqual([huge.status, huge.json.code], [413, 50213]);
  });

  test('jimeng_i2i_v30 by base64: output the input\'s size in multiples of 16; scale decides how far it moves from the input', async () => {
    const b64 = input.toString('base64');
    const base = { req_key: 'jimeng_i2i_v30', prompt: 'a watercolor landscape', seed: 3, binary_data_base64: [b64] };
    const diffs: number[] = [];
    for (const scale of [0, 0.5, 1]) {
      const { json } = await run({ ...base, scale });
      assert.equal(json.code, 10000, JSON.stringify(json).slice(0, 300));
      const out = Buffer.from(json.data!.binary_data_base64[0]!, 'base64');
      const meta = await sharp(out).metadata();
      assert.deepEqual([meta.width, meta.height], [304, 208]);
      assert.equal(json.data!.infer_ctx!.params.strength, scale);
      assert.equal(json.data!.infer_ctx!.params.req_key, 'i2i_v30');
      diffs.push(await meanDiff(out, input, 304, 208));
    }
    // scale 0 is the picture's VAE round trip; more scale, further from it.
    assert.ok(diffs[0]! < 20 && diffs[0]! < diffs[1]! && diffs[1]! < diffs[2]!, diffs.map((d) => d.toFixed(1)).join(' < '));
  });

  test('jimeng_i2i_v30 by image_urls: the same picture as by base64; width/height choose the size', async () => {
    const common = { req_key: 'jimeng_i2i_v30', prompt: 'a watercolor landscape', seed: 3, scale: 0.5 };
    const byUrl = (await run({ ...common, image_urls: [`${imagesUrl}/input.png`] })).json;
    const byB64 = (await run({ ...common, binary_data_base64: [input.toString('base64')] })).json;
    assert.equal(byUrl.code, 10000, JSON.stringify(byUrl).slice(0, 300));
    assert.ok((await pixels(byUrl.data!.binary_data_base64[0]!)).equals(await pixels(byB64.data!.binary_data_base64[0]!)), 'same picture either way');
    assert.equal(byUrl.data!.infer_ctx!.params.input_image_url, `${imagesUrl}/input.png`);
    const sized = (await run({ ...common, image_urls: [`${imagesUrl}/input.png`], width: 600, height: 520 })).json;
    const meta = await sharp(Buffer.from(sized.data!.binary_data_base64[0]!, 'base64')).metadata();
    assert.deepEqual([meta.width, meta.height], [608, 528]);
  });

  test('the input picture is checked: image risk 50411, not an image / too narrow / unreachable 50200', async () => {
    const flagged = (await readFile(FLAGGED)).toString('base64');
    const risky = await run({ req_key: 'jimeng_i2i_v30', prompt: 'a portrait', binary_data_base64: [flagged] });
    assert.deepEqual([risky.status, risky.json.code, risky.json.message], [400, 50411, 'Pre Img Risk Not Pass']);
    const text = await run({ req_key: 'jimeng_i2i_v30', prompt: 'x', binary_data_base64: [Buffer.from('hello, not a picture').toString('base64')] });
    assert.equal(text.json.code, 50200);
    assert.match(text.json.message, /binary_data_base64\[0\] must be a JPEG or PNG image/);
    const narrow = await run({ req_key: 'jimeng_i2i_v30', prompt: 'x', binary_data_base64: [(await pngOf(100, 400, gradient(100, 400))).toString('base64')] });
    assert.equal(narrow.json.code, 50200);
    assert.match(narrow.json.message, /aspect ratio between 1:3 and 3:1 \(got 100×400\)/);
    const missing = await run({ req_key: 'jimeng_i2i_v30', prompt: 'x', image_urls: [`${imagesUrl}/nothing.png`] });
    assert.equal(missing.json.code, 50200);
    assert.match(missing.json.message, /image_urls\[0\] could not be downloaded \(HTTP 404\)/);
  });
});

describe('render size of the 3.x req_keys (no use_sr: the size asked is the size delivered)', () => {
  const job = (req_key: string, width: number, height: number) => ({ request: { req_key, width, height, use_sr: false }, outputWidth: width, outputHeight: height }) as Parameters<typeof renderSize>[0];
  test('up to 1.5 × the native area as asked; beyond, the native area in the delivery\'s shape', () => {
    assert.deepEqual(renderSize(job('jimeng_t2i_v30', 512, 768), { nativeSize: 512 }), { width: 512, height: 768, native: false });
    assert.deepEqual(renderSize(job('jimeng_t2i_v30', 1328, 1328), { nativeSize: 512 }), { width: 512, height: 512, native: false });
    assert.deepEqual(renderSize(job('jimeng_t2i_v31', 2048, 1024), { nativeSize: 512 }), { width: 728, height: 360, native: false });
    assert.deepEqual(renderSize(job('jimeng_t2i_v30', 1328, 1328), { nativeSize: 1024 }), { width: 1024, height: 1024, native: false });
    assert.deepEqual(renderSize(job('jimeng_i2i_v30', 1536, 1152), { nativeSize: 512 }), { width: 592, height: 440, native: false });
    // 2.1 without use_sr keeps its own rule: the size asked.
    assert.deepEqual(renderSize(job('jimeng_high_aes_general_v21_L', 1024, 1024), { nativeSize: 512 }), { width: 1024, height: 1024, native: false });
  });
});

describe('each req_key on the model configured for it (MENGTU_MODEL_<REQ_KEY>)', () => {
  let root: string;
  let server: RunningServer;
  const { run } = client(() => server);

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'mengtu-v3-models-'));
    await buildTinyModel(path.join(root, 'no-encoder'), { noVaeEncoder: true });
    server = await startTestServer({ engine: { modelI2iV30: path.join(root, 'no-encoder') } });
  });
  after(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  test('the i2i model (no vae_encoder) answers 50501 while v2.1 and t2i 3.0 run on the default model', async () => {
    assert.equal(server.runtime.host.modelFor('jimeng_i2i_v30'), path.join(root, 'no-encoder'));
    assert.equal(server.runtime.host.modelFor('jimeng_t2i_v30'), 'tiny');
    assert.equal(server.runtime.host.engine(path.join(root, 'no-encoder')).img2img, false);
    assert.equal(server.runtime.host.engine().img2img, true);
    const i2i = await run({ req_key: 'jimeng_i2i_v30', prompt: 'x', binary_data_base64: [(await pngOf(64, 64, gradient(64, 64))).toString('base64')] });
    assert.equal(i2i.json.code, 50501);
    const t2i = await run({ req_key: 'jimeng_t2i_v30', prompt: 'a cat', width: 512, height: 512 });
    assert.equal(t2i.json.code, 10000);
  });

  test('by default an image URL on loopback or a private network is refused (50200), before any download', async () => {
    for (const url of ['http://127.0.0.1:9/x.png', 'http://10.1.2.3/x.png', 'http://[::1]:9/x.png', 'http://169.254.169.254/latest/meta-data']) {
      const r = await run({ req_key: 'jimeng_i2i_v30', prompt: 'x', image_urls: [url] });
      assert.equal(r.json.code, 50200, url);
      assert.match(r.json.message, /image_urls\[0\] must point at a public address/);
    }
  });
});

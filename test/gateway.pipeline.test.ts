/** Every CVProcess parameter's real behaviour through the gateway: risk, rewrite, typography, logo, URLs, labels. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { signRequest } from '../src/client/index.js';
import { readPngTextChunks } from '../src/pipeline/encode/index.js';
import type { RunningServer } from '../src/runtime/server.js';
import { startTestServer, TEST_AK, TEST_SK } from './helpers/server.js';

const Q = 'Action=CVProcess&Version=2022-08-31';
const REQ_KEY = 'jimeng_high_aes_general_v21_L';

interface Env {
  code: number;
  message: string;
  data: {
    binary_data_base64: string[];
    image_urls: string[] | null;
    rephraser_result: string;
    llm_result: string;
    infer_ctx: { params: Record<string, unknown> };
  } | null;
}

describe('pipeline stages through the gateway', () => {
  let server: RunningServer;
  const call = async (body: Record<string, unknown>): Promise<{ status: number; json: Env }> => {
    const text = JSON.stringify({ req_key: REQ_KEY, ...body });
    const { headers } = signRequest({ accessKeyId: TEST_AK, secretAccessKey: TEST_SK, region: 'cn-north-1', service: 'cv' }, { method: 'POST', path: '/', rawQuery: Q, body: text }, new Date());
    const res = await fetch(`${server.url}/?${Q}`, { method: 'POST', headers, body: text });
    return { status: res.status, json: (await res.json()) as Env };
  };
  const png = (env: Env): Buffer => Buffer.from(env.data!.binary_data_base64[0]!, 'base64');

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  test('a risky prompt gets 50412 before the engine runs, without echoing the words', async () => {
    const metricsBefore = await (await fetch(`${server.url}/metrics`)).text();
    const unetRuns = (m: string): number => Number(/mengtu_engine_seconds_count\{phase="unet"\} (\d+)/.exec(m)?.[1] ?? 0);
    const { status, json } = await call({ prompt: 'a poster of Ｐ Ｏ Ｒ Ｎ stars' });
    assert.equal(status, 400);
    assert.equal(json.code, 50412);
    assert.equal(json.message, 'Text Risk Not Pass');
    assert.equal(json.data, null);
    assert.doesNotMatch(JSON.stringify(json), /porn/i);
    const metricsAfter = await (await fetch(`${server.url}/metrics`)).text();
    assert.equal(unetRuns(metricsAfter), unetRuns(metricsBefore));
  });

  test('use_pre_llm expands the prompt the model sees (quoted text left to typography); false leaves rephraser empty', async () => {
    const prompt = '一张海报，画面上方有红色文字写着：“新年快乐”';
    const on = await call({ prompt, seed: 1, width: 256, height: 256, use_sr: false });
    assert.equal(on.json.code, 10000);
    const rephrased = on.json.data!.rephraser_result;
    assert.match(rephrased, /^a poster\b.*blank space.*, poster layout/, rephrased);
    assert.doesNotMatch(rephrased, /新年快乐/, 'the literal text is drawn, not painted by the model');
    assert.doesNotMatch(rephrased, /\p{Script=Han}/u, 'the English-only text encoder gets English');
    assert.equal(on.json.data!.llm_result, on.json.data!.rephraser_result);
    const p = on.json.data!.infer_ctx.params;
    assert.equal(p.use_pre_llm, true);
    assert.match(String(p.translate_prompt), /^a poster/);
    assert.equal(p.ori_prompt, prompt);
    assert.match(String(p.negative_prompt), /text|letters/);
    const off = await call({ prompt, seed: 1, width: 256, height: 256, use_sr: false, use_pre_llm: false });
    assert.equal(off.json.data!.rephraser_result, '');
    assert.equal(off.json.data!.infer_ctx.params.use_pre_llm, false);
  });

  test('quoted text is drawn onto the image where the prompt says', async () => {
    const base = { seed: 11, width: 512, height: 512, use_sr: false };
    const withText = await call({ ...base, prompt: 'a quiet beach, the title "SUMMER" in white at the top' });
    const without = await call({ ...base, prompt: 'a quiet beach' });
    const a = await sharp(png(withText.json)).raw().toBuffer({ resolveWithObject: true });
    const b = await sharp(png(without.json)).raw().toBuffer({ resolveWithObject: true });
    // Compare how much the top third and the bottom third differ from the text-free render.
    const diff = (y0: number, y1: number): number => {
      let d = 0;
      for (let y = y0; y < y1; y++) for (let x = 0; x < 512; x++) {
        const i = (y * 512 + x) * a.info.channels;
        d += Math.abs(a.data[i]! - b.data[i]!);
      }
      return d;
    };
    // Both images come from different model prompts, so measure the text layer by white coverage instead.
    const whiteShare = (buf: Buffer, ch: number, y0: number, y1: number): number => {
      let n = 0;
      for (let y = y0; y < y1; y++) for (let x = 0; x < 512; x++) {
        const i = (y * 512 + x) * ch;
        if (buf[i]! > 235 && buf[i + 1]! > 235 && buf[i + 2]! > 235) n++;
      }
      return n / ((y1 - y0) * 512);
    };
    assert.ok(whiteShare(a.data, a.info.channels, 0, 170) > whiteShare(b.data, b.info.channels, 0, 170) + 0.01, 'white title at the top');
    assert.ok(diff(0, 170) > 0);
  });

  test('logo_info draws a mark in the requested corner only', async () => {
    const base = { prompt: 'a field of flowers', seed: 5, width: 256, height: 256, use_sr: false };
    const plain = await sharp(png((await call(base)).json)).raw().toBuffer();
    const marked = await sharp(png((await call({ ...base, logo_info: { add_logo: true, position: 2, language: 1, opacity: 1 } })).json)).raw().toBuffer();
    const cornerDiff = (x0: number, y0: number): number => {
      let d = 0;
      for (let y = y0; y < y0 + 40; y++) for (let x = x0; x < x0 + 120; x++) {
        const i = (y * 256 + x) * 3;
        d += Math.abs(plain[i]! - marked[i]!);
      }
      return d;
    };
    assert.ok(cornerDiff(0, 0) > 1000, 'top-left carries the mark');
    assert.equal(cornerDiff(136, 216), 0, 'bottom-right untouched');
  });

  test('every image carries the implicit AI label', async () => {
    const { json } = await call({ prompt: 'a kite', seed: 2, width: 256, height: 256, use_sr: false });
    const chunks = readPngTextChunks(png(json));
    assert.match(chunks['XML:com.adobe.xmp'] ?? '', /trainedAlgorithmicMedia/);
    assert.ok(chunks.AIGC, 'AIGC chunk');
  });

  test('return_url gives a signed, expiring URL the gateway serves; an altered one is refused', async () => {
    const { json } = await call({ prompt: 'a red kite', seed: 3, width: 256, height: 256, use_sr: false, return_url: true });
    assert.equal(json.code, 10000);
    assert.deepEqual(json.data!.binary_data_base64, []);
    const url = json.data!.image_urls![0]!;
    assert.ok(url.startsWith(server.url + '/images/'), url);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.match(res.headers.get('cache-control') ?? '', /max-age=\d+/);
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    assert.equal(meta.width, 256);
    const altered = url.replace(/sig=([0-9a-f])/, (_m, c: string) => `sig=${c === '0' ? '1' : '0'}`);
    assert.equal((await fetch(altered)).status, 403);
    const traversal = await fetch(`${server.url}/images/..%2f..%2fkeys.json?expires=9999999999&sig=00`);
    assert.notEqual(traversal.status, 200);
  });
});

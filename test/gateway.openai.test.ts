/** The OpenAI Images API, driven by the official `openai` npm client, unchanged, against a real tiny-model server. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import sharp from 'sharp';
import type { RunningServer } from '../src/runtime/server.js';
import { startTestServer, TEST_AK, TEST_SK } from './helpers/server.js';

let server: RunningServer;
let client: OpenAI;

before(async () => {
  server = await startTestServer();
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: `${TEST_AK}:${TEST_SK}`, maxRetries: 0, timeout: 120_000 });
});
after(async () => {
  await server.close();
});

describe('OpenAI Images API with the official client', () => {
  it('b64_json: a PNG of the asked size carrying the AI label; the same seed gives the same pixels', async () => {
    const res = await client.images.generate({ model: 'tiny', prompt: 'a lighthouse at dusk', size: '256x256', response_format: 'b64_json', seed: 5 } as OpenAI.ImageGenerateParamsNonStreaming);
    assert.equal(res.data?.length, 1);
    const png = Buffer.from(res.data![0]!.b64_json!, 'base64');
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 256, 256]);
    assert.match(png.toString('latin1'), /trainedAlgorithmicMedia/, 'the AI label is in the file');
    const again = await client.images.generate({ model: 'tiny', prompt: 'a lighthouse at dusk', size: '256x256', response_format: 'b64_json', seed: 5 } as OpenAI.ImageGenerateParamsNonStreaming);
    // Pixels, not bytes: the label carries the creation time.
    const pixels = async (b64: string): Promise<Buffer> => sharp(Buffer.from(b64, 'base64')).raw().toBuffer();
    assert.ok((await pixels(again.data![0]!.b64_json!)).equals(await pixels(res.data![0]!.b64_json!)), 'same seed, same pixels');
  });

  it('url: n=2 gives two fetchable images with consecutive seeds (different pictures)', async () => {
    const res = await client.images.generate({ model: 'dall-e-2', prompt: 'two cats', n: 2, size: '512x512', response_format: 'url', seed: 11 } as OpenAI.ImageGenerateParamsNonStreaming);
    assert.equal(res.data?.length, 2);
    const bodies = await Promise.all(
      res.data!.map(async (d) => {
        assert.ok(d.url?.startsWith(server.url), String(d.url));
        const r = await fetch(d.url!);
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('content-type'), 'image/png');
        return Buffer.from(await r.arrayBuffer());
      }),
    );
    assert.ok(!bodies[0]!.equals(bodies[1]!), 'two different pictures');
    assert.equal((await sharp(bodies[0]!).metadata()).width, 512);
  });

  it('1024x1024 renders at 512 and doubles with super-resolution; output_format jpeg and webp keep the label', async () => {
    const jpeg = await client.images.generate({ prompt: 'a red kite', size: '1024x1024', response_format: 'b64_json', output_format: 'jpeg', seed: 3 } as OpenAI.ImageGenerateParamsNonStreaming);
    const jbuf = Buffer.from(jpeg.data![0]!.b64_json!, 'base64');
    const jm = await sharp(jbuf).metadata();
    assert.deepEqual([jm.format, jm.width, jm.height], ['jpeg', 1024, 1024]);
    assert.match(jm.xmp?.toString() ?? '', /trainedAlgorithmicMedia/);
    const webp = await client.images.generate({ prompt: 'a red kite', size: '256x256', response_format: 'url', output_format: 'webp', seed: 3 } as OpenAI.ImageGenerateParamsNonStreaming);
    const r = await fetch(webp.data![0]!.url!);
    assert.equal(r.headers.get('content-type'), 'image/webp');
    assert.equal((await sharp(Buffer.from(await r.arrayBuffer())).metadata()).format, 'webp');
  });

  it('models lists the served model', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.ok(ids.includes('tiny') && ids.includes('jimeng_high_aes_general_v21_L'), ids.join());
  });

  it('errors come in OpenAI\'s shape with the matching status', async () => {
    const bad = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: `${TEST_AK}:wrong`, maxRetries: 0 });
    await assert.rejects(bad.images.generate({ prompt: 'x', size: '256x256' }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.AuthenticationError);
      assert.equal(e.status, 401);
      assert.equal((e.error as { code: string }).code, 'invalid_api_key');
      return true;
    });
    await assert.rejects(client.images.generate({ prompt: 'x', n: 5 }), (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'n');
    await assert.rejects(client.images.generate({ prompt: 'x', size: '300x20' as '256x256' }), (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'size');
    await assert.rejects(client.images.generate({ prompt: 'x', model: 'sdxl-unknown' }), (e: unknown) => e instanceof OpenAI.NotFoundError && (e.error as { code: string }).code === 'model_not_found');
    // The text-risk stage runs as for CVProcess: a refused prompt is a content-policy error carrying the Volcengine code.
    await assert.rejects(client.images.generate({ prompt: 'a poster of Ｐ Ｏ Ｒ Ｎ stars', size: '256x256', response_format: 'b64_json' }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.BadRequestError);
      assert.equal((e.error as { code: string }).code, 'content_policy_violation');
      assert.match(e.message, /5041[23]/);
      return true;
    });
  });
});

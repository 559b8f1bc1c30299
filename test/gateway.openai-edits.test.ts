/** OpenAI `POST /v1/images/edits` (multipart), driven by the official `openai` npm client against a real tiny-model server. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI, { toFile } from 'openai';
import sharp from 'sharp';
import type { RunningServer } from '../src/runtime/server.js';
import { gradientPng, meanDiff } from './helpers/pictures.js';
import { startTestServer, TEST_AK, TEST_SK } from './helpers/server.js';

let server: RunningServer;
let client: OpenAI;
let input: Buffer;

const FLAGGED = path.join(import.meta.dirname, 'fixtures', 'image-risk-flagged.png');

type EditParams = OpenAI.ImageEditParamsNonStreaming & Record<string, unknown>;
const edit = async (params: Partial<EditParams>): Promise<OpenAI.ImagesResponse> =>
  client.images.edit({ image: await toFile(input, 'input.png', { type: 'image/png' }), prompt: 'a watercolor landscape', response_format: 'b64_json', ...params } as EditParams);

before(async () => {
  input = await gradientPng(320, 240);
  server = await startTestServer();
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: `${TEST_AK}:${TEST_SK}`, maxRetries: 0, timeout: 120_000 });
});
after(async () => {
  await server.close();
});

describe('OpenAI image edits with the official client', () => {
  it('size auto keeps the input\'s size; strength 0 gives back the input, more moves away; the same seed, the same pixels', async () => {
    const diffs: number[] = [];
    for (const strength of [0, 0.5, 1]) {
      const res = await edit({ seed: 9, strength });
      assert.equal(res.data?.length, 1);
      assert.equal(res.size, '320x240');
      const png = Buffer.from(res.data![0]!.b64_json!, 'base64');
      const meta = await sharp(png).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 320, 240]);
      assert.match(png.toString('latin1'), /trainedAlgorithmicMedia/, 'the AI label is in the file');
      diffs.push(await meanDiff(png, input, 320, 240));
    }
    assert.ok(diffs[0]! < 20 && diffs[0]! < diffs[1]! && diffs[1]! < diffs[2]!, diffs.map((d) => d.toFixed(1)).join(' < '));
    const a = await edit({ seed: 9, strength: 0.5 });
    const b = await edit({ seed: 9, strength: 0.5 });
    const pixels = async (r: OpenAI.ImagesResponse): Promise<Buffer> => sharp(Buffer.from(r.data![0]!.b64_json!, 'base64')).raw().toBuffer();
    assert.ok((await pixels(a)).equals(await pixels(b)));
  });

  it('size and n: two 512×512 pictures with consecutive seeds, fetched by URL', async () => {
    const res = await edit({ size: '512x512', n: 2, response_format: 'url', seed: 4 });
    assert.equal(res.data?.length, 2);
    const bodies = await Promise.all(res.data!.map(async (d) => Buffer.from(await (await fetch(d.url!)).arrayBuffer())));
    for (const b of bodies) assert.deepEqual([(await sharp(b).metadata()).width, (await sharp(b).metadata()).height], [512, 512]);
    assert.ok(!bodies[0]!.equals(bodies[1]!));
  });

  it('refusals in OpenAI\'s shape: mask unsupported, no image, a risky input picture (50411), a risky prompt, a bad size', async () => {
    const refused = async (p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> => {
      try {
        await p;
      } catch (err) {
        assert.ok(err instanceof OpenAI.APIError, String(err));
        return err;
      }
      assert.fail('expected a refusal');
    };
    const mask = await refused(edit({ mask: await toFile(input, 'mask.png', { type: 'image/png' }) }));
    assert.deepEqual([mask.status, (mask.error as { param?: string }).param, mask.code], [400, 'mask', 'unsupported_parameter']);
    const none = await refused(client.images.edit({ prompt: 'x' } as unknown as EditParams));
    assert.equal(none.status, 400);
    const risky = await refused(client.images.edit({ image: await toFile(await readFile(FLAGGED), 'x.png', { type: 'image/png' }), prompt: 'a portrait', response_format: 'b64_json' } as EditParams));
    assert.equal(risky.status, 400);
    assert.match(risky.message, /50411 Pre Img Risk Not Pass/);
    const words = await refused(edit({ prompt: 'a poster of Ｐ Ｏ Ｒ Ｎ stars' }));
    assert.deepEqual([words.status, words.code], [400, 'content_policy_violation']);
    const size = await refused(edit({ size: '100x100' as EditParams['size'] }));
    assert.equal(size.status, 400);
    assert.match(size.message, /width must be in \[512, 1536\]/);
  });
});

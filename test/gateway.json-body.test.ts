/**
 * Answers with pictures are written as bounded chunks (src/gateway/json-body.ts) instead of one multi-MB
 * string. The official SDKs parse these bytes, so they must be exactly JSON.stringify's of the same envelope:
 * same key order, same escaping, Content-Length equal to what is sent. On a real server: the picture's base64
 * is never made as one string on the event loop, no write is larger than a chunk, the PNG is encoded on a
 * drawing thread, and the SSE `done` event of a task carries the same bytes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { Base64Bytes } from '../src/contract/base64.js';
import { REQ_KEY_V21 } from '../src/contract/cvprocess.js';
import { buildCVProcessData, type EchoedJob } from '../src/contract/response.js';
import { cvEnvelope } from '../src/gateway/envelope.js';
import { chunkedJson, JSON_CHUNK_BYTES } from '../src/gateway/json-body.js';
import { readPngTextChunks } from '../src/pipeline/encode/index.js';
import type { RunningServer } from '../src/runtime/server.js';
import { startTestServer, TEST_AK, TEST_SK } from './helpers/server.js';
import { send, signedHeaders } from './helpers/wire.js';

const job = (prompt: string): EchoedJob => ({
  requestId: '20261202064800ABCDEF0123456789ABCD',
  request: { req_key: REQ_KEY_V21, prompt, width: 1024, height: 1024, use_sr: true, use_pre_llm: false, scale: 3.5 },
  seed: 42,
  steps: 25,
  guidanceScale: 3.5,
  negativePrompt: 'blurry, 低质量',
  rewrittenPrompt: `${prompt} — "quoted" \\ back\\slash, tab\t, nl\n, \u2028 \u{1F3A8}`,
  translatedPrompt: 'a poster',
  outputWidth: 2048,
  outputHeight: 2048,
  srStrength: 0.4,
  srMethod: 'esrgan-slim',
});

/** Everything the chunks say, joined, and every chunk's size. */
function collect(value: unknown, maxChunk?: number): { bytes: Buffer; sizes: number[]; declared: number } | null {
  const body = chunkedJson(value, maxChunk);
  if (!body) return null;
  const chunks = [...body.chunks()];
  return { bytes: Buffer.concat(chunks), sizes: chunks.map((c) => c.length), declared: body.byteLength };
}

describe('chunked JSON answers: the bytes JSON.stringify gives', () => {
  // Lengths around multiples of 3 and of a slice (48 KiB of bytes per 64 KiB chunk), an empty picture, a large one.
  const pictures = [randomBytes(1), randomBytes(49_152), randomBytes(49_153 * 3 + 2), randomBytes(0), randomBytes(3_000_001)];
  const prompt = '海报：“春日市集” 标题，副标题 "Spring Market" ½ — émoji 🌸 and a lone surrogate \ud800 end';

  for (let n = 1; n <= 4; n++) {
    test(`CVProcess envelope with ${n} picture(s), non-ASCII strings: same bytes, right Content-Length, bounded chunks`, () => {
      const data = buildCVProcessData(job(prompt), {
        base64: pictures.slice(0, n).map((b) => new Base64Bytes(b)),
        urls: null,
        appKey: 'AKLT中文key',
        createdAt: new Date('2026-12-02T06:48:00Z'),
      });
      const envelope = cvEnvelope(10000, 'Success', data, data.request_id, process.hrtime.bigint());
      const expected = Buffer.from(JSON.stringify(envelope), 'utf8');
      for (const max of [JSON_CHUNK_BYTES, 100]) {
        const got = collect(envelope, max)!;
        assert.ok(got, 'an envelope with pictures is chunked');
        assert.equal(got.declared, expected.length, 'Content-Length is the byte length');
        assert.ok(got.bytes.equals(expected), `chunk size ${max}: the bytes differ from JSON.stringify's`);
        assert.ok(Math.max(...got.sizes) <= max, `a chunk of ${Math.max(...got.sizes)} bytes is over ${max}`);
      }
      // The pictures come back out of the JSON.
      const parsed = JSON.parse(expected.toString('utf8')) as { data: { binary_data_base64: string[] } };
      assert.deepEqual(parsed.data.binary_data_base64.map((s) => Buffer.from(s, 'base64')), pictures.slice(0, n));
    });
  }

  test('return_url mode (no picture bytes) and small answers go the usual way', () => {
    const data = buildCVProcessData(job(prompt), { base64: [] as Base64Bytes[], urls: ['https://img.example/a.png?x=1&y=2'], appKey: 'ak', createdAt: new Date() });
    assert.equal(chunkedJson(cvEnvelope(10000, 'Success', data, 'r', process.hrtime.bigint())), null);
    assert.equal(chunkedJson({ task_id: '123' }), null);
  });

  test("JSON.stringify's rules elsewhere in the value: undefined, functions, toJSON, null prototypes, nested arrays", () => {
    const value = {
      a: undefined,
      b: [undefined, () => 1, Symbol('s'), new Base64Bytes(Buffer.from('hello')), [new Base64Bytes(Buffer.alloc(5))]],
      when: new Date('2026-01-02T03:04:05.678Z'),
      10: 'integer keys first',
      nested: Object.assign(Object.create(null) as object, { x: new Base64Bytes(Buffer.from([255, 254])), f: () => 2, y: null }),
      map: new Map([[1, 2]]),
      num: -0,
      nan: Number.NaN,
      last: 'ünïcödé',
    };
    const got = collect(value, 8)!;
    const expected = Buffer.from(JSON.stringify(value), 'utf8');
    assert.equal(got.bytes.toString('utf8'), expected.toString('utf8'));
    assert.equal(got.declared, expected.length);
  });
});

describe('chunked JSON answers on a server', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({ safety: { imageRisk: false } });
  });
  after(async () => server?.close());

  /** Watches every server response write during `fn`; counts whole-picture base64 (Base64Bytes.toJSON) calls. */
  async function watched<T>(fn: () => Promise<T>): Promise<{ result: T; writes: number[]; wholeBase64: number }> {
    const writes: number[] = [];
    let wholeBase64 = 0;
    const proto = http.ServerResponse.prototype as unknown as { write: (...a: unknown[]) => boolean; end: (...a: unknown[]) => unknown };
    const { write, end } = proto;
    const { toJSON } = Base64Bytes.prototype;
    const size = (c: unknown): number => (typeof c === 'string' ? Buffer.byteLength(c) : c instanceof Uint8Array ? c.length : 0);
    proto.write = function (this: unknown, ...a: unknown[]) {
      writes.push(size(a[0]));
      return write.apply(this, a);
    };
    proto.end = function (this: unknown, ...a: unknown[]) {
      if (typeof a[0] !== 'function') writes.push(size(a[0]));
      return end.apply(this, a);
    };
    Base64Bytes.prototype.toJSON = function (this: Base64Bytes) {
      wholeBase64++;
      return toJSON.call(this);
    };
    try {
      return { result: await fn(), writes, wholeBase64 };
    } finally {
      proto.write = write;
      proto.end = end;
      Base64Bytes.prototype.toJSON = toJSON;
    }
  }

  const call = (action: string, body: object) =>
    send(server.url, { ak: TEST_AK, sk: TEST_SK }, { rawQuery: `Action=${action}&Version=2022-08-31`, body: Buffer.from(JSON.stringify(body)), headers: { 'Content-Type': 'application/json' } });

  test('CVProcess: streamed in chunks, Content-Length right, bytes as JSON.stringify, PNG encoded on a drawing thread', async () => {
    const pool = server.runtime.deps.cpuPool!;
    const encoded = pool.completed.encode;
    const { result: res, writes, wholeBase64 } = await watched(() =>
      call('CVProcess', { req_key: REQ_KEY_V21, prompt: '一只猫 “你好” poster', width: 512, height: 512, use_sr: false, seed: 7 }),
    );
    assert.equal(res.status, 200, res.text.slice(0, 200));
    assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.text), 'Content-Length is what was sent');
    assert.match(String(res.headers['content-type']), /^application\/json; charset=utf-8$/);
    assert.equal(res.headers['transfer-encoding'], undefined, 'a known length, not chunked transfer encoding');
    const env = JSON.parse(res.text) as { code: number; time_elapsed: string; data: { binary_data_base64: string[] } };
    assert.equal(env.code, 10000);
    assert.equal(JSON.stringify(env), res.text, 'the bytes JSON.stringify would give');
    assert.match(env.time_elapsed, /^\d+(\.\d+)?(ms|s|µs)$/);
    const png = Buffer.from(env.data.binary_data_base64[0]!, 'base64');
    assert.equal((await sharp(png).metadata()).width, 512);
    assert.match(readPngTextChunks(png).AIGC ?? '', /"Label":"1"/, 'the AI label is in the file');
    assert.equal(pool.completed.encode, encoded + 1, 'the PNG was encoded on a drawing thread');
    assert.equal(wholeBase64, 0, 'no base64 of a whole picture on the event loop');
    assert.ok(writes.length > Math.ceil(png.length / 49_152), `written in ${writes.length} pieces`);
    assert.ok(Math.max(...writes) <= JSON_CHUNK_BYTES, `a write of ${Math.max(...writes)} bytes`);
  });

  test('a caller that hangs up mid-answer: the stream stops, the server goes on', async () => {
    const body = Buffer.from(JSON.stringify({ req_key: REQ_KEY_V21, prompt: 'a red kite', width: 512, height: 512, use_sr: false, seed: 5 }));
    const rawQuery = 'Action=CVProcess&Version=2022-08-31';
    const headers = { ...signedHeaders({ ak: TEST_AK, sk: TEST_SK }, { rawQuery, body }), 'Content-Type': 'application/json', 'Content-Length': String(body.length) };
    const url = new URL(server.url);
    const got = await new Promise<{ declared: number; received: number }>((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, method: 'POST', path: `/?${rawQuery}`, headers, agent: false }, (res) => {
        res.once('data', (c: Buffer) => {
          // Gone after the first chunk: the rest of the picture is never made into base64.
          req.destroy();
          resolve({ declared: Number(res.headers['content-length']), received: c.length });
        });
        res.on('error', () => undefined);
      });
      req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
      req.end(body);
    });
    assert.ok(got.received < got.declared, `hung up after ${got.received} of ${got.declared} bytes`);
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    const next = await call('CVProcess', { req_key: REQ_KEY_V21, prompt: 'a red kite', width: 256, height: 256, use_sr: false, seed: 6 });
    assert.equal(next.status, 200);
    assert.equal(Number(next.headers['content-length']), Buffer.byteLength(next.text));
  });

  test('GetResult and the task SSE stream: the same chunked bytes', async () => {
    const submitted = JSON.parse((await call('CVSync2AsyncSubmitTask', { req_key: REQ_KEY_V21, prompt: 'a lighthouse', width: 256, height: 256, seed: 3 })).text) as { data: { task_id: string } };
    const id = submitted.data.task_id;
    let res;
    for (let i = 0; i < 600; i++) {
      res = await call('CVSync2AsyncGetResult', { req_key: REQ_KEY_V21, task_id: id });
      if ((JSON.parse(res.text) as { data: { status: string } }).data.status === 'done') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const { result: got, writes, wholeBase64 } = await watched(() => call('CVSync2AsyncGetResult', { req_key: REQ_KEY_V21, task_id: id }));
    assert.equal(Number(got.headers['content-length']), Buffer.byteLength(got.text));
    const env = JSON.parse(got.text) as { data: { status: string; binary_data_base64: string[] } };
    assert.equal(env.data.status, 'done');
    assert.equal(env.data.binary_data_base64.length, 1);
    assert.equal(JSON.stringify(env), got.text);
    assert.equal(wholeBase64, 0);
    assert.ok(Math.max(...writes) <= JSON_CHUNK_BYTES);

    // The SSE stream of the finished task ends with `done` carrying the GetResult envelope.
    const path = `/v1/tasks/${id}/events`;
    const headers = signedHeaders({ ak: TEST_AK, sk: TEST_SK }, { method: 'GET', path, rawQuery: '', body: Buffer.alloc(0) });
    const sse = await (await fetch(`${server.url}${path}`, { headers })).text();
    const m = /event: done\ndata: (.*)\n\n$/.exec(sse);
    assert.ok(m, sse.slice(-200));
    const done = JSON.parse(m[1]!) as { code: number; data: { binary_data_base64: string[] } };
    assert.equal(JSON.stringify(done), m[1]);
    assert.equal(done.code, 10000);
    // The same picture (the files differ in the label's creation time).
    const pixels = async (b64: string) => (await sharp(Buffer.from(b64, 'base64')).raw().toBuffer()).toString('base64');
    assert.equal(await pixels(done.data.binary_data_base64[0]!), await pixels(env.data.binary_data_base64[0]!));
  });
});

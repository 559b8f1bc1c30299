/**
 * The gateway against hostile or unlucky clients: a body sent at 1 byte/s is cut, an oversized body always
 * gets its 413/50213 answer (no broken connection), paths and framing errors outside the API answer in the
 * OpenAPI envelope.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { RunningServer } from '../src/runtime/server.js';
import { startTestServer, TEST_AK, TEST_SK } from './helpers/server.js';
import { classify, send, signedHeaders } from './helpers/wire.js';

let server: RunningServer;
let port = 0;
before(async () => {
  server = await startTestServer({ safety: { imageRisk: false }, sr: { mode: 'lanczos' }, server: { requestTimeoutMs: 2000, headersTimeoutMs: 1500 } });
  port = Number(new URL(server.url).port);
});
after(async () => server?.close());

/** Opens a raw connection, writes `head`, then one byte of body every `everyMs`; resolves with what came back. */
function trickle(head: string, everyMs: number, maxMs: number): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (text += d));
    sock.on('error', () => undefined);
    const timer = setInterval(() => {
      if (Date.now() - t0 > maxMs) sock.destroy();
      else if (sock.writable) sock.write('{');
    }, everyMs);
    sock.on('close', () => {
      clearInterval(timer);
      resolve({ text, closedAfterMs: Date.now() - t0 });
    });
    sock.write(head);
  });
}

function bodyOf(raw: string): unknown {
  return JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
}

describe('deadlines', () => {
  test('a body sent at 1 byte/s is cut at the request deadline with 408 in the OpenAPI envelope', async () => {
    const head = `POST /?Action=CVProcess&Version=2022-08-31 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
    // Without a deadline the connection would stay open for the whole 30 s the client is willing to wait.
    const r = await trickle(head, 1000, 30_000);
    assert.ok(r.closedAfterMs < 25_000, `connection still open after ${r.closedAfterMs} ms`);
    assert.match(r.text, /^HTTP\/1\.1 408/);
    const env = bodyOf(r.text) as { ResponseMetadata: { Error: { Code: string } } };
    assert.equal(env.ResponseMetadata.Error.Code, 'RequestTimeout');
  });

  test('headers sent slowly are cut at the headers deadline', async () => {
    const r = await trickle('POST /?Action=CVProcess HTTP/1.1\r\nX-Slow: ', 500, 30_000);
    assert.ok(r.closedAfterMs < 25_000, `connection still open after ${r.closedAfterMs} ms`);
    assert.match(r.text, /^HTTP\/1\.1 408/);
  });
});

describe('oversized bodies', () => {
  test('100 uploads of 5 MB with fetch all read the 413 / 50213 answer (no broken connection)', { timeout: 300_000 }, async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 0x61);
    let broken = 0;
    const failures: string[] = [];
    for (let i = 0; i < 100; i++) {
      try {
        const res = await fetch(`${server.url}/?Action=CVProcess&Version=2022-08-31`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: big });
        const json = (await res.json()) as { code: number };
        assert.equal(res.status, 413);
        assert.equal(json.code, 50213);
      } catch (err) {
        broken++;
        if (failures.length < 3) failures.push(String((err as Error).cause ?? err));
      }
    }
    assert.equal(broken, 0, `broken connections: ${failures.join('; ')}`);
    // The server is still fine afterwards.
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  test('a signed oversized body without Content-Length (chunked) also gets 50213', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 0x62);
    const res = await fetch(`${server.url}/?Action=CVProcess&Version=2022-08-31`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...signedHeaders({ ak: TEST_AK, sk: TEST_SK }, { rawQuery: 'Action=CVProcess&Version=2022-08-31', body: big }) },
      body: new ReadableStream({ start(c) { c.enqueue(big); c.close(); } }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { code: number }).code, 50213);
  });
});

describe('answers outside the API', () => {
  test('unknown paths and methods: 404 InvalidActionOrVersion in the OpenAPI envelope', async () => {
    for (const [method, path] of [['GET', '/nope'], ['POST', '/x?Action=CVProcess&Version=2022-08-31'], ['PUT', '/?Action=CVProcess&Version=2022-08-31'], ['DELETE', '/']] as const) {
      const res = await send(server.url, { ak: TEST_AK, sk: TEST_SK }, { method, path: path.split('?')[0], rawQuery: path.split('?')[1] ?? '', body: Buffer.alloc(0) });
      const env = classify(res);
      assert.deepEqual(env, { kind: 'openapi', code: 'InvalidActionOrVersion', http: 404 }, `${method} ${path}`);
    }
    const echoed = JSON.parse((await send(server.url, { ak: TEST_AK, sk: TEST_SK }, { method: 'GET', path: '/v', rawQuery: 'Action=A&Version=V', body: Buffer.alloc(0) })).text) as { ResponseMetadata: { Action: string; Version: string } };
    assert.deepEqual([echoed.ResponseMetadata.Action, echoed.ResponseMetadata.Version], ['A', 'V']);
  });

  test('a malformed URL and broken HTTP framing answer in the OpenAPI envelope', async () => {
    const badUrl = await send(server.url, { ak: TEST_AK, sk: TEST_SK }, { path: '/%zz', rawQuery: 'Action=CVProcess&Version=2022-08-31', body: Buffer.from('{}') });
    assert.deepEqual(classify(badUrl), { kind: 'openapi', code: 'InvalidRequest', http: 400 });
    const raw = async (bytes: string): Promise<string> =>
      new Promise((resolve) => {
        const sock = net.connect(port, '127.0.0.1');
        let text = '';
        sock.setEncoding('utf8');
        sock.on('data', (d: string) => (text += d));
        sock.on('error', () => undefined);
        sock.on('close', () => resolve(text));
        sock.end(bytes);
      });
    const framing = await raw('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    assert.match(framing, /^HTTP\/1\.1 400/);
    assert.equal((bodyOf(framing) as { ResponseMetadata: { Error: { Code: string } } }).ResponseMetadata.Error.Code, 'InvalidRequest');
    const huge = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.match(huge, /^HTTP\/1\.1 431/);
    assert.equal((bodyOf(huge) as { ResponseMetadata: { Error: { Code: string } } }).ResponseMetadata.Error.Code, 'RequestHeaderFieldsTooLarge');
  });
});

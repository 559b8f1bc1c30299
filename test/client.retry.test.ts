/** The SDK retries 50429/50430/50500/50501 with backoff and gives up at once on everything else. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MengtuApiError, MengtuClient, MengtuGatewayError } from '../src/client/index.js';

async function fakeServer(answers: Array<{ status: number; body: unknown }>): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const a = answers[Math.min(n, answers.length - 1)]!;
      n++;
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => n,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const err = (code: number, status: number) => ({ status, body: { code, message: 'x', data: null, request_id: 'r', status: code, time_elapsed: '1ms' } });
const ok = { status: 200, body: { code: 10000, message: 'Success', data: { binary_data_base64: ['aGk='] }, request_id: 'r', status: 10000, time_elapsed: '1ms' } };

test('retries 50429, 50430, 50500 and 50501 then succeeds', async () => {
  const s = await fakeServer([err(50429, 429), err(50430, 429), err(50500, 500), err(50501, 500), ok]);
  try {
    const c = new MengtuClient({ endpoint: s.url, accessKeyId: 'a', secretAccessKey: 'b', retries: 4, backoffMs: 5 });
    const res = await c.cvProcess({ prompt: 'x' });
    assert.equal(res.code, 10000);
    assert.equal(s.hits(), 5);
  } finally {
    await s.close();
  }
});

test('gives up after the configured retries with the last typed error', async () => {
  const s = await fakeServer([err(50429, 429)]);
  try {
    const c = new MengtuClient({ endpoint: s.url, accessKeyId: 'a', secretAccessKey: 'b', retries: 2, backoffMs: 5 });
    await assert.rejects(c.cvProcess({ prompt: 'x' }), (e: unknown) => e instanceof MengtuApiError && e.code === 50429 && e.retryable);
    assert.equal(s.hits(), 3);
  } finally {
    await s.close();
  }
});

test('no retry for validation or gateway errors', async () => {
  const s = await fakeServer([err(50200, 400)]);
  const g = await fakeServer([{ status: 401, body: { ResponseMetadata: { RequestId: 'r', Error: { Code: 'SignatureDoesNotMatch', CodeN: 100010, Message: 'm' } } } }]);
  try {
    await assert.rejects(new MengtuClient({ endpoint: s.url, accessKeyId: 'a', secretAccessKey: 'b', backoffMs: 5 }).cvProcess({ prompt: 'x' }), (e: unknown) => e instanceof MengtuApiError && e.code === 50200);
    assert.equal(s.hits(), 1);
    await assert.rejects(new MengtuClient({ endpoint: g.url, accessKeyId: 'a', secretAccessKey: 'b', backoffMs: 5 }).cvProcess({ prompt: 'x' }), (e: unknown) => e instanceof MengtuGatewayError && e.codeN === 100010);
    assert.equal(g.hits(), 1);
  } finally {
    await s.close();
    await g.close();
  }
});

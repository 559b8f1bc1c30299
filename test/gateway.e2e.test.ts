/**
 * The gateway end to end on a real server with the tiny model: the official @volcengine/openapi Service
 * signs the calls; images come from real inference.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Service } from '@volcengine/openapi';
import sharp from 'sharp';
import { createHash } from 'node:crypto';
import { MengtuClient, MengtuApiError, MengtuGatewayError, signRequest } from '../src/client/index.js';
import type { RunningServer } from '../src/runtime/server.js';
import { startTestServer, TEST_AK, TEST_SK } from './helpers/server.js';

/** The official SDK's calls with a 120 s timeout instead of its 10 s default: a loaded CI machine is slow, not wrong. */
// (Its params type asks for an Action the SDK fills in itself, hence the cast.)
const withTimeout = <D, R>(api: (data: D, params: never) => R) => (data: D): R => api(data, { timeout: 120_000 } as never);

function officialService(server: RunningServer, secretKey = TEST_SK): Service {
  const u = new URL(server.url);
  return new Service({
    serviceName: 'cv',
    region: 'cn-north-1',
    host: u.host,
    protocol: 'http:',
    defaultVersion: '2022-08-31',
    accessKeyId: TEST_AK,
    secretKey,
  });
}

async function signedFetch(server: RunningServer, rawQuery: string, body: string, secret = TEST_SK): Promise<Response> {
  const { headers } = signRequest(
    { accessKeyId: TEST_AK, secretAccessKey: secret, region: 'cn-north-1', service: 'cv' },
    { method: 'POST', path: '/', rawQuery, body },
    new Date(),
  );
  return fetch(`${server.url}/?${rawQuery}`, { method: 'POST', headers, body });
}

const Q = 'Action=CVProcess&Version=2022-08-31';
const REQ_KEY = 'jimeng_high_aes_general_v21_L';

describe('gateway on a real tiny-model server', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  test('the official @volcengine/openapi Service completes CVProcess and gets a real PNG', async () => {
    const call = withTimeout(officialService(server).createJSONAPI('CVProcess'));
    const res = (await call({ req_key: REQ_KEY, prompt: 'a red lantern over a quiet street', seed: 7, width: 256, height: 320 })) as unknown as {
      code: number; message: string; status: number; time_elapsed: string; request_id: string;
      data: { binary_data_base64: string[]; image_urls: null; infer_ctx: { params: Record<string, unknown>; algorithm_key: string; time_stamp: string }; algorithm_base_resp: { status_code: number; status_message: string }; [k: string]: unknown };
    };
    assert.equal(res.code, 10000, JSON.stringify(res).slice(0, 300));
    assert.equal(res.message, 'Success');
    assert.equal(res.status, 10000);
    assert.equal(typeof res.time_elapsed, 'string');
    assert.match(res.request_id, /^\d{14}[0-9A-F]{20}$/);
    const png = Buffer.from(res.data.binary_data_base64[0]!, 'base64');
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, 'png');
    assert.equal(meta.width, 512); // use_sr default → 2× the render size
    assert.equal(meta.height, 640);
    // A real render is not a flat fill.
    const stats = await sharp(png).stats();
    assert.ok(stats.channels.some((c) => c.stdev > 1), 'image has structure');
    const p = res.data.infer_ctx.params;
    assert.equal(p.seed, 7);
    assert.equal(p.width, 256);
    assert.equal(p.height, 320);
    assert.equal(p.output_width, 512);
    assert.equal(p.output_height, 640);
    assert.equal(p.use_sr, true);
    assert.equal(p.ori_prompt, 'a red lantern over a quiet street');
    assert.equal(typeof p.ddim_steps, 'number');
    assert.ok((p.ddim_steps as number) >= 1);
    assert.equal(res.data.image_urls, null);
    assert.equal(res.data.algorithm_base_resp.status_code, 0);
    assert.equal(res.data.infer_ctx.algorithm_key, REQ_KEY);
    assert.match(res.data.infer_ctx.time_stamp, /^\d{10}$/);
    for (const k of ['llm_result', 'pe_result', 'predict_tags_result', 'rephraser_result', 'request_id', 'vlm_result']) {
      assert.equal(typeof res.data[k], 'string', k);
    }
  });

  test('the same call with a wrong secret key is rejected with SignatureDoesNotMatch', async () => {
    const call = withTimeout(officialService(server, 'not-the-secret').createJSONAPI('CVProcess'));
    const res = (await call({ req_key: REQ_KEY, prompt: 'a cat' })) as unknown as { ResponseMetadata: { Error: { Code: string; CodeN: number }; Action: string; Version: string } };
    assert.equal(res.ResponseMetadata.Error.Code, 'SignatureDoesNotMatch');
    assert.equal(res.ResponseMetadata.Error.CodeN, 100010);
    assert.equal(res.ResponseMetadata.Action, 'CVProcess');
    assert.equal(res.ResponseMetadata.Version, '2022-08-31');
  });

  test('same seed and parameters → identical pixels; seed -1 echoes the seed used', async () => {
    // PNG bytes differ per request only by the AI label's request id; the pixels must not differ at all.
    const pixels = async (b: Record<string, unknown>): Promise<string> => {
      const json = (await (await signedFetch(server, Q, JSON.stringify(b))).json()) as { data: { binary_data_base64: string[] } };
      const raw = await sharp(Buffer.from(json.data.binary_data_base64[0]!, 'base64')).raw().toBuffer();
      return createHash('sha256').update(raw).digest('hex');
    };
    const body = { req_key: REQ_KEY, prompt: 'mountains at dawn', seed: 1234, width: 256, height: 256, use_sr: false };
    const a = await pixels(body);
    assert.equal(await pixels(body), a);
    assert.notEqual(await pixels({ ...body, seed: 1235 }), a);
    const r = await (await signedFetch(server, Q, JSON.stringify({ ...body, seed: -1 }))).json() as { data: { infer_ctx: { params: { seed: number } } } };
    const seed = r.data.infer_ctx.params.seed;
    assert.ok(Number.isInteger(seed) && seed >= 0 && seed <= 4294967295, `seed ${seed}`);
  });

  test('use_sr false delivers the render size; non-multiples of 8 come out exact', async () => {
    const res = await signedFetch(server, Q, JSON.stringify({ req_key: REQ_KEY, prompt: 'x', width: 300, height: 260, use_sr: false, seed: 1 }));
    const json = await res.json() as { data: { binary_data_base64: string[]; infer_ctx: { params: { output_width: number; output_height: number } } } };
    const meta = await sharp(Buffer.from(json.data.binary_data_base64[0]!, 'base64')).metadata();
    assert.deepEqual([meta.width, meta.height], [300, 260]);
    assert.deepEqual([json.data.infer_ctx.params.output_width, json.data.infer_ctx.params.output_height], [300, 260]);
  });

  test('validation errors: HTTP 400, CV envelope, message names field and rule, X-Request-Id', async () => {
    const res = await signedFetch(server, Q, JSON.stringify({ req_key: REQ_KEY, prompt: 'x', width: 4096 }));
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const json = await res.json() as { code: number; status: number; message: string; data: null; request_id: string; time_elapsed: string };
    assert.equal(json.code, 50200);
    assert.equal(json.status, 50200);
    assert.equal(json.data, null);
    assert.equal(json.message, 'Invalid Param: width must be in [256, 1024]');
    assert.equal(res.headers.get('x-request-id'), json.request_id);

    const bad = await signedFetch(server, Q, '{"req_key": ');
    assert.equal(bad.status, 400);
    assert.equal((await bad.json() as { code: number }).code, 50204);

    const unknown = await signedFetch(server, Q, JSON.stringify({ req_key: 'nope', prompt: 'x' }));
    const uj = await unknown.json() as { code: number; message: string };
    assert.equal(uj.code, 50215);
    assert.match(uj.message, /^Input invalid for this service\./);
  });

  test('body over the limit → 413 / 50213', async () => {
    const big = JSON.stringify({ req_key: REQ_KEY, prompt: 'x', pad: 'y'.repeat(1024 * 1024 + 10) });
    const res = await signedFetch(server, Q, big);
    assert.equal(res.status, 413);
    const json = await res.json() as { code: number; message: string };
    assert.equal(json.code, 50213);
    assert.equal(json.message, 'Request Body Too Large');
  });

  test('routing: missing Action/Version → MissingParameter; unknown → InvalidActionOrVersion 404', async () => {
    const body = JSON.stringify({ req_key: REQ_KEY, prompt: 'x' });
    const noAction = await signedFetch(server, 'Version=2022-08-31', body);
    assert.equal(noAction.status, 400);
    const na = await noAction.json() as { ResponseMetadata: { Error: { Code: string; Message: string } } };
    assert.equal(na.ResponseMetadata.Error.Code, 'MissingParameter');
    assert.equal(na.ResponseMetadata.Error.Message, 'The request is missing Action parameter.');
    const noVersion = await signedFetch(server, 'Action=CVProcess', body);
    assert.equal((await noVersion.json() as { ResponseMetadata: { Error: { Code: string } } }).ResponseMetadata.Error.Code, 'MissingParameter');
    const unknown = await signedFetch(server, 'Action=CVMagic&Version=2022-08-31', body);
    assert.equal(unknown.status, 404);
    const uj = await unknown.json() as { ResponseMetadata: { Error: { Code: string; CodeN: number; Message: string }; Action: string } };
    assert.equal(uj.ResponseMetadata.Error.Code, 'InvalidActionOrVersion');
    assert.equal(uj.ResponseMetadata.Error.CodeN, 100008);
    assert.equal(uj.ResponseMetadata.Error.Message, 'Could not find operation CVMagic for version 2022-08-31.');
    const oldVersion = await signedFetch(server, 'Action=CVProcess&Version=2020-01-01', body);
    assert.equal(oldVersion.status, 404);
  });

  test('authentication: missing header, unknown key, tampered body, stale clock', async () => {
    const body = JSON.stringify({ req_key: REQ_KEY, prompt: 'x' });
    const none = await fetch(`${server.url}/?${Q}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(none.status, 401);
    assert.equal((await none.json() as { ResponseMetadata: { Error: { Code: string } } }).ResponseMetadata.Error.Code, 'MissingAuthenticationToken');

    const { headers } = signRequest({ accessKeyId: 'AKLTnobody', secretAccessKey: 'x', region: 'cn-north-1', service: 'cv' }, { method: 'POST', path: '/', rawQuery: Q, body }, new Date());
    const unknownKey = await fetch(`${server.url}/?${Q}`, { method: 'POST', headers, body });
    assert.equal(unknownKey.status, 401);
    assert.equal((await unknownKey.json() as { ResponseMetadata: { Error: { Code: string } } }).ResponseMetadata.Error.Code, 'InvalidAccessKey');

    const signed = signRequest({ accessKeyId: TEST_AK, secretAccessKey: TEST_SK, region: 'cn-north-1', service: 'cv' }, { method: 'POST', path: '/', rawQuery: Q, body }, new Date());
    const tampered = await fetch(`${server.url}/?${Q}`, { method: 'POST', headers: signed.headers, body: body.replace('x', 'y') });
    assert.equal(tampered.status, 401);
    assert.equal((await tampered.json() as { ResponseMetadata: { Error: { Code: string } } }).ResponseMetadata.Error.Code, 'SignatureDoesNotMatch');
    const tamperedQuery = await fetch(`${server.url}/?${Q}&extra=1`, { method: 'POST', headers: signed.headers, body });
    assert.equal((await tamperedQuery.json() as { ResponseMetadata: { Error: { Code: string } } }).ResponseMetadata.Error.Code, 'SignatureDoesNotMatch');

    const stale = signRequest({ accessKeyId: TEST_AK, secretAccessKey: TEST_SK, region: 'cn-north-1', service: 'cv' }, { method: 'POST', path: '/', rawQuery: Q, body }, new Date(Date.now() - 16 * 60_000));
    const staleRes = await fetch(`${server.url}/?${Q}`, { method: 'POST', headers: stale.headers, body });
    assert.equal(staleRes.status, 400);
    assert.equal((await staleRes.json() as { ResponseMetadata: { Error: { Code: string } } }).ResponseMetadata.Error.Code, 'InvalidTimestamp');
  });

  test('the mengtu SDK: typed success and typed errors', async () => {
    const client = new MengtuClient({ endpoint: server.url, accessKeyId: TEST_AK, secretAccessKey: TEST_SK, retries: 0 });
    const { image, data } = await client.generateImage({ prompt: 'a lighthouse', seed: 3, width: 256, height: 256, use_sr: false });
    assert.equal((await sharp(image).metadata()).width, 256);
    assert.equal(data.infer_ctx.params.seed, 3);
    await assert.rejects(client.cvProcess({ prompt: 'x', width: 1 }), (e: unknown) => e instanceof MengtuApiError && e.code === 50200 && e.httpStatus === 400);
    const wrong = new MengtuClient({ endpoint: server.url, accessKeyId: TEST_AK, secretAccessKey: 'wrong', retries: 0 });
    await assert.rejects(wrong.cvProcess({ prompt: 'x' }), (e: unknown) => e instanceof MengtuGatewayError && e.code === 'SignatureDoesNotMatch' && e.codeN === 100010);
  });

  test('health, readiness and metrics', async () => {
    assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), { status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /mengtu_requests_total\{action="CVProcess",code="10000"\} [1-9]/);
    assert.match(metrics, /mengtu_requests_total\{action="CVProcess",code="SignatureDoesNotMatch"\} [1-9]/);
    assert.match(metrics, /mengtu_request_duration_seconds_bucket\{le="[^"]+",action="CVProcess"\}/);
    assert.match(metrics, /mengtu_engine_seconds_count\{phase="unet"\} [1-9]/);
    assert.match(metrics, /mengtu_queue_depth 0/);
  });
});

describe('limits under concurrent load', () => {
  test('per-key concurrency cap answers 50430 / HTTP 429, the rest succeed', async () => {
    const server = await startTestServer({ limits: { concurrency: 1, qps: 1000 }, engine: { maxQueue: 16 } });
    try {
      const body = JSON.stringify({ req_key: REQ_KEY, prompt: 'busy street', width: 512, height: 512, seed: 5 });
      const results = await Promise.all(Array.from({ length: 6 }, () => signedFetch(server, Q, body)));
      const codes = await Promise.all(results.map(async (r) => [r.status, (await r.json() as { code: number }).code] as const));
      const ok = codes.filter(([, c]) => c === 10000).length;
      const limited = codes.filter(([s, c]) => c === 50430 && s === 429).length;
      assert.ok(ok >= 1, JSON.stringify(codes));
      assert.ok(limited >= 1, JSON.stringify(codes));
      assert.equal(ok + limited, 6, JSON.stringify(codes));
    } finally {
      await server.close();
    }
  });

  test('per-key QPS answers 50429 / HTTP 429 beyond the burst', async () => {
    const server = await startTestServer({ limits: { concurrency: 0, qps: 1, burst: 2 } });
    try {
      const body = JSON.stringify({ req_key: REQ_KEY, prompt: 'x', width: 256, height: 256, use_sr: false, seed: 1 });
      const results = await Promise.all(Array.from({ length: 5 }, () => signedFetch(server, Q, body)));
      const codes = await Promise.all(results.map(async (r) => [r.status, (await r.json() as { code: number }).code] as const));
      assert.equal(codes.filter(([, c]) => c === 10000).length, 2, JSON.stringify(codes));
      assert.equal(codes.filter(([s, c]) => c === 50429 && s === 429).length, 3, JSON.stringify(codes));
    } finally {
      await server.close();
    }
  });

  test('the engine queue is bounded: beyond maxQueue requests get 50430 instead of piling up', async () => {
    const server = await startTestServer({ limits: { concurrency: 0, qps: 1000 }, engine: { maxQueue: 1 } });
    try {
      const body = JSON.stringify({ req_key: REQ_KEY, prompt: 'x', width: 512, height: 512, seed: 2 });
      const results = await Promise.all(Array.from({ length: 6 }, () => signedFetch(server, Q, body)));
      const codes = await Promise.all(results.map(async (r) => (await r.json() as { code: number }).code));
      assert.ok(codes.includes(50430), JSON.stringify(codes));
      assert.ok(codes.filter((c) => c === 10000).length >= 2, JSON.stringify(codes)); // one running + one queued
    } finally {
      await server.close();
    }
  });
});

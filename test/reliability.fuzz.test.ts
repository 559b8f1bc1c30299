/**
 * Seeded fuzz of the wire contract: thousands of correctly signed requests that mutate every field, the body,
 * the headers, the query and the path. Every answer must be one of the two envelopes with a documented code
 * and its HTTP status; no 5xx other than 50500/50501 envelopes; the server stays up.
 * MENGTU_FUZZ_SEED / MENGTU_FUZZ_COUNT replay or widen a run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { REQ_KEY_V21 } from '../src/contract/cvprocess.js';
import type { RunningServer } from '../src/runtime/server.js';
import { startTestServer, TEST_AK, TEST_SK } from './helpers/server.js';
import { classify, rng, send, type WireRequest } from './helpers/wire.js';

const SEED = Number(process.env.MENGTU_FUZZ_SEED ?? 20251201);
const COUNT = Number(process.env.MENGTU_FUZZ_COUNT ?? 2000);
const PARALLEL = 16;

const WEIRD: unknown[] = [
  null, true, false, 0, -1, 1, 1.5, -0.5, 255, 256, 257, 1024, 1025, 4294967295, 4294967296, 1e308, -1e308,
  '', ' ', 'x', '512', 'true', '\u0000', '\u0085', '\u007f', '\ud800', 'a'.repeat(1001), '海'.repeat(1000),
  '😀'.repeat(20), '"quoted" “引号”', '\\', '<script>', REQ_KEY_V21, 'jimeng_t2i_v30', [], [1, 2], {}, { a: { b: [] } },
];
const LOGO_FIELDS = ['add_logo', 'position', 'language', 'opacity', 'logo_text_content'];
const FIELDS = ['req_key', 'prompt', 'seed', 'width', 'height', 'use_pre_llm', 'use_sr', 'return_url', 'logo_info', 'unknown_field'];
const RAW_BODIES = ['', '{', '}', 'null', '[]', '"x"', '1', '{"req_key":', '{"a":1,}', '\ufeff{}', `${'['.repeat(5000)}${']'.repeat(5000)}`, '{"prompt":"\\ud800"}', '{"width":1e999}'];
const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data; boundary=x', ''];
const ACTIONS = ['CVProcess', 'CVProcess', 'CVProcess', 'CVSync2AsyncSubmitTask', 'CVSync2AsyncGetResult', 'cvprocess', 'Nope', ''];
const VERSIONS = ['2022-08-31', '2022-08-31', '2022-08-31', '2024-01-01', ''];

function mutate(r: () => number): WireRequest {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const action = pick(ACTIONS);
  const version = pick(VERSIONS);
  const q: string[] = [];
  if (action !== '' || r() < 0.5) q.push(`Action=${encodeURIComponent(action)}`);
  if (version !== '' || r() < 0.5) q.push(`Version=${version}`);
  if (r() < 0.15) q.push(pick(['%E4%B8%AD%E6%96%87=%E5%80%BC', 'a.=1&a%2F=2', 'x=%ZZ', 'b*=it%27s%20(ok)!', 'empty', '=v']));
  if (r() < 0.2) q.reverse();

  let body: Buffer;
  if (r() < 0.12) {
    body = Buffer.from(pick(RAW_BODIES));
    if (r() < 0.2) body = Buffer.concat([body, Buffer.from([0xff, 0xfe, 0xc3])]);
  } else {
    const b: Record<string, unknown> =
      action === 'CVSync2AsyncGetResult'
        ? { req_key: REQ_KEY_V21, task_id: pick(['1', '', '7392616336519610409', 'abc', 12]), req_json: pick([undefined, '', '{}', '{"return_url":true}', '{"logo_info":{"position":9}}', '[', { a: 1 }]) }
        : { req_key: REQ_KEY_V21, prompt: pick(['a cat', '一只猫', 'poster with the title “春风”']), width: 256, height: 256, use_sr: false, use_pre_llm: false, seed: Math.floor(r() * 1000) };
    const n = Math.floor(r() * 4);
    for (let i = 0; i < n; i++) {
      const f = pick(FIELDS);
      if (r() < 0.15) delete b[f];
      else if (f === 'logo_info' && r() < 0.6) b.logo_info = { [pick(LOGO_FIELDS)]: pick(WEIRD), add_logo: r() < 0.5 };
      else b[f] = pick(WEIRD);
    }
    body = Buffer.from(JSON.stringify(b));
  }
  const headers: Record<string, string> = {};
  const ct = pick(CONTENT_TYPES);
  if (ct !== '') headers['Content-Type'] = ct;
  if (r() < 0.1) headers['X-Forwarded-For'] = '10.0.0.1';
  if (r() < 0.05) headers['Accept-Encoding'] = 'gzip, br';
  const path = r() < 0.04 ? pick(['/x', '/healthz/../', '/%zz', '/index.html', '//']) : '/';
  const method = r() < 0.04 ? pick(['PUT', 'DELETE', 'PATCH']) : 'POST';
  return { method, path, rawQuery: q.join('&'), body, headers };
}

let server: RunningServer;
let base: string;

before(async () => {
  // The gateway is under test, not the pictures: cheap SR, no classifier, a small per-key cap so most valid
  // requests are answered 50430 at once instead of waiting for the engine.
  server = await startTestServer({ sr: { mode: 'lanczos' }, safety: { imageRisk: false }, limits: { concurrency: 3 }, engine: { maxQueue: 4 } });
  base = server.url;
});
after(async () => server?.close());

test(`${COUNT} seeded, signed, mutated requests: every answer is a documented envelope, the server survives (seed ${SEED})`, { timeout: 240_000 }, async () => {
  const r = rng(SEED);
  const requests = Array.from({ length: COUNT }, () => mutate(r));
  const agent = new http.Agent({ keepAlive: true, maxSockets: PARALLEL });
  const seen = new Map<string, number>();
  const failures: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < requests.length) {
        const i = next++;
        const req = requests[i]!;
        try {
          const res = await send(base, { ak: TEST_AK, sk: TEST_SK }, req, agent);
          const env = classify(res);
          if (res.status >= 500 && !(env.kind === 'cv' && (env.code === 50500 || env.code === 50501))) throw new Error(`5xx outside 50500/50501: ${res.text}`);
          const key = `${env.kind}:${env.code}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
        } catch (err) {
          failures.push(`#${i} ${req.method} ${req.path}?${req.rawQuery} ${req.body.subarray(0, 80).toString()}: ${(err as Error).message}`);
        }
      }
    }),
  );
  agent.destroy();
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${COUNT} answers broke the contract`);
  // The mutations reach every layer: signature/routing, validation, limits, success.
  for (const k of ['openapi:InvalidActionOrVersion', 'openapi:MissingParameter', 'cv:50200', 'cv:50201', 'cv:50204', 'cv:50215']) {
    assert.ok((seen.get(k) ?? 0) > 0, `no ${k} among ${JSON.stringify([...seen])}`);
  }
  assert.ok((seen.get('cv:10000') ?? 0) + (seen.get('cv:50430') ?? 0) > 0, `no request got through validation: ${JSON.stringify([...seen])}`);
  assert.equal(seen.get('cv:50500') ?? 0, 0, 'no internal errors');
  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 200);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { verifySignature, type SignedRequest } from '../src/gateway/auth.js';
import { GatewayError, GATEWAY_ERRORS } from '../src/contract/errors.js';
import {
  canonicalQuery,
  canonicalRequest,
  parseRawQuery,
  sha256Hex,
  stringToSign,
} from '../src/contract/signature.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// The vectors are kept in the repository so a clone tests on its own; the contract's copy beside the
// project (../shared/spec), when present, must be the same file (checked below).
const fixture = path.join(here, 'fixtures', 'signature-vectors.json');
const specFile = path.join(process.env.MENGTU_SPEC_DIR ?? path.resolve(here, '../../shared/spec'), 'signature-vectors.json');

interface Vector {
  name: string;
  method: string;
  path: string;
  raw_query: string;
  headers: Record<string, string>;
  body: string;
  canonical_request?: string;
  string_to_sign?: string;
  server_time?: string;
  expect?: { http: number; Code: string };
}
interface Vectors {
  access_key_id: string;
  secret_access_key: string;
  server_time: string;
  vectors: Vector[];
  must_reject: Vector[];
  must_accept_with_clock: Array<{ name: string; vector: number; server_time: string }>;
}
const V = JSON.parse(readFileSync(fixture, 'utf8')) as Vectors;

function toRequest(v: Vector): SignedRequest {
  const headers: Record<string, string> = {};
  for (const [k, val] of Object.entries(v.headers)) headers[k.toLowerCase()] = val;
  return { method: v.method, path: v.path, rawQuery: v.raw_query, headers, body: Buffer.from(v.body, 'utf8') };
}

function opts(serverTime: string) {
  return {
    region: 'cn-north-1',
    service: 'cv',
    maxSkewMs: 15 * 60_000,
    now: () => new Date(serverTime),
    lookupSecret: (ak: string) => (ak === V.access_key_id ? V.secret_access_key : undefined),
  };
}

test('the vectors in test/fixtures are the contract\'s own', { skip: existsSync(specFile) ? false : `no contract copy at ${specFile}` }, () => {
  assert.deepEqual(V, JSON.parse(readFileSync(specFile, 'utf8')));
});

test('every official-SDK vector verifies', () => {
  assert.ok(V.vectors.length >= 7);
  for (const v of V.vectors) {
    const res = verifySignature(toRequest(v), opts(v.server_time ?? V.server_time));
    assert.equal(res.accessKey, V.access_key_id, v.name);
  }
});

test('canonical request and string to sign match the captured ones', () => {
  for (const v of V.vectors) {
    const req = toRequest(v);
    const auth = /SignedHeaders=([^,]+)/.exec(v.headers.Authorization ?? '')![1]!.split(';');
    const canon = canonicalRequest({
      method: v.method,
      path: v.path,
      query: parseRawQuery(v.raw_query),
      headers: Object.fromEntries(auth.map((h) => [h, req.headers[h] as string])),
      signedHeaders: auth,
      bodyHash: sha256Hex(req.body),
    });
    assert.equal(canon, v.canonical_request, v.name);
    assert.equal(stringToSign('20250422T150707Z', { date: '20250422', region: 'cn-north-1', service: 'cv' }, canon), v.string_to_sign, v.name);
  }
});

test('query canonicalisation decodes then re-encodes (b*=it%27s%20(ok)!)', () => {
  assert.equal(
    canonicalQuery(parseRawQuery('Version=2022-08-31&Action=CVProcess&b*=it%27s%20(ok)!&Z=last&a=x+y')),
    'Action=CVProcess&Version=2022-08-31&Z=last&a=x%20y&b%2A=it%27s%20%28ok%29%21',
  );
});

test('every must_reject request gets its documented code and HTTP status', () => {
  assert.ok(V.must_reject.length >= 10);
  for (const v of V.must_reject) {
    assert.throws(
      () => verifySignature(toRequest(v), opts(v.server_time ?? V.server_time)),
      (err: unknown) => {
        assert.ok(err instanceof GatewayError, v.name);
        assert.equal(err.code, v.expect!.Code, v.name);
        assert.equal(err.httpStatus, v.expect!.http, v.name);
        assert.equal(err.codeN, GATEWAY_ERRORS[err.code].codeN);
        return true;
      },
    );
  }
});

test('clock skew inside 15 minutes is accepted', () => {
  for (const c of V.must_accept_with_clock) {
    const v = V.vectors[c.vector]!;
    assert.equal(verifySignature(toRequest(v), opts(c.server_time)).accessKey, V.access_key_id, c.name);
  }
});

test('a signed request whose x-date is not signed, or with a security token, is refused', () => {
  const v = V.vectors[0]!;
  const req = toRequest(v);
  req.headers['x-security-token'] = 'sts';
  assert.throws(() => verifySignature(req, opts(V.server_time)), { code: 'InvalidAccessKey' });
  const noSig = toRequest(v);
  noSig.headers.authorization = (v.headers.Authorization ?? '').replace(/, Signature=.*$/, '');
  assert.throws(() => verifySignature(noSig, opts(V.server_time)), { code: 'MissingSignature' });
  const noDate = toRequest(v);
  delete noDate.headers['x-date'];
  assert.throws(() => verifySignature(noDate, opts(V.server_time)), { code: 'MissingRequestInfo' });
  const badDate = toRequest(v);
  badDate.headers['x-date'] = '2025-04-22 15:07';
  assert.throws(() => verifySignature(badDate, opts(V.server_time)), { code: 'InvalidTimestamp' });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { verifySignature, type SignedRequest } from '../src/gateway/auth.js';
import { GatewayError, GATEWAY_ERRORS } from '../src/contract/errors.js';
import { stringify as stringifyQuery } from 'node:querystring';
import { Signer } from '@volcengine/openapi';
import {
  authorizationHeader,
  canonicalQuery,
  canonicalRequest,
  parseRawQuery,
  QUERY_ORDERS,
  sha256Hex,
  signature,
  stringToSign,
  type QueryOrder,
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

test('docs/jimeng-t2i-v21.md is the contract\'s own text', { skip: existsSync(specFile) ? false : `no contract copy at ${specFile}` }, () => {
  const docs = readFileSync(path.join(here, '..', 'docs', 'jimeng-t2i-v21.md'), 'utf8');
  assert.equal(docs, readFileSync(path.join(path.dirname(specFile), 'jimeng-t2i-v21.md'), 'utf8'));
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

// ---- Query names outside ASCII or with reserved characters: every official SDK's canonical form verifies ----

const AK = V.access_key_id;
const SK = V.secret_access_key;
const NOW = new Date('2025-04-22T15:07:07Z');
const BODY = '{"req_key":"jimeng_high_aes_general_v21_L","prompt":"a cat"}';
const scope = { date: '20250422', region: 'cn-north-1', service: 'cv' };
type Params = Record<string, string | string[]>;

/** What the official Node SDK sends: its Signer's Authorization and `querystring.stringify` of its params. */
function signedByNodeSdk(params: Params): SignedRequest {
  const signer = new Signer({ method: 'POST', region: 'cn-north-1', params, headers: { 'Content-Type': 'application/json' }, body: BODY }, 'cv');
  signer.addAuthorization({ accessKeyId: AK, secretKey: SK }, NOW);
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(signer.request.headers)) h[k.toLowerCase()] = String(v);
  return { method: 'POST', path: '/', rawQuery: stringifyQuery(signer.request.params as Params), headers: h, body: Buffer.from(BODY) };
}

/** A request signed with an explicit query order (the contract's, or Python's/Go's). */
function signedWith(params: Params, order: QueryOrder): SignedRequest {
  const query: Array<[string, string]> = Object.entries(params).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x): [string, string] => [k, x]));
  const bodyHash = sha256Hex(BODY);
  const headers = { 'x-content-sha256': bodyHash, 'x-date': '20250422T150707Z' };
  const signedHeaders = ['x-content-sha256', 'x-date'];
  const canon = canonicalRequest({ method: 'POST', path: '/', query, queryOrder: order, headers, signedHeaders, bodyHash });
  const sig = signature(SK, scope, stringToSign('20250422T150707Z', scope, canon));
  return {
    method: 'POST',
    path: '/',
    rawQuery: stringifyQuery(params),
    headers: { ...headers, authorization: authorizationHeader(AK, scope, signedHeaders, sig) },
    body: Buffer.from(BODY),
  };
}

const base = { Action: 'CVProcess', Version: '2022-08-31' };
const tricky: Params[] = [
  { ...base, 中文: '值' },
  { ...base, 'a.': '1', 'a/': '2' },
  { ...base, '10': 'x', '9': 'y', '～': 'f', '😀': 'e', b: ['z', 'a'] },
];

test('Python/Go order (sort raw names by code point, repeated values as sent) is what their SDKs compute', () => {
  // Computed with volc-sdk-python's SignerV4.norm_query (sorted(params), quote(safe="-_.~")).
  assert.equal(
    canonicalQuery(parseRawQuery(stringifyQuery(tricky[2]!) + '&a.=1&a%2F=2&%E4%B8%AD%E6%96%87=%E5%80%BC'), 'codepoint'),
    '10=x&9=y&Action=CVProcess&Version=2022-08-31&a.=1&a%2F=2&b=z&b=a&%E4%B8%AD%E6%96%87=%E5%80%BC&%EF%BD%9E=f&%F0%9F%98%80=e',
  );
});

test('non-ASCII and reserved-character query names: the Node SDK Signer, the contract rule and the Python/Go order all verify', () => {
  for (const params of tricky) {
    const forms = new Set(QUERY_ORDERS.map((o) => canonicalQuery(Object.entries(params).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x): [string, string] => [k, x])), o)));
    assert.ok(forms.size > 1, `the orders should disagree for ${JSON.stringify(params)}`);
    const reqs = [signedByNodeSdk(params), ...QUERY_ORDERS.map((o) => signedWith(params, o))];
    for (const req of reqs) assert.equal(verifySignature(req, opts(V.server_time)).accessKey, AK, `${JSON.stringify(params)} ${req.rawQuery}`);
  }
});

test('accepting several orders does not weaken verification: changed values, names or extra pairs are refused', () => {
  for (const params of tricky) {
    for (const req of [signedByNodeSdk(params), signedWith(params, 'codepoint'), signedWith(params, 'contract')]) {
      for (const rawQuery of [
        req.rawQuery.replace(/=([^&]*)$/, '=$1x'), // last value changed
        req.rawQuery + '&extra=1', // pair added
        req.rawQuery.split('&').slice(1).join('&'), // pair dropped
        req.rawQuery.replace('Version=', 'Versio='), // name changed
      ]) {
        assert.throws(() => verifySignature({ ...req, rawQuery }, opts(V.server_time)), { code: 'SignatureDoesNotMatch' }, rawQuery);
      }
    }
  }
});

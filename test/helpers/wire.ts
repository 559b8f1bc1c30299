/**
 * Raw signed HTTP for the reliability suite and bench:load: any method, query, headers and body bytes
 * (including ones no SDK would send), signed the way the official Node SDK signs, over node:http.
 */
import http from 'node:http';
import {
  authorizationHeader,
  canonicalRequest,
  formatXDate,
  parseRawQuery,
  sha256Hex,
  signature,
  stringToSign,
} from '../../src/contract/signature.js';
import { CV_ERRORS, GATEWAY_ERRORS } from '../../src/contract/errors.js';

export interface WireRequest {
  method?: string;
  path?: string;
  rawQuery: string;
  body: Buffer;
  /** Unsigned extra headers (Content-Type and anything else). */
  headers?: Record<string, string>;
  /** Sign it (default) or send as is. */
  sign?: boolean;
}

export interface WireResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  ms: number;
}

export interface Credentials {
  ak: string;
  sk: string;
  region?: string;
  service?: string;
}

export function signedHeaders(cred: Credentials, req: WireRequest, now = new Date()): Record<string, string> {
  const xDate = formatXDate(now);
  const bodyHash = sha256Hex(req.body);
  const scope = { date: xDate.slice(0, 8), region: cred.region ?? 'cn-north-1', service: cred.service ?? 'cv' };
  const signed = ['x-content-sha256', 'x-date'];
  const canon = canonicalRequest({
    method: req.method ?? 'POST',
    path: (req.path ?? '/').split('?')[0]!,
    query: parseRawQuery(req.rawQuery),
    headers: { 'x-content-sha256': bodyHash, 'x-date': xDate },
    signedHeaders: signed,
    bodyHash,
  });
  const sig = signature(cred.sk, scope, stringToSign(xDate, scope, canon));
  return { 'X-Date': xDate, 'X-Content-Sha256': bodyHash, Authorization: authorizationHeader(cred.ak, scope, signed, sig) };
}

export function send(base: string, cred: Credentials, req: WireRequest, agent?: http.Agent): Promise<WireResponse> {
  const url = new URL(base);
  const headers: Record<string, string> = {
    ...(req.sign === false ? {} : signedHeaders(cred, req)),
    ...(req.headers ?? {}),
    'Content-Length': String(req.body.length),
  };
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: url.hostname, port: url.port, method: req.method ?? 'POST', path: `${req.path ?? '/'}${req.rawQuery ? `?${req.rawQuery}` : ''}`, headers, agent: agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

export type Envelope =
  | { kind: 'cv'; code: number; http: number }
  | { kind: 'openapi'; code: string; http: number };

/**
 * Checks that a response is one of the contract's two envelopes with a documented code and the HTTP status
 * the code implies; returns what it was or throws with the reason.
 */
export function classify(res: WireResponse): Envelope {
  let json: unknown;
  try {
    json = JSON.parse(res.text);
  } catch {
    throw new Error(`HTTP ${res.status}: body is not JSON: ${res.text.slice(0, 120)}`);
  }
  if (!String(res.headers['content-type'] ?? '').startsWith('application/json')) throw new Error(`HTTP ${res.status}: content-type ${res.headers['content-type']}`);
  const o = json as Record<string, unknown>;
  if (o.ResponseMetadata !== undefined) {
    const meta = o.ResponseMetadata as { RequestId?: unknown; Error?: { Code?: unknown; CodeN?: unknown; Message?: unknown } };
    const code = String(meta.Error?.Code);
    const def = (GATEWAY_ERRORS as Record<string, { http: number; codeN: number }>)[code];
    if (!def) throw new Error(`HTTP ${res.status}: undocumented gateway code ${code}`);
    if (def.http !== res.status || def.codeN !== meta.Error?.CodeN) throw new Error(`HTTP ${res.status}: ${code} should be HTTP ${def.http} / CodeN ${def.codeN}`);
    if (typeof meta.RequestId !== 'string' || typeof meta.Error?.Message !== 'string') throw new Error(`HTTP ${res.status}: incomplete ResponseMetadata`);
    return { kind: 'openapi', code, http: res.status };
  }
  const code = o.code;
  const def = (CV_ERRORS as Record<number, { http: number }>)[code as number];
  if (typeof code !== 'number' || !def) throw new Error(`HTTP ${res.status}: not an envelope: ${res.text.slice(0, 120)}`);
  if (def.http !== res.status) throw new Error(`HTTP ${res.status}: code ${code} should be HTTP ${def.http}`);
  for (const k of ['message', 'request_id', 'time_elapsed']) if (typeof o[k] !== 'string') throw new Error(`code ${code}: ${k} missing`);
  if (o.status !== code) throw new Error(`code ${code}: status ${String(o.status)}`);
  if (code !== 10000 && o.data !== null) throw new Error(`code ${code}: data must be null`);
  return { kind: 'cv', code, http: res.status };
}

/** A small seeded PRNG (mulberry32): the same seed gives the same requests. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Verifies a request's Volcengine V4 signature (contract §2). Pure: takes what the gateway read off the wire
 * and a key lookup, returns the access key or throws a GatewayError with the documented code.
 */
import { timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../contract/errors.js';
import {
  canonicalRequest,
  parseAuthorization,
  parseRawQuery,
  parseXDate,
  QUERY_ORDERS,
  sha256Hex,
  signature,
  stringToSign,
} from '../contract/signature.js';

export interface SignedRequest {
  method: string;
  path: string;
  rawQuery: string;
  /** Lower-case header names. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface AuthOptions {
  region: string;
  service: string;
  /** Allowed clock skew, milliseconds (default 15 min). */
  maxSkewMs: number;
  now: () => Date;
  lookupSecret: (accessKey: string) => string | undefined;
}

export interface AuthResult {
  accessKey: string;
}

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function safeEqualHex(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export function verifySignature(req: SignedRequest, opts: AuthOptions): AuthResult {
  const authz = header(req.headers, 'authorization');
  if (authz === undefined || authz.trim() === '') throw new GatewayError('MissingAuthenticationToken');
  const parsed = parseAuthorization(authz);
  if (!parsed.ok) {
    throw new GatewayError(parsed.reason === 'missing-signature' ? 'MissingSignature' : 'MissingAuthenticationToken');
  }
  const auth = parsed.value;

  const xDate = header(req.headers, 'x-date');
  if (xDate === undefined) throw new GatewayError('MissingRequestInfo', 'X-Date');
  const when = parseXDate(xDate.trim());
  if (when === null) throw new GatewayError('InvalidTimestamp');
  if (Math.abs(opts.now().getTime() - when.getTime()) > opts.maxSkewMs) throw new GatewayError('InvalidTimestamp');

  // STS tokens are not supported: a temporary credential cannot be checked here.
  if (header(req.headers, 'x-security-token') !== undefined) throw new GatewayError('InvalidAccessKey', auth.accessKey);
  const secret = opts.lookupSecret(auth.accessKey);
  if (secret === undefined) throw new GatewayError('InvalidAccessKey', auth.accessKey);

  if (
    auth.scope.date !== xDate.trim().slice(0, 8) ||
    auth.scope.region !== opts.region ||
    auth.scope.service !== opts.service ||
    !auth.signedHeaders.includes('x-date')
  ) {
    throw new GatewayError('SignatureDoesNotMatch');
  }

  const bodyHash = sha256Hex(req.body);
  const claimed = header(req.headers, 'x-content-sha256');
  if (claimed !== undefined && claimed.trim().toLowerCase() !== bodyHash) throw new GatewayError('SignatureDoesNotMatch');

  const signedValues: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const v = header(req.headers, name);
    if (v === undefined) throw new GatewayError('SignatureDoesNotMatch');
    signedValues[name] = v;
  }
  // The official SDKs order query names differently (see QueryOrder); each order signs the same pairs, so
  // the request is accepted when any of these few canonical forms (usually one: they agree on ASCII) matches.
  const query = parseRawQuery(req.rawQuery);
  const canonicals = new Set(
    QUERY_ORDERS.map((queryOrder) =>
      canonicalRequest({ method: req.method, path: req.path, query, queryOrder, headers: signedValues, signedHeaders: auth.signedHeaders, bodyHash }),
    ),
  );
  let matched = false;
  for (const canonical of canonicals) {
    const expected = signature(secret, auth.scope, stringToSign(xDate.trim(), auth.scope, canonical));
    matched = safeEqualHex(expected, auth.signature) || matched;
  }
  if (!matched) throw new GatewayError('SignatureDoesNotMatch');
  return { accessKey: auth.accessKey };
}

/**
 * Volcengine HMAC-SHA256 (V4-style) request signing, contract §2. Shared by the gateway (verify) and the
 * SDK (sign), so both sides build the canonical request with the same code.
 */
import { createHash, createHmac } from 'node:crypto';

export const SIGNING_ALGORITHM = 'HMAC-SHA256';

export function sha256Hex(data: string | Buffer | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** RFC 3986 encoding: unreserved characters kept, everything else `%XX` upper-case over UTF-8. */
export function rfc3986Encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function decodeQueryComponent(s: string): string {
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    // Malformed escapes are signed as sent (after `+` → space) rather than rejected here.
    return plus;
  }
}

/** Splits a raw query string into decoded [key, value] pairs, in wire order. */
export function parseRawQuery(rawQuery: string): Array<[string, string]> {
  if (rawQuery.length === 0) return [];
  return rawQuery
    .split('&')
    .filter((part) => part.length > 0)
    .map((part) => {
      const eq = part.indexOf('=');
      const k = eq === -1 ? part : part.slice(0, eq);
      const v = eq === -1 ? '' : part.slice(eq + 1);
      return [decodeQueryComponent(k), decodeQueryComponent(v)];
    });
}

/**
 * How the query pairs are ordered in the canonical request. The contract sorts by encoded key, then value
 * (byte order); the official SDKs sort before encoding, which differs only for names with non-ASCII or
 * reserved characters (`中文` sorts after `Action` raw but before it encoded; `a.` < `a/` raw, `a%2F` < `a.`):
 *   - `contract`: encoded key, then encoded value.
 *   - `codepoint`: raw key by code point (= UTF-8 byte order), values in wire order — Python
 *     (`sorted(params)`, lists kept in order) and Go (`url.Values.Encode`).
 *   - `node`: @volcengine/openapi's Signer — keys sorted as JS strings (UTF-16 units) and put in an object, so
 *     array-index names ("0", "42") come first in numeric order; repeated values sorted encoded.
 * Every order signs the same pairs, so accepting any of them does not let a request change what was signed.
 */
export type QueryOrder = 'contract' | 'codepoint' | 'node';
export const QUERY_ORDERS: readonly QueryOrder[] = ['contract', 'codepoint', 'node'];

type Encoded = { k: string; v: string; rawK: string; i: number };

const byteCmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const codePointCmp = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
const isArrayIndex = (k: string): boolean => /^(0|[1-9]\d{0,9})$/.test(k) && Number(k) < 4294967295;

const KEY_ORDER: Record<QueryOrder, (a: Encoded, b: Encoded) => number> = {
  contract: (a, b) => byteCmp(a.k, b.k) || byteCmp(a.v, b.v),
  codepoint: (a, b) => codePointCmp(a.rawK, b.rawK) || a.i - b.i,
  node: (a, b) => {
    const ai = isArrayIndex(a.rawK);
    const bi = isArrayIndex(b.rawK);
    if (ai !== bi) return ai ? -1 : 1;
    const keys = ai ? Number(a.rawK) - Number(b.rawK) : byteCmp(a.rawK, b.rawK);
    return keys || byteCmp(a.v, b.v);
  },
};

/** Decode-then-encode, ordered as `order` says (default: the contract's). */
export function canonicalQuery(pairs: Array<[string, string]>, order: QueryOrder = 'contract'): string {
  const enc: Encoded[] = pairs.map(([k, v], i) => ({ k: rfc3986Encode(k), v: rfc3986Encode(v), rawK: k, i }));
  enc.sort(KEY_ORDER[order]);
  return enc.map(({ k, v }) => `${k}=${v}`).join('&');
}

export function canonicalPath(path: string): string {
  if (path === '' || path === '/') return '/';
  return path
    .split('/')
    .map((seg) => rfc3986Encode(decodeQueryComponent(seg)))
    .join('/');
}

/** Header value as signed: trimmed, inner whitespace runs collapsed to one space. */
export function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

export interface CanonicalInput {
  method: string;
  path: string;
  /** Decoded query pairs. */
  query: Array<[string, string]>;
  queryOrder?: QueryOrder;
  /** Lower-case header name → value, for the headers listed in signedHeaders. */
  headers: Record<string, string>;
  signedHeaders: string[];
  bodyHash: string;
}

export function canonicalRequest(input: CanonicalInput): string {
  const headerLines = input.signedHeaders
    .map((h) => `${h}:${canonicalHeaderValue(input.headers[h] ?? '')}\n`)
    .join('');
  return [
    input.method.toUpperCase(),
    canonicalPath(input.path),
    canonicalQuery(input.query, input.queryOrder),
    headerLines,
    input.signedHeaders.join(';'),
    input.bodyHash,
  ].join('\n');
}

export interface Scope {
  date: string; // YYYYMMDD
  region: string;
  service: string;
}

export function scopeString(scope: Scope): string {
  return `${scope.date}/${scope.region}/${scope.service}/request`;
}

export function stringToSign(xDate: string, scope: Scope, canonical: string): string {
  return [SIGNING_ALGORITHM, xDate, scopeString(scope), sha256Hex(canonical)].join('\n');
}

export function signingKey(secretKey: string, scope: Scope): Buffer {
  const kDate = hmac(secretKey, scope.date);
  const kRegion = hmac(kDate, scope.region);
  const kService = hmac(kRegion, scope.service);
  return hmac(kService, 'request');
}

export function signature(secretKey: string, scope: Scope, toSign: string): string {
  return createHmac('sha256', signingKey(secretKey, scope)).update(toSign, 'utf8').digest('hex');
}

/** `YYYYMMDD'T'HHMMSS'Z'` for a Date. */
export function formatXDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Parses `YYYYMMDD'T'HHMMSS'Z'`; null when malformed. */
export function parseXDate(s: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, se] = m;
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
  const date = new Date(t);
  return formatXDate(date) === s ? date : null;
}

export interface ParsedAuthorization {
  accessKey: string;
  scope: Scope;
  signedHeaders: string[];
  signature: string;
}

export type AuthorizationParse =
  | { ok: true; value: ParsedAuthorization }
  | { ok: false; reason: 'malformed' | 'missing-signature' };

/** `HMAC-SHA256 Credential=AK/date/region/service/request, SignedHeaders=a;b, Signature=hex` */
export function parseAuthorization(header: string): AuthorizationParse {
  const m = /^HMAC-SHA256\s+(.*)$/.exec(header.trim());
  if (!m) return { ok: false, reason: 'malformed' };
  const parts = new Map<string, string>();
  for (const piece of m[1]!.split(',')) {
    const eq = piece.indexOf('=');
    if (eq === -1) continue;
    parts.set(piece.slice(0, eq).trim(), piece.slice(eq + 1).trim());
  }
  const cred = parts.get('Credential');
  const signed = parts.get('SignedHeaders');
  if (!cred || !signed) return { ok: false, reason: 'malformed' };
  const sig = parts.get('Signature');
  if (!sig) return { ok: false, reason: 'missing-signature' };
  const credParts = cred.split('/');
  if (credParts.length !== 5 || credParts[4] !== 'request' || credParts[0] === '') return { ok: false, reason: 'malformed' };
  return {
    ok: true,
    value: {
      accessKey: credParts[0]!,
      scope: { date: credParts[1]!, region: credParts[2]!, service: credParts[3]! },
      signedHeaders: signed.split(';').map((h) => h.trim().toLowerCase()).filter((h) => h.length > 0),
      signature: sig.toLowerCase(),
    },
  };
}

export function authorizationHeader(accessKey: string, scope: Scope, signedHeaders: string[], sig: string): string {
  return `${SIGNING_ALGORITHM} Credential=${accessKey}/${scopeString(scope)}, SignedHeaders=${signedHeaders.join(';')}, Signature=${sig}`;
}

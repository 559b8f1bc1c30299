/**
 * `GET /images/*` without a web framework: checks the key's shape, the signature and the expiry, then
 * returns the bytes with cache headers bounded by the URL's remaining life. The gateway mounts it.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { isSafeKey } from './keys.js';
import type { UrlSigner } from './signer.js';
import type { ImageStore } from './types.js';

export interface ServeResult {
  status: 200 | 304 | 403 | 404 | 410;
  headers: Record<string, string>;
  body: Buffer | Readable;
}

function jsonError(status: 403 | 404 | 410, code: string, message: string): ServeResult {
  return {
    status,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    },
    body: Buffer.from(JSON.stringify({ error: { code, message } })),
  };
}

function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

export async function serveImage(
  store: ImageStore,
  signer: UrlSigner,
  rawKey: string,
  query: Record<string, unknown>,
  now: Date = new Date(),
  requestHeaders: Record<string, string | string[] | undefined> = {},
): Promise<ServeResult> {
  // Out-of-shape keys (traversal, encoded, absolute) are simply not in the store.
  if (!isSafeKey(rawKey)) return jsonError(404, 'NotFound', 'no such image');
  const expires = first(query.expires);
  const sig = first(query.sig);
  const verdict = signer.verify(rawKey, expires, sig, now);
  if (verdict === 'invalid') return jsonError(403, 'InvalidSignature', 'the image URL signature is not valid');
  if (verdict === 'expired') return jsonError(410, 'Expired', 'the image URL has expired');
  const item = await store.get(rawKey);
  if (!item) return jsonError(404, 'NotFound', 'no such image');
  const urlExpiresMs = Number(expires) * 1000;
  const until = Math.min(urlExpiresMs, item.expiresAt.getTime());
  const maxAge = Math.max(0, Math.floor((until - now.getTime()) / 1000));
  const headers: Record<string, string> = {
    'Content-Type': item.contentType,
    'Cache-Control': `private, max-age=${maxAge}`,
    Expires: new Date(until).toUTCString(),
    'X-Content-Type-Options': 'nosniff',
  };
  if (Buffer.isBuffer(item.body)) {
    const etag = `"${createHash('sha256').update(item.body).digest('base64url').slice(0, 27)}"`;
    headers.ETag = etag;
    headers['Content-Length'] = String(item.body.length);
    const inm = first(requestHeaders['if-none-match']);
    if (typeof inm === 'string' && inm.split(/\s*,\s*/).includes(etag)) {
      delete headers['Content-Length'];
      return { status: 304, headers, body: Buffer.alloc(0) };
    }
  } else if (item.size !== undefined) {
    headers['Content-Length'] = String(item.size);
  }
  return { status: 200, headers, body: item.body };
}

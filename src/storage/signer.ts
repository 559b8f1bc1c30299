/**
 * Signed URLs for locally stored images: `{base}/images/{key}?expires={unix}&sig={hex HMAC-SHA256(secret,
 * key + "\n" + expires)}`. The signature covers key and expiry, so changing either invalidates it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { assertSafeKey } from './keys.js';

export type VerifyResult = 'ok' | 'expired' | 'invalid';

export interface SignedUrl {
  url: string;
  /** Unix seconds. */
  expires: number;
  sig: string;
}

export interface UrlSigner {
  sign(key: string, ttlSeconds: number, now?: Date): SignedUrl;
  verify(key: string, expires: unknown, sig: unknown, now: Date): VerifyResult;
}

export interface UrlSignerOptions {
  /** e.g. `https://img.example.com` (no trailing slash needed). Default: '' (a path-only URL). */
  publicBaseUrl?: string;
}

export function createUrlSigner(secret: Buffer | string, opts: UrlSignerOptions = {}): UrlSigner {
  const key = Buffer.isBuffer(secret) ? secret : Buffer.from(secret, 'utf8');
  if (key.length < 16) throw new RangeError('URL signing secret must be at least 16 bytes');
  const base = (opts.publicBaseUrl ?? '').replace(/\/+$/, '');
  const mac = (k: string, expires: string): Buffer => createHmac('sha256', key).update(`${k}\n${expires}`).digest();

  return {
    sign(k, ttlSeconds, now = new Date()) {
      assertSafeKey(k);
      if (!(ttlSeconds > 0)) throw new RangeError('ttlSeconds must be positive');
      const expires = Math.floor(now.getTime() / 1000) + Math.ceil(ttlSeconds);
      const sig = mac(k, String(expires)).toString('hex');
      return { url: `${base}/images/${k}?expires=${expires}&sig=${sig}`, expires, sig };
    },
    verify(k, expires, sig, now) {
      if (typeof expires !== 'string' || typeof sig !== 'string') return 'invalid';
      if (!/^[0-9]{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(sig)) return 'invalid';
      // Signature first: a tampered `expires` is 'invalid', not 'expired'.
      if (!timingSafeEqual(mac(k, expires), Buffer.from(sig, 'hex'))) return 'invalid';
      return Number(expires) * 1000 > now.getTime() ? 'ok' : 'expired';
    },
  };
}

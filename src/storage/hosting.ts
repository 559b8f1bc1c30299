/**
 * Image hosting for return_url: S3 when a bucket is configured (presigned bucket URLs), else local files
 * under `<dataDir>/images` served by the gateway with HMAC-signed URLs. URL lifetime default 3600 s, the
 * cloud's 1 h.
 */
import { imageKey } from './keys.js';
import { LocalImageStore } from './local.js';
import { S3ImageStore, type S3StoreConfig } from './s3.js';
import { loadUrlSecret } from './secret.js';
import { createUrlSigner, type UrlSigner } from './signer.js';
import type { ImageStore } from './types.js';

export const DEFAULT_URL_TTL_SECONDS = 3600;

/** Formats an image may be stored in (the OpenAI route re-encodes to JPEG or WebP on request). */
export type ImageFormat = 'png' | 'jpeg' | 'webp';
const FORMAT = { png: { ext: 'png', type: 'image/png' }, jpeg: { ext: 'jpg', type: 'image/jpeg' }, webp: { ext: 'webp', type: 'image/webp' } } as const;

export interface ImageHosting {
  readonly store: ImageStore;
  /** Null for S3 (the bucket signs its own URLs). */
  readonly signer: UrlSigner | null;
  readonly ttlSeconds: number;
  /** A start-up line for the log. */
  readonly status: string;
  /** Stores one image (PNG unless told) under a generated key and returns its URL, valid for ttlSeconds. */
  publish(requestId: string, index: number, png: Buffer, now?: Date, format?: ImageFormat): Promise<{ key: string; url: string; expiresAt: Date }>;
}

export interface HostingOptions {
  dataDir: string;
  /** Where clients reach the gateway, e.g. `https://mengtu.example.com`; local URLs are built on it. */
  publicBaseUrl: string;
  /** URL lifetime in seconds, in [1, 604800]; default 3600. */
  ttlSeconds?: number;
  /** Operator-set URL-signing secret (local files); else generated once in the data dir. */
  urlSecret?: string | undefined;
  /** The bucket, when images go to S3. */
  s3?: S3StoreConfig | null | undefined;
}

export async function createImageHosting(opts: HostingOptions): Promise<ImageHosting> {
  const ttlSeconds = opts.ttlSeconds ?? DEFAULT_URL_TTL_SECONDS;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > 7 * 24 * 3600) {
    throw new RangeError(`URL lifetime must be an integer in [1, 604800] seconds (got ${ttlSeconds})`);
  }
  const s3 = opts.s3;
  if (s3) {
    const store = new S3ImageStore(s3);
    return {
      store,
      signer: null,
      ttlSeconds,
      status: `image hosting: S3 bucket '${s3.bucket}'${s3.endpoint ? ` at ${s3.endpoint}` : ''}, presigned URLs valid ${ttlSeconds}s`,
      async publish(requestId, index, png, now = new Date(), format = 'png') {
        const key = imageKey(requestId, index, now, FORMAT[format].ext);
        const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
        await store.put(key, png, { contentType: FORMAT[format].type, expiresAt });
        return { key, url: await store.presignedUrl(key, ttlSeconds), expiresAt };
      },
    };
  }
  const { secret, source } = await loadUrlSecret(opts.dataDir, opts.urlSecret);
  const signer = createUrlSigner(secret, { publicBaseUrl: opts.publicBaseUrl });
  const store = LocalImageStore.inDataDir(opts.dataDir);
  return {
    store,
    signer,
    ttlSeconds,
    status: `image hosting: local files under ${opts.dataDir}/images, signed URLs valid ${ttlSeconds}s (secret from ${source})`,
    async publish(requestId, index, png, now = new Date(), format = 'png') {
      const key = imageKey(requestId, index, now, FORMAT[format].ext);
      const signed = signer.sign(key, ttlSeconds, now);
      const expiresAt = new Date(signed.expires * 1000);
      await store.put(key, png, { contentType: FORMAT[format].type, expiresAt });
      return { key, url: signed.url, expiresAt };
    },
  };
}

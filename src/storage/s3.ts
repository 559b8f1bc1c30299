/**
 * Images in an S3-compatible bucket (AWS, MinIO, R2, OSS/TOS S3 endpoints …). URLs are the bucket's own
 * presigned GET URLs, so the gateway never serves the bytes. Expiry is kept in object metadata
 * (`x-amz-meta-expires-at`); a bucket lifecycle rule is the cheaper way to delete, sweep() is the fallback.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { assertSafeKey, isSafeKey } from './keys.js';
import type { ImageStore, PutOptions, StoredImage } from './types.js';

export interface S3StoreConfig {
  bucket: string;
  region: string;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Object key prefix (e.g. `mengtu/`). */
  prefix?: string;
  /** Path-style addressing (MinIO and most self-hosted endpoints need it). Default: true when an endpoint is set. */
  forcePathStyle?: boolean;
}

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404;
}

export class S3ImageStore implements ImageStore {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly now: () => number;

  constructor(cfg: S3StoreConfig, opts: { now?: () => number } = {}) {
    const clientCfg: S3ClientConfig = {
      region: cfg.region,
      forcePathStyle: cfg.forcePathStyle ?? cfg.endpoint !== undefined,
      // Flexible checksums (aws-chunked uploads with CRC trailers) are not spoken by every S3-compatible
      // server; ask for them only where an operation requires them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    if (cfg.endpoint) clientCfg.endpoint = cfg.endpoint;
    if (cfg.accessKeyId && cfg.secretAccessKey) {
      clientCfg.credentials = { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey };
    }
    this.client = new S3Client(clientCfg);
    this.bucket = cfg.bucket;
    this.prefix = cfg.prefix ?? '';
    this.now = opts.now ?? Date.now;
  }

  private objectKey(key: string): string {
    return this.prefix + assertSafeKey(key);
  }

  async put(key: string, png: Buffer, opts: PutOptions): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.objectKey(key),
        Body: png,
        ContentType: opts.contentType,
        Expires: opts.expiresAt,
        Metadata: { 'expires-at': opts.expiresAt.toISOString() },
      }),
    );
  }

  async get(key: string): Promise<StoredImage | null> {
    if (!isSafeKey(key)) return null;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      const expiresAt = new Date(res.Metadata?.['expires-at'] ?? 0);
      if (!(expiresAt.getTime() > this.now()) || !res.Body) return null;
      const body = Buffer.from(await res.Body.transformToByteArray());
      return { body, contentType: res.ContentType ?? 'application/octet-stream', expiresAt, size: body.length };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  /** A presigned GET URL valid for `ttlSeconds` (S3 caps presigned URLs at 7 days). */
  presignedUrl(key: string, ttlSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), {
      expiresIn: Math.ceil(ttlSeconds),
    });
  }

  async sweep(now: Date): Promise<number> {
    let removed = 0;
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken: token }),
      );
      for (const obj of page.Contents ?? []) {
        if (!obj.Key) continue;
        try {
          const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: obj.Key }));
          const at = head.Metadata?.['expires-at'];
          // Objects without our metadata are not ours to delete.
          if (!at || new Date(at).getTime() > now.getTime()) continue;
          await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: obj.Key }));
          removed++;
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return removed;
  }
}

/** Where encoded images live between generation and download (return_url: true). */
import type { Readable } from 'node:stream';

export interface PutOptions {
  contentType: string;
  expiresAt: Date;
}

export interface StoredImage {
  body: Buffer | Readable;
  contentType: string;
  expiresAt: Date;
  /** Bytes, when known. */
  size?: number;
}

export interface ImageStore {
  readonly kind: 'local' | 's3';
  put(key: string, png: Buffer, opts: PutOptions): Promise<void>;
  /** The image, or null when absent or already expired. */
  get(key: string): Promise<StoredImage | null>;
  delete(key: string): Promise<void>;
  /** Deletes everything expired at `now`; returns how many images went. */
  sweep(now: Date): Promise<number>;
}

/** A key that is not one of ours (traversal, absolute, encoded, odd characters). */
export class InvalidKeyError extends Error {
  constructor(key: string) {
    super(`invalid image key: ${JSON.stringify(key.slice(0, 200))}`);
    this.name = 'InvalidKeyError';
  }
}

/**
 * The input picture of an image-to-image request (jimeng_i2i_v30, /v1/images/edits): its bytes from the
 * request's base64 or downloaded from its URL, checked against the contract's limits (≤ 4.7 MB, JPEG or
 * PNG, each side ≤ 4096, aspect within 1:3 … 3:1 → 50200), screened by image risk (50411), decoded for the
 * engine; the output size is settled from it (fitted to 1536, multiples of 16). The bytes are then dropped
 * from the request so task records stay small.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import sharp from 'sharp';
import type { InputImageRef } from '../../contract/cvprocess.js';
import { CvError } from '../../contract/errors.js';
import { i2iOutputSize, V3_LIMITS } from '../../contract/jimeng-v3.js';
import type { RawImage } from '../../engine/types.js';
import type { ImageRiskChecker } from '../../safety/image-risk.js';
import type { Stage } from '../types.js';

export interface InputImageOptions {
  /** Null when image risk is off (MENGTU_IMAGE_RISK=0): the input is not screened either. */
  imageRisk: ImageRiskChecker | null;
  /** Let image URLs point at loopback and private networks (tests, closed deployments); default refused. */
  allowPrivateUrls?: boolean;
  /** Download deadline. */
  fetchTimeoutMs?: number;
}

const FORMATS = new Set(['jpeg', 'png']);

/** Loopback, private, link-local and unique-local ranges: a URL there is refused unless allowed. */
const PRIVATE = new BlockList();
for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::', 127], ['fc00::', 7], ['fe80::', 10], ['::ffff:0:0', 96]] as const) PRIVATE.addSubnet(net, bits, 'ipv6');

function refuse(path: string, rule: string): CvError {
  return new CvError(50200, `Invalid Param: ${path} ${rule}`);
}

async function assertPublicHost(url: URL, path: string): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true }).catch(() => []);
  if (addresses.length === 0) throw refuse(path, `could not be downloaded (host ${host} not found)`);
  for (const a of addresses) {
    if (PRIVATE.check(a.address, a.family === 6 ? 'ipv6' : 'ipv4')) throw refuse(path, 'must point at a public address');
  }
}

/** The URL's body, at most `max` bytes (refused beyond, without reading the rest). */
async function download(ref: InputImageRef, opts: InputImageOptions, signal: AbortSignal | undefined): Promise<Buffer> {
  const path = 'image_urls[0]';
  const url = new URL(ref.url ?? '');
  if (!opts.allowPrivateUrls) await assertPublicHost(url, path);
  const timeout = AbortSignal.timeout(opts.fetchTimeoutMs ?? 15_000);
  let res: Response;
  try {
    res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: 'follow' });
  } catch (err) {
    signal?.throwIfAborted();
    throw refuse(path, `could not be downloaded (${timeout.aborted ? 'timed out' : (err as Error).message})`);
  }
  if (!res.ok || !res.body) throw refuse(path, `could not be downloaded (HTTP ${res.status})`);
  const max = V3_LIMITS.inputMaxBytes;
  if (Number(res.headers.get('content-length') ?? 0) > max) {
    await res.body.cancel();
    throw refuse(path, 'must be an image of at most 4.7 MB');
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res.body) {
    n += chunk.byteLength;
    if (n > max) throw refuse(path, 'must be an image of at most 4.7 MB');
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** Checks and decodes a picture file (EXIF orientation applied) to RGBA. */
export async function decodeInputImage(bytes: Buffer, path: string): Promise<RawImage> {
  if (bytes.length === 0) throw refuse(path, 'must not be empty');
  if (bytes.length > V3_LIMITS.inputMaxBytes) throw refuse(path, `must be an image of at most 4.7 MB (got ${(bytes.length / 1024 / 1024).toFixed(2)} MB)`);
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    meta = await sharp(bytes).metadata();
  } catch {
    throw refuse(path, 'must be a JPEG or PNG image');
  }
  if (!meta.format || !FORMATS.has(meta.format) || !meta.width || !meta.height) throw refuse(path, `must be a JPEG or PNG image (got ${meta.format ?? 'unknown'})`);
  const max = V3_LIMITS.inputMaxSide;
  if (meta.width > max || meta.height > max) throw refuse(path, `must be at most ${max}×${max} pixels (got ${meta.width}×${meta.height})`);
  if (Math.max(meta.width, meta.height) > V3_LIMITS.maxRatio * Math.min(meta.width, meta.height)) {
    throw refuse(path, `must have an aspect ratio between 1:3 and 3:1 (got ${meta.width}×${meta.height})`);
  }
  try {
    const { data, info } = await sharp(bytes).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
  } catch {
    throw refuse(path, 'could not be decoded');
  }
}

export function inputImageStage(opts: InputImageOptions): Stage {
  return {
    name: 'input_image',
    async run(job, ctx) {
      const ref = job.request.image_input;
      if (!ref) return job;
      const path = ref.kind === 'base64' ? 'binary_data_base64[0]' : 'image_urls[0]';
      const bytes = ref.kind === 'base64' ? Buffer.from(ref.data ?? '', 'base64') : await download(ref, opts, ctx.signal);
      const image = await decodeInputImage(bytes, path);
      if (opts.imageRisk) job.imageRisk = await opts.imageRisk.assertInputImageSafe(image);
      const size = i2iOutputSize(image.width, image.height, job.request.width, job.request.height);
      const { data: _bytes, ...kept } = ref;
      job.request = { ...job.request, ...size, image_input: { ...kept, bytes: bytes.length } };
      job.outputWidth = size.width;
      job.outputHeight = size.height;
      job.initImage = image;
      return job;
    },
  };
}

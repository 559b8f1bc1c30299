/**
 * The input picture of an image-to-image request (jimeng_i2i_v30, /v1/images/edits): its bytes from the
 * request's base64 or downloaded from its URL, checked against the contract's limits (≤ 4.7 MB, JPEG or
 * PNG, each side ≤ 4096, aspect within 1:3 … 3:1 → 50200), screened by image risk (50411), decoded for the
 * engine; the output size is settled from it (fitted to 1536, multiples of 16). The bytes are then dropped
 * from the request so task records stay small.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
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
  /** Download deadline (all redirects and the body together). */
  fetchTimeoutMs?: number;
  /** Tests: the addresses a download may not connect to (default loopback, private, link-local). */
  blockedAddresses?: BlockList;
  /** Tests: how a URL's host name is resolved (default the system resolver, every address). */
  lookup?: (hostname: string) => Promise<LookupAddress[]>;
}

const FORMATS = new Set(['jpeg', 'png']);

/** Loopback, private, link-local and unique-local ranges: a URL there is refused unless allowed. */
const PRIVATE = new BlockList();
for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::', 127], ['fc00::', 7], ['fe80::', 10], ['::ffff:0:0', 96]] as const) PRIVATE.addSubnet(net, bits, 'ipv6');

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
const URL_PATH = 'image_urls[0]';

function refuse(path: string, rule: string): CvError {
  return new CvError(50200, `Invalid Param: ${path} ${rule}`);
}

function isBlocked(blocked: BlockList, address: string, family: number): boolean {
  return blocked.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

const systemLookup = (hostname: string): Promise<LookupAddress[]> =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/**
 * The socket's own resolver: every address the name resolves to is checked, and the socket connects to
 * one of exactly those, so a name cannot pass a check and then resolve elsewhere (DNS rebinding).
 */
function checkedLookup(blocked: BlockList | null, resolve: (hostname: string) => Promise<LookupAddress[]>): LookupFunction {
  // The socket wants an errno-style error; the refusal rides along as its cause.
  const fail = (e: CvError): Error => new Error(e.message, { cause: e });
  return (hostname, options, callback) => {
    const notFound = (): void => callback(fail(refuse(URL_PATH, `could not be downloaded (host ${hostname} not found)`)), '');
    resolve(hostname).then((found) => {
      const addresses = options.family === 4 || options.family === 6 ? found.filter((a) => a.family === options.family) : found;
      if (addresses.length === 0) return notFound();
      if (blocked && found.some((a) => isBlocked(blocked, a.address, a.family))) return callback(fail(refuse(URL_PATH, 'must point at a public address')), '');
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    }, notFound);
  };
}

/** One GET, answered once the status line and headers are in; a fresh connection (no pooled socket skips the lookup). */
function get(url: URL, lookup: LookupFunction | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? https.request : http.request;
    const req = request(url, { agent: false, signal, ...(lookup ? { lookup } : {}) }, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** The body, at most `max` bytes: refused beyond, with the connection dropped rather than drained. */
async function readCapped(res: IncomingMessage, max: number): Promise<Buffer> {
  if (Number(res.headers['content-length'] ?? 0) > max) {
    res.destroy();
    throw refuse(URL_PATH, 'must be an image of at most 4.7 MB');
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    n += chunk.byteLength;
    if (n > max) {
      res.destroy();
      throw refuse(URL_PATH, 'must be an image of at most 4.7 MB');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The picture at `href` (image_urls[0]), at most 4.7 MB, following up to 5 redirects. Unless private URLs
 * are allowed, every hop's address is checked where the socket is opened (IP literals before, since Node
 * resolves no literal), so neither a redirect nor a second DNS answer reaches an internal address.
 */
export async function downloadInputImage(href: string, opts: InputImageOptions, signal?: AbortSignal): Promise<Buffer> {
  const blocked = opts.allowPrivateUrls ? null : (opts.blockedAddresses ?? PRIVATE);
  const lookup = blocked || opts.lookup ? checkedLookup(blocked, opts.lookup ?? systemLookup) : undefined;
  const timeout = AbortSignal.timeout(opts.fetchTimeoutMs ?? 15_000);
  const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let url = new URL(href);
  try {
    for (let hop = 0; ; hop++) {
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (blocked && isIP(host) && isBlocked(blocked, host, isIP(host))) throw refuse(URL_PATH, 'must point at a public address');
      const res = await get(url, lookup, both);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECTS.has(status) && location) {
        res.destroy();
        if (hop === MAX_REDIRECTS) throw refuse(URL_PATH, 'could not be downloaded (too many redirects)');
        const next = URL.canParse(location, url) ? new URL(location, url) : null;
        if (!next || (next.protocol !== 'http:' && next.protocol !== 'https:')) throw refuse(URL_PATH, 'could not be downloaded (redirected to a non-http(s) URL)');
        url = next;
        continue;
      }
      if (status < 200 || status > 299) {
        res.destroy();
        throw refuse(URL_PATH, `could not be downloaded (HTTP ${status})`);
      }
      return await readCapped(res, V3_LIMITS.inputMaxBytes);
    }
  } catch (err) {
    signal?.throwIfAborted();
    if (err instanceof CvError) throw err;
    if ((err as Error).cause instanceof CvError) throw (err as Error).cause;
    throw refuse(URL_PATH, `could not be downloaded (${timeout.aborted ? 'timed out' : (err as Error).message})`);
  }
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
      const bytes = ref.kind === 'base64' ? Buffer.from(ref.data ?? '', 'base64') : await downloadInputImage(ref.url ?? '', opts, ctx.signal);
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

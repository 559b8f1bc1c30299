/**
 * One file from the hub to disk: streamed into `<dest>.incomplete`, resumed with `Range` after a
 * dropped connection, checked against the expected size and SHA-256, then renamed into place so a
 * half-written file never looks finished.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DownloadError, failureDetail, isNetworkError } from './errors.js';
import { describeFetchFailure, describeHttpStatus, type HubOptions } from './hub.js';

export interface FileDownload {
  url: string;
  dest: string;
  /** Repo-relative name used in messages. */
  name: string;
  repo: string;
  size?: number;
  sha256?: string;
  headers: Record<string, string>;
  /** Called with the bytes of this file on disk so far (including resumed ones). */
  onBytes?: (bytes: number, total: number | undefined, phase: 'start' | 'data' | 'done') => void;
  /** Attempts after a dropped connection before giving up (the partial file stays for next time). */
  retries?: number;
  retryDelayMs?: number;
  hub: HubOptions;
}

async function fileSize(p: string): Promise<number> {
  try {
    return (await fs.stat(p)).size;
  } catch {
    return 0;
  }
}

export async function sha256OfFile(p: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(p), hash);
  return hash.digest('hex');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One HTTP attempt, appending to the partial file. Returns when the body has been fully written. */
async function attempt(d: FileDownload, partial: string): Promise<void> {
  const have = await fileSize(partial);
  if (d.size !== undefined && have === d.size) return; // a previous run got every byte
  if (d.size !== undefined && have > d.size) await fs.rm(partial, { force: true });
  const offset = d.size !== undefined && have > d.size ? 0 : have;
  const headers = { ...d.headers, ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) };
  let res: Response;
  try {
    res = await fetch(d.url, { headers, signal: d.hub.signal });
  } catch (err) {
    throw describeFetchFailure(d.url, err, d.hub, d.name);
  }
  if (res.status === 416 && offset > 0) {
    // The server has nothing past our offset: either we are complete (size unknown) or the partial is bad.
    await res.body?.cancel();
    if (d.size === undefined) return;
    await fs.rm(partial, { force: true });
    throw new DownloadError('network', `server rejected resume of ${d.name} at byte ${offset}; restarting`, { file: d.name });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw describeHttpStatus(res.status, d.url, d.repo, d.name);
  }
  // 206: the server honoured the range, append; 200: it sent everything, start over.
  const append = res.status === 206 && offset > 0;
  let written = append ? offset : 0;
  const total = d.size ?? lengthOf(res, written);
  d.onBytes?.(written, total, 'start');
  if (!res.body) throw new DownloadError('http', `empty body from ${d.url}`, { file: d.name });
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      written += chunk.length;
      d.onBytes?.(written, total, 'data');
      cb(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), counter, createWriteStream(partial, { flags: append ? 'a' : 'w' }));
  } catch (err) {
    if (d.hub.signal?.aborted) throw describeFetchFailure(d.url, err, d.hub, d.name);
    throw new DownloadError('network', `connection dropped after ${written} bytes of ${d.name}: ${failureDetail(err)}`, { file: d.name, cause: err });
  }
  if (total !== undefined && written < total) {
    throw new DownloadError('network', `connection closed after ${written} of ${total} bytes of ${d.name}`, { file: d.name });
  }
}

function lengthOf(res: Response, offset: number): number | undefined {
  const range = res.headers.get('content-range');
  const m = range ? /\/(\d+)$/.exec(range) : null;
  if (m) return Number(m[1]);
  const len = res.headers.get('content-length');
  return len !== null && /^\d+$/.test(len) ? offset + Number(len) : undefined;
}

async function verify(d: FileDownload, partial: string): Promise<void> {
  const size = await fileSize(partial);
  if (d.size !== undefined && size !== d.size) {
    await fs.rm(partial, { force: true });
    throw new DownloadError('integrity', `${d.name}: expected ${d.size} bytes, got ${size}; the partial download was deleted, run the pull again`, { file: d.name });
  }
  if (d.sha256 !== undefined) {
    const got = await sha256OfFile(partial);
    if (got !== d.sha256) {
      await fs.rm(partial, { force: true });
      throw new DownloadError('integrity', `${d.name}: SHA-256 mismatch (expected ${d.sha256}, got ${got}); the corrupt download was deleted`, { file: d.name });
    }
  }
}

export async function downloadFile(d: FileDownload): Promise<void> {
  await fs.mkdir(path.dirname(d.dest), { recursive: true });
  const partial = `${d.dest}.incomplete`;
  const retries = d.retries ?? 3;
  for (let i = 0; ; i++) {
    try {
      await attempt(d, partial);
      break;
    } catch (err) {
      if (i >= retries || !isNetworkError(err) || d.hub.signal?.aborted) throw err;
      await sleep((d.retryDelayMs ?? 1000) * 2 ** i);
    }
  }
  await verify(d, partial);
  await fs.rename(partial, d.dest);
  d.onBytes?.(await fileSize(d.dest), d.size, 'done');
}

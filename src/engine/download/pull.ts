/**
 * Pulls a diffusers-ONNX model from the hub into a directory: asks the hub which files exist (with
 * sizes and SHA-256), keeps the ones the engine loads, downloads each with resume and checks, and
 * writes a manifest last so a directory without one is known to be unfinished.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { DownloadError } from './errors.js';
import { downloadFile, sha256OfFile } from './file.js';
import { authHeaders, headFile, hubEndpoint, hubToken, listRepoFiles, resolveUrl, type HubOptions, type RemoteFile } from './hub.js';
import { DECODER_REQUIRED_FILES, DECODER_STATIC_FILES, localPathFor, REQUIRED_FILES, SDXL_REQUIRED_FILES, STATIC_FILES, type RepoLayout } from './layout.js';
import type { ProgressFn } from './progress.js';

export const MANIFEST = '.mengtu-model.json';

export interface PullSource {
  repo: string;
  revision: string;
  subfolder?: string;
  /** JSON files to write when the repo lacks them (e.g. a scheduler config for a bare export). */
  fallbackJson?: Record<string, unknown>;
  /** Default 'pipeline'. */
  layout?: RepoLayout;
}

export interface PullOptions extends HubOptions {
  onProgress?: ProgressFn;
  log?: (msg: string) => void;
  retries?: number;
  retryDelayMs?: number;
}

export interface Manifest {
  repo: string;
  revision: string;
  subfolder?: string;
  endpoint: string;
  pulledAt: string;
  files: { path: string; size: number; sha256?: string }[];
}

interface Planned extends RemoteFile {
  local: string;
}

async function planFiles(src: PullSource, opts: PullOptions): Promise<Planned[]> {
  let remote: RemoteFile[];
  let fromApi = true;
  try {
    remote = await listRepoFiles(src.repo, src.revision, opts);
  } catch (err) {
    // Offline or refused: the file downloads would fail the same way, so say so now.
    if (err instanceof DownloadError && (err.kind === 'network' || err.kind === 'auth' || err.kind === 'aborted')) throw err;
    opts.log?.(`file list unavailable (${(err as Error).message}); trying the standard layout`);
    const prefix = src.subfolder ? `${src.subfolder.replace(/\/+$/, '')}/` : '';
    remote = (src.layout === 'decoder' ? DECODER_STATIC_FILES : STATIC_FILES).map((f) => ({ path: prefix + f }));
    fromApi = false;
  }
  const planned: Planned[] = [];
  for (const f of remote) {
    const local = localPathFor(f.path, src.subfolder, src.layout);
    if (local !== null) planned.push({ ...f, local });
  }
  if (!fromApi) {
    // Without the API, a HEAD per file gives size and SHA-256; files the mirror lacks are dropped.
    const headed: Planned[] = [];
    for (const p of planned) {
      try {
        headed.push({ ...p, ...(await headFile(src.repo, src.revision, p.path, opts)), local: p.local });
      } catch (err) {
        if (err instanceof DownloadError && err.kind === 'not_found') continue;
        throw err;
      }
    }
    planned.splice(0, planned.length, ...headed);
  }
  const have = new Set(planned.map((p) => p.local));
  const sdxl = src.layout !== 'decoder' && [...have].some((f) => f.startsWith('text_encoder_2/') || f.startsWith('tokenizer_2/'));
  const required = src.layout === 'decoder' ? DECODER_REQUIRED_FILES : [...REQUIRED_FILES, ...(sdxl ? SDXL_REQUIRED_FILES : [])];
  const missing = required.filter((f) => !have.has(f));
  if (missing.length > 0) {
    const where = `${src.repo}@${src.revision}${src.subfolder ? `/${src.subfolder}` : ''}`;
    throw new DownloadError('not_found', `${where} is not a diffusers ONNX model: missing ${missing.join(', ')}`);
  }
  // Small files listed without a size (non-LFS in some API answers) get one from HEAD.
  for (const p of planned) {
    if (p.size === undefined) Object.assign(p, await headFile(src.repo, src.revision, p.path, opts), { local: p.local });
  }
  return planned;
}

async function alreadyHave(file: string, expected: Planned): Promise<boolean> {
  try {
    const st = await fs.stat(file);
    if (expected.size !== undefined && st.size !== expected.size) return false;
    if (expected.sha256 !== undefined) return (await sha256OfFile(file)) === expected.sha256;
    return expected.size !== undefined;
  } catch {
    return false;
  }
}

export async function pullRepo(src: PullSource, dir: string, opts: PullOptions = {}): Promise<Manifest> {
  const hub: HubOptions = { ...opts, targetDir: opts.targetDir ?? dir };
  const endpoint = hubEndpoint(hub);
  const headers = authHeaders(hubToken(hub));
  await fs.mkdir(dir, { recursive: true });
  await fs.rm(path.join(dir, MANIFEST), { force: true });
  const files = await planFiles(src, hub);
  const total = files.every((f) => f.size !== undefined) ? files.reduce((s, f) => s + f.size!, 0) : undefined;
  let doneBytes = 0;
  for (const f of files) {
    const dest = path.join(dir, ...f.local.split('/'));
    if (await alreadyHave(dest, f)) {
      doneBytes += f.size ?? 0;
      opts.onProgress?.({ file: f.local, fileBytes: f.size ?? 0, fileTotal: f.size, totalBytes: doneBytes, total, phase: 'done' });
      continue;
    }
    const base = doneBytes;
    await downloadFile({
      url: resolveUrl(endpoint, src.repo, src.revision, f.path),
      dest,
      name: f.path,
      repo: src.repo,
      ...(f.size !== undefined ? { size: f.size } : {}),
      ...(f.sha256 !== undefined ? { sha256: f.sha256 } : {}),
      headers,
      hub,
      ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
      ...(opts.retryDelayMs !== undefined ? { retryDelayMs: opts.retryDelayMs } : {}),
      onBytes: (bytes, fileTotal, phase) =>
        opts.onProgress?.({ file: f.local, fileBytes: bytes, fileTotal, totalBytes: base + bytes, total, phase }),
    });
    doneBytes += (await fs.stat(dest)).size;
  }
  for (const [rel, json] of Object.entries(src.fallbackJson ?? {})) {
    const p = path.join(dir, ...rel.split('/'));
    if (files.some((f) => f.local === rel)) continue;
    await fs.mkdir(path.dirname(p), { recursive: true });
    await fs.writeFile(p, `${JSON.stringify(json, null, 2)}\n`);
  }
  const manifest: Manifest = {
    repo: src.repo,
    revision: src.revision,
    ...(src.subfolder ? { subfolder: src.subfolder } : {}),
    endpoint,
    pulledAt: new Date().toISOString(),
    files: files.map((f) => ({ path: f.local, size: f.size ?? 0, ...(f.sha256 ? { sha256: f.sha256 } : {}) })),
  };
  await fs.writeFile(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export async function readManifest(dir: string): Promise<Manifest | null> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch {
    return null;
  }
}

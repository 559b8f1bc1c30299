/**
 * The Hugging Face hub's HTTP layout: `{endpoint}/{repo}/resolve/{rev}/{path}` for files,
 * `{endpoint}/api/models/{repo}/revision/{rev}` for the file list. Works against mirrors that
 * copy it (HF_ENDPOINT).
 */
import { DownloadError, failureDetail, isNetworkError } from './errors.js';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubOptions {
  endpoint?: string;
  token?: string;
  /** Where the model would go, named in "cannot reach" errors. */
  targetDir?: string;
  signal?: AbortSignal;
}

export function hubEndpoint(opts: HubOptions, env: NodeJS.ProcessEnv = process.env): string {
  const e = opts.endpoint ?? (env.HF_ENDPOINT && env.HF_ENDPOINT.length > 0 ? env.HF_ENDPOINT : DEFAULT_ENDPOINT);
  return e.replace(/\/+$/, '');
}

export function hubToken(opts: HubOptions, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const t = opts.token ?? env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  return t && t.length > 0 ? t : undefined;
}

const encodePath = (p: string): string => p.split('/').map(encodeURIComponent).join('/');

export function resolveUrl(endpoint: string, repo: string, revision: string, file: string): string {
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(file)}`;
}

export function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Turns a fetch rejection into a DownloadError that says what to do. */
export function describeFetchFailure(url: string, err: unknown, opts: HubOptions, file?: string): DownloadError {
  if (err instanceof DownloadError) return err;
  if (opts.signal?.aborted) return new DownloadError('aborted', `download of ${file ?? url} aborted`, { file, cause: err });
  const code = failureDetail(err);
  const origin = safeOrigin(url);
  const where = opts.targetDir ? ` or copy the model into ${opts.targetDir}` : '';
  const kind = isNetworkError(err) ? 'network' : 'http';
  return new DownloadError(
    kind,
    `cannot reach ${origin}: ${code}. Check the network, set HF_ENDPOINT to a mirror (e.g. https://hf-mirror.com)${where}.`,
    { file, cause: err },
  );
}

/** A non-2xx hub answer as a DownloadError (401/403 → HF_TOKEN advice, 404 → check the name). */
export function describeHttpStatus(status: number, url: string, repo: string, file?: string): DownloadError {
  if (status === 401 || status === 403) {
    return new DownloadError(
      'auth',
      `the hub refused access to ${repo} (HTTP ${status}) for ${url}. Set HF_TOKEN to a token that can read it; gated models also need their licence accepted on the model page.`,
      { file },
    );
  }
  if (status === 404) {
    return new DownloadError('not_found', `not found (HTTP 404): ${url}. Check the repo name, revision and file path.`, { file });
  }
  return new DownloadError('http', `HTTP ${status} from ${url}`, { file });
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

export interface RemoteFile {
  /** Path inside the repo. */
  path: string;
  size?: number;
  /** Hex SHA-256 of the content, known for LFS/xet files. */
  sha256?: string;
}

interface SiblingJson {
  rfilename?: unknown;
  size?: unknown;
  lfs?: { sha256?: unknown; size?: unknown } | null;
}

/** The repo's file list with sizes and LFS hashes (`?blobs=true`), or a DownloadError. */
export async function listRepoFiles(repo: string, revision: string, opts: HubOptions): Promise<RemoteFile[]> {
  const endpoint = hubEndpoint(opts);
  const url = `${endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { ...authHeaders(hubToken(opts)), accept: 'application/json' }, signal: opts.signal });
  } catch (err) {
    throw describeFetchFailure(url, err, opts);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw describeHttpStatus(res.status, url, repo);
  }
  const body = (await res.json()) as { siblings?: unknown };
  if (!Array.isArray(body.siblings)) throw new DownloadError('http', `unexpected answer from ${url}: no siblings list`);
  const files: RemoteFile[] = [];
  for (const s of body.siblings as SiblingJson[]) {
    if (typeof s.rfilename !== 'string') continue;
    const f: RemoteFile = { path: s.rfilename };
    const size = typeof s.lfs?.size === 'number' ? s.lfs.size : typeof s.size === 'number' ? s.size : undefined;
    if (size !== undefined) f.size = size;
    if (typeof s.lfs?.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(s.lfs.sha256)) f.sha256 = s.lfs.sha256.toLowerCase();
    files.push(f);
  }
  return files;
}

/**
 * Size and SHA-256 from a HEAD on the resolve URL. The hub answers LFS files with a redirect that
 * carries X-Linked-Size and X-Linked-Etag (the SHA-256); small files with Content-Length and a
 * git ETag (not a SHA-256, so ignored for checking).
 */
export async function headFile(repo: string, revision: string, file: string, opts: HubOptions): Promise<RemoteFile> {
  const url = resolveUrl(hubEndpoint(opts), repo, revision, file);
  let res: Response;
  try {
    res = await fetch(url, { method: 'HEAD', redirect: 'manual', headers: authHeaders(hubToken(opts)), signal: opts.signal });
  } catch (err) {
    throw describeFetchFailure(url, err, opts, file);
  }
  if (res.status >= 400) throw describeHttpStatus(res.status, url, repo, file);
  const out: RemoteFile = { path: file };
  const linkedSize = res.headers.get('x-linked-size');
  const len = linkedSize ?? (res.status < 300 ? res.headers.get('content-length') : null);
  if (len !== null && /^\d+$/.test(len)) out.size = Number(len);
  const etag = (res.headers.get('x-linked-etag') ?? res.headers.get('etag') ?? '').replace(/^W\//, '').replace(/"/g, '');
  if (/^[0-9a-f]{64}$/i.test(etag)) out.sha256 = etag.toLowerCase();
  return out;
}

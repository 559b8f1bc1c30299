/** Why a model download failed, in words a user can act on. */
export type DownloadErrorKind = 'network' | 'auth' | 'not_found' | 'http' | 'integrity' | 'aborted';

export class DownloadError extends Error {
  readonly kind: DownloadErrorKind;
  /** The repo-relative file concerned, when there is one. */
  readonly file: string | undefined;

  constructor(kind: DownloadErrorKind, message: string, options?: { file?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DownloadError';
    this.kind = kind;
    this.file = options?.file;
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** The errno-style code buried in a fetch failure (`TypeError: fetch failed` → cause.code). */
export function networkCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isNetworkError(err: unknown): boolean {
  if (err instanceof DownloadError) return err.kind === 'network';
  const code = networkCode(err);
  if (code !== undefined) return NETWORK_CODES.has(code) || code.startsWith('UND_ERR');
  return err instanceof TypeError && /fetch failed|terminated/i.test(err.message);
}

/** The most specific text of a failure: its errno code, else the innermost cause's message. */
export function failureDetail(err: unknown): string {
  const code = networkCode(err);
  if (code !== undefined) return code;
  let e: unknown = err;
  let msg = err instanceof Error ? err.message : String(err);
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    msg = e.message || msg;
    e = e.cause;
  }
  return msg;
}

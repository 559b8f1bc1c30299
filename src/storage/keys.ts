/**
 * Image keys are made by us (`YYYY/MM/DD/<requestId>-<n>.png`), never taken from users. Anything arriving
 * from a URL is checked against that shape: relative, '/'-separated segments of [A-Za-z0-9._-] that do not
 * start with a dot — which rules out '..', absolute paths, backslashes, NUL and any percent-encoding.
 */
import { InvalidKeyError } from './types.js';

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
const MAX_KEY = 512;

export function isSafeKey(key: string): boolean {
  if (key.length === 0 || key.length > MAX_KEY) return false;
  const parts = key.split('/');
  return parts.length <= 8 && parts.every((p) => SEGMENT.test(p));
}

export function assertSafeKey(key: string): string {
  if (!isSafeKey(key)) throw new InvalidKeyError(key);
  return key;
}

/** `2025/04/22/<requestId>-0.png` (UTC date): groups files by day so sweeping and listing stay cheap. */
export function imageKey(requestId: string, index: number, at: Date = new Date(), ext = 'png'): string {
  const id = requestId.replace(/[^A-Za-z0-9_-]/g, '');
  if (id.length === 0) throw new InvalidKeyError(requestId);
  const y = at.getUTCFullYear();
  const m = String(at.getUTCMonth() + 1).padStart(2, '0');
  const d = String(at.getUTCDate()).padStart(2, '0');
  return assertSafeKey(`${y}/${m}/${d}/${id}-${index}.${ext}`);
}

/**
 * The URL-signing secret: the configured one (MENGTU_URL_SECRET) when set, else 32 random bytes generated on first start and
 * kept in `<dataDir>/url-signing.key` with mode 0600 (so every restart keeps issued URLs valid).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export function urlSecretPath(dataDir: string): string {
  return path.join(dataDir, 'url-signing.key');
}

export async function loadUrlSecret(
  dataDir: string,
  configured?: string,
): Promise<{ secret: Buffer; source: 'env' | 'file' | 'generated' }> {
  const fromEnv = configured;
  if (fromEnv && fromEnv.length > 0) {
    if (fromEnv.length < 16) throw new RangeError('MENGTU_URL_SECRET must be at least 16 characters');
    return { secret: Buffer.from(fromEnv, 'utf8'), source: 'env' };
  }
  const file = urlSecretPath(dataDir);
  await mkdir(dataDir, { recursive: true });
  const fresh = randomBytes(32);
  try {
    // 'wx': never overwrite a secret another process just created.
    await writeFile(file, fresh.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    return { secret: fresh, source: 'generated' };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  const hex = (await readFile(file, 'utf8')).trim();
  if (!/^[0-9a-f]{32,}$/.test(hex)) throw new Error(`${file} does not hold a hex secret`);
  return { secret: Buffer.from(hex, 'hex'), source: 'file' };
}

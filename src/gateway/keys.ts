/**
 * Access-key store. Keys come from `MENGTU_ACCESS_KEYS="AK1:SK1,AK2:SK2"` and/or the keys file
 * `<dataDir>/keys.json` (mode 0600). On first start with none configured, one pair is generated and stored.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  createdAt: string;
  description?: string | undefined;
  disabled?: boolean | undefined;
}

const KeyFileSchema = z.object({
  keys: z.array(
    z.object({
      accessKeyId: z.string().min(1),
      secretAccessKey: z.string().min(1),
      createdAt: z.string(),
      description: z.string().optional(),
      disabled: z.boolean().optional(),
    }),
  ),
});

export class KeyConfigError extends Error {
  override name = 'KeyConfigError';
}

export function keysFilePath(dataDir: string): string {
  return path.join(dataDir, 'keys.json');
}

/** Parses `AK1:SK1,AK2:SK2`. */
export function parseKeysEnv(value: string): AccessKey[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((pair) => {
      const i = pair.indexOf(':');
      if (i <= 0 || i === pair.length - 1) {
        throw new KeyConfigError('MENGTU_ACCESS_KEYS must look like "AK1:SK1,AK2:SK2"');
      }
      return { accessKeyId: pair.slice(0, i), secretAccessKey: pair.slice(i + 1), createdAt: 'env' };
    });
}

export async function readKeysFile(file: string): Promise<AccessKey[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const parsed = KeyFileSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new KeyConfigError(`${file}: not a valid keys file: ${parsed.error.message}`);
  return parsed.data.keys;
}

async function writeKeysFile(file: string, keys: AccessKey[]): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ keys }, null, 2) + '\n', { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

/** A fresh pair in the shape Volcengine uses (AKLT… id, base64 secret). */
export function generateKeyPair(description?: string): AccessKey {
  return {
    accessKeyId: 'AKLT' + randomBytes(16).toString('hex'),
    secretAccessKey: randomBytes(30).toString('base64'),
    createdAt: new Date().toISOString(),
    description,
  };
}

export async function createKey(dataDir: string, description?: string): Promise<AccessKey> {
  const file = keysFilePath(dataDir);
  const keys = await readKeysFile(file);
  const key = generateKeyPair(description);
  await writeKeysFile(file, [...keys, key]);
  return key;
}

export class KeyStore {
  private readonly byId: Map<string, AccessKey>;

  constructor(keys: AccessKey[]) {
    this.byId = new Map(keys.filter((k) => !k.disabled).map((k) => [k.accessKeyId, k]));
  }

  secretFor(accessKeyId: string): string | undefined {
    return this.byId.get(accessKeyId)?.secretAccessKey;
  }

  get size(): number {
    return this.byId.size;
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }
}

export interface LoadedKeys {
  store: KeyStore;
  /** Set when this start generated the first key pair (print it once). */
  generated: AccessKey | null;
}

export interface KeySources {
  /** `AK1:SK1,AK2:SK2` (MENGTU_ACCESS_KEYS). */
  accessKeys?: string | undefined;
  /** Default `<dataDir>/keys.json`. */
  keysFile?: string | undefined;
}

export async function loadKeyStore(dataDir: string, sources: KeySources = {}): Promise<LoadedKeys> {
  const fromEnv = sources.accessKeys ? parseKeysEnv(sources.accessKeys) : [];
  const keysFile = sources.keysFile ?? keysFilePath(dataDir);
  const fromFile = await readKeysFile(keysFile);
  if (fromEnv.length + fromFile.length > 0) return { store: new KeyStore([...fromFile, ...fromEnv]), generated: null };
  const key = generateKeyPair('generated on first start');
  await writeKeysFile(keysFile, [key]);
  return { store: new KeyStore([key]), generated: key };
}

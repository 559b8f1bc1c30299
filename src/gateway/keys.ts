/**
 * Access keys. They come from `MENGTU_ACCESS_KEYS="AK1:SK1,AK2:SK2"` and from a key backend: the keys file
 * `<dataDir>/keys.json` (mode 0600) in embedded mode, a Redis hash in scaled mode. On first start with none
 * anywhere, one pair is generated and stored. Running gateways reload the backend on change notifications
 * and periodically, so `mengtu keys create|revoke|enable` takes effect within seconds without a restart.
 */
import { randomBytes } from 'node:crypto';
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import path from 'node:path';
import { z } from 'zod';

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  createdAt: string;
  description?: string | undefined;
  disabled?: boolean | undefined;
}

const KeySchema = z.object({
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
  createdAt: z.string(),
  description: z.string().optional(),
  disabled: z.boolean().optional(),
});
const KeyFileSchema = z.object({ keys: z.array(KeySchema) });

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

/** Where keys live: the keys file (embedded mode) or a Redis hash (scaled mode). Both are edited while gateways run. */
export interface KeyBackend {
  readonly where: string;
  list(): Promise<AccessKey[]>;
  /** Creates or replaces one key. */
  put(key: AccessKey): Promise<void>;
  /** Calls `onChange` when keys may have changed (file watch, Redis pub/sub); returns the stop function. */
  watch(onChange: () => void): () => void;
  close(): Promise<void>;
}

export class FileKeyBackend implements KeyBackend {
  constructor(readonly file: string) {}

  get where(): string {
    return this.file;
  }

  list(): Promise<AccessKey[]> {
    return readKeysFile(this.file);
  }

  async put(key: AccessKey): Promise<void> {
    const keys = await readKeysFile(this.file);
    const i = keys.findIndex((k) => k.accessKeyId === key.accessKeyId);
    await writeKeysFile(this.file, i < 0 ? [...keys, key] : keys.map((k, j) => (j === i ? key : k)));
  }

  watch(onChange: () => void): () => void {
    // The file is replaced by rename, so watch its directory (a watch on the file would follow the old inode).
    const dir = path.dirname(this.file);
    const base = path.basename(this.file);
    let watcher: FSWatcher | undefined;
    try {
      watcher = fsWatch(dir, { persistent: false }, (_event, name) => {
        if (name === null || name === base) onChange();
      });
      watcher.on('error', () => undefined); // the periodic re-read still runs
    } catch {
      // No directory yet or no inotify: the periodic re-read covers it.
    }
    return () => watcher?.close();
  }

  async close(): Promise<void> {}
}

/** Keys in the hash `<prefix>:keys` (field = access key id, value = the key as JSON); changes are published. */
export class RedisKeyBackend implements KeyBackend {
  private readonly hash: string;
  private readonly channel: string;
  private readonly subscribers: Redis[] = [];

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.hash = `${prefix}:keys`;
    this.channel = `${prefix}:keys:changed`;
  }

  get where(): string {
    return `Redis hash ${this.hash}`;
  }

  async list(): Promise<AccessKey[]> {
    const all = await this.redis.hgetall(this.hash);
    return Object.values(all)
      .map((v) => KeySchema.safeParse(JSON.parse(v)))
      .filter((r) => r.success)
      .map((r) => r.data)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async put(key: AccessKey): Promise<void> {
    await this.redis.multi().hset(this.hash, key.accessKeyId, JSON.stringify(key)).publish(this.channel, key.accessKeyId).exec();
  }

  watch(onChange: () => void): () => void {
    const sub = this.redis.duplicate();
    this.subscribers.push(sub);
    sub.on('message', () => onChange());
    sub.on('error', () => undefined); // reconnects by itself; the periodic re-read covers the gap
    sub.subscribe(this.channel).catch(() => undefined);
    return () => sub.disconnect();
  }

  async close(): Promise<void> {
    for (const s of this.subscribers.splice(0)) s.disconnect();
  }
}

export async function createKey(backend: KeyBackend, description?: string): Promise<AccessKey> {
  const key = generateKeyPair(description);
  await backend.put(key);
  return key;
}

export class UnknownKeyError extends Error {
  override name = 'UnknownKeyError';
}

/** Revokes (disabled = true) or re-enables a key; running gateways see it within the reload interval. */
export async function setKeyDisabled(backend: KeyBackend, accessKeyId: string, disabled: boolean): Promise<AccessKey> {
  const key = (await backend.list()).find((k) => k.accessKeyId === accessKeyId);
  if (!key) throw new UnknownKeyError(`no key ${accessKeyId} in ${backend.where} (keys from MENGTU_ACCESS_KEYS cannot be revoked at run time)`);
  const next = { ...key, disabled };
  await backend.put(next);
  return next;
}

export class KeyStore {
  private byId: Map<string, AccessKey>;

  constructor(keys: AccessKey[]) {
    this.byId = KeyStore.index(keys);
  }

  private static index(keys: AccessKey[]): Map<string, AccessKey> {
    return new Map(keys.filter((k) => !k.disabled).map((k) => [k.accessKeyId, k]));
  }

  /** Swaps in a fresh key list (reloads); lookups stay synchronous. */
  replace(keys: AccessKey[]): void {
    this.byId = KeyStore.index(keys);
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

/** The keys file's backend for a data directory and the configured file. */
export function fileKeyBackend(dataDir: string, sources: KeySources = {}): FileKeyBackend {
  return new FileKeyBackend(sources.keysFile ?? keysFilePath(dataDir));
}

/**
 * Reads the keys (backend + configured ones); on a first start with none anywhere, generates one pair and
 * stores it in the backend.
 */
export async function openKeyStore(backend: KeyBackend, accessKeys?: string): Promise<LoadedKeys> {
  const fromEnv = accessKeys ? parseKeysEnv(accessKeys) : [];
  const stored = await backend.list();
  if (fromEnv.length + stored.length > 0) return { store: new KeyStore([...stored, ...fromEnv]), generated: null };
  const key = await createKey(backend, 'generated on first start');
  return { store: new KeyStore([key]), generated: key };
}

export async function loadKeyStore(dataDir: string, sources: KeySources = {}): Promise<LoadedKeys> {
  return openKeyStore(fileKeyBackend(dataDir, sources), sources.accessKeys);
}

export interface KeyReloadOptions {
  /** Re-read period besides change notifications (MENGTU_KEYS_RELOAD_MS). */
  intervalMs: number;
  onError?: (err: unknown) => void;
  onReload?: (count: number) => void;
}

/**
 * Keeps `store` in step with `backend` while a gateway runs: on every change notification and every
 * `intervalMs`, so a key created, revoked or enabled takes effect within seconds, without a restart.
 */
export function startKeyReload(store: KeyStore, backend: KeyBackend, accessKeys: string | undefined, opts: KeyReloadOptions): () => void {
  const fromEnv = accessKeys ? parseKeysEnv(accessKeys) : [];
  let running = false;
  let again = false;
  const reload = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const keys = await backend.list();
        store.replace([...keys, ...fromEnv]);
        opts.onReload?.(store.size);
      } while (again);
    } catch (err) {
      // A half-written or unreadable store keeps the last good keys.
      opts.onError?.(err);
    } finally {
      running = false;
    }
  };
  const trigger = () => void reload();
  const stopWatch = backend.watch(trigger);
  const timer = setInterval(trigger, opts.intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    stopWatch();
  };
}

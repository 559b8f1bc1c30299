/**
 * Images as files under `<dataDir>/images/<key>`, with their content type and expiry in a sidecar under
 * `<root>/.meta/<key>.json` (a '.'-segment no key can name). Writes go to a temp file and are renamed, so a
 * reader never sees half an image. Every path is resolved under the root and checked after symlinks.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, realpath, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertSafeKey, isSafeKey } from './keys.js';
import type { ImageStore, PutOptions, StoredImage } from './types.js';

interface Sidecar {
  contentType: string;
  expiresAt: string;
}

const META_DIR = '.meta';
/** Temp files older than this are leftovers of a killed writer. */
export const TEMP_GRACE_MS = 10 * 60_000;

export interface LocalStoreOptions {
  /** Clock for expiry checks in get(); defaults to Date.now. */
  now?: () => number;
}

export class LocalImageStore implements ImageStore {
  readonly kind = 'local' as const;
  private readonly root: string;
  private readonly now: () => number;
  private realRoot: string | null = null;

  constructor(root: string, opts: LocalStoreOptions = {}) {
    this.root = path.resolve(root);
    this.now = opts.now ?? Date.now;
  }

  /** `<dataDir>/images` (or another folder of the data dir, e.g. `tasks`). */
  static inDataDir(dataDir: string, opts: LocalStoreOptions & { subdir?: string } = {}): LocalImageStore {
    const { subdir, ...rest } = opts;
    return new LocalImageStore(path.join(dataDir, subdir ?? 'images'), rest);
  }

  private filePath(key: string): string {
    assertSafeKey(key);
    const p = path.resolve(this.root, ...key.split('/'));
    if (!p.startsWith(this.root + path.sep)) throw new Error('unreachable: safe key resolved outside the root');
    return p;
  }

  private metaPath(key: string): string {
    assertSafeKey(key);
    return path.resolve(this.root, META_DIR, ...key.split('/')) + '.json';
  }

  /** True when the real path (after symlinks) is inside the real root. */
  private async insideRoot(p: string): Promise<boolean> {
    this.realRoot ??= await realpath(this.root);
    try {
      const real = await realpath(p);
      return real.startsWith(this.realRoot + path.sep);
    } catch {
      return false;
    }
  }

  private async writeAtomic(p: string, data: Buffer | string): Promise<void> {
    await mkdir(path.dirname(p), { recursive: true });
    const tmp = `${p}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, data, { mode: 0o640 });
    await rename(tmp, p);
  }

  async put(key: string, png: Buffer, opts: PutOptions): Promise<void> {
    const file = this.filePath(key);
    await mkdir(this.root, { recursive: true });
    const sidecar: Sidecar = { contentType: opts.contentType, expiresAt: opts.expiresAt.toISOString() };
    // Image first, then the sidecar: a crash in between leaves an orphan file, never a record without data.
    await this.writeAtomic(file, png);
    await this.writeAtomic(this.metaPath(key), JSON.stringify(sidecar));
  }

  private async readSidecar(key: string): Promise<Sidecar | null> {
    const p = this.metaPath(key);
    if (!(await this.insideRoot(p))) return null;
    try {
      const s = JSON.parse(await readFile(p, 'utf8')) as Partial<Sidecar>;
      return typeof s.contentType === 'string' && typeof s.expiresAt === 'string' ? (s as Sidecar) : null;
    } catch {
      return null;
    }
  }

  async get(key: string): Promise<StoredImage | null> {
    if (!isSafeKey(key)) return null;
    const meta = await this.readSidecar(key);
    if (!meta) return null;
    const expiresAt = new Date(meta.expiresAt);
    if (!(expiresAt.getTime() > this.now())) return null;
    const file = this.filePath(key);
    if (!(await this.insideRoot(file))) return null;
    try {
      const body = await readFile(file);
      return { body, contentType: meta.contentType, expiresAt, size: body.length };
    } catch {
      return null;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.filePath(key), { force: true });
    await rm(this.metaPath(key), { force: true });
    await this.pruneEmpty(path.dirname(this.filePath(key)), this.root);
    await this.pruneEmpty(path.dirname(this.metaPath(key)), path.join(this.root, META_DIR));
  }

  /** Removes now-empty day/month/year folders up to (not including) `stop`. */
  private async pruneEmpty(dir: string, stop: string): Promise<void> {
    while (dir.startsWith(stop + path.sep)) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
      dir = path.dirname(dir);
    }
  }

  async sweep(now: Date): Promise<number> {
    let removed = 0;
    for await (const { rel } of filesUnder(path.join(this.root, META_DIR))) {
      if (!rel.endsWith('.json')) continue;
      const key = rel.slice(0, -'.json'.length);
      if (!isSafeKey(key)) continue;
      const meta = await this.readSidecar(key);
      if (meta && new Date(meta.expiresAt).getTime() > now.getTime()) continue;
      await this.delete(key);
      removed++;
    }
    return removed + (await this.sweepTemp(now));
  }

  /**
   * Removes half-written temp files (a process killed between write and rename leaves them). Only those
   * older than TEMP_GRACE_MS: another process sharing the folder may be writing one right now.
   */
  private async sweepTemp(now: Date): Promise<number> {
    let removed = 0;
    for await (const { abs } of filesUnder(this.root)) {
      if (!abs.endsWith('.tmp')) continue;
      const st = await stat(abs).catch(() => null);
      if (st && now.getTime() - st.mtimeMs > TEMP_GRACE_MS) {
        await rm(abs, { force: true });
        removed++;
      }
    }
    return removed;
  }
}

/** Every regular file below `dir` (absolute path, and relative with '/'); a missing folder has none. */
async function* filesUnder(dir: string, prefix: string[] = []): AsyncGenerator<{ abs: string; rel: string }> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const abs = path.join(dir, e.name);
    if (e.isDirectory()) yield* filesUnder(abs, [...prefix, e.name]);
    else if (e.isFile()) yield { abs, rel: [...prefix, e.name].join('/') };
  }
}

/**
 * Durable task records for the embedded mode: SQLite (better-sqlite3, WAL) at `<dataDir>/tasks.sqlite`,
 * pictures in the image store (files under `<dataDir>/tasks`). A restart forgets no task_id.
 *
 * A task that was queued or generating when the process died cannot finish by itself (its job lived in that
 * process's memory), so open() answers it: state done with error 50500 and the message "interrupted by a
 * restart; submit again" (the official SDKs retry 50500). It is never silently not_found.
 *
 * Every state change is one UPDATE guarded by the states it may leave, so a cancel and a finishing job
 * cannot both win.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { CvErrorCode } from '../contract/errors.js';
import type { RawImage } from '../engine/types.js';
import type { ImageStore } from '../storage/types.js';
import { decodePicture, lookupStored, encodePicture, taskPictureKey, type TaskStoreOptions } from './task-store.js';
import type { JobRecord, ProgressEvent, TaskLookup, TaskRecord, TaskState, TaskStore } from './types.js';

/** What open() records for a task a restart interrupted. */
export const INTERRUPTED = { code: 50500 as CvErrorCode, message: 'interrupted by a restart; submit again' };

interface Row {
  id: string;
  access_key: string;
  state: TaskState;
  finished_at: number | null;
  job: string | null;
  error: string | null;
  progress: string | null;
}

export interface SqliteTaskStoreOptions extends TaskStoreOptions {
  /** The database file; default `<dataDir>/tasks.sqlite`. */
  file: string;
}

export class SqliteTaskStore implements TaskStore {
  private readonly db: Database.Database;
  private readonly now: () => number;
  /** Tasks open() found unfinished and answered as interrupted. */
  readonly interrupted: number;
  private readonly stmt: {
    insert: Database.Statement<[string, string, number]>;
    get: Database.Statement<[string], Row>;
    transition: Database.Statement<[string, string, string]>;
    progress: Database.Statement<[string, string]>;
    finish: Database.Statement<[string, number, string]>;
    fail: Database.Statement<[string, number, string]>;
    cancel: Database.Statement<[number, string]>;
    gone: Database.Statement<[number], { id: string }>;
    delete: Database.Statement<[string]>;
  };

  constructor(
    private readonly images: ImageStore,
    private readonly opts: SqliteTaskStoreOptions,
  ) {
    this.now = opts.now ?? Date.now;
    mkdirSync(path.dirname(opts.file), { recursive: true });
    this.db = new Database(opts.file);
    // WAL: readers never wait for the writer; NORMAL sync is durable across a process crash (not a power cut
    // in the last instant), which is what a task record needs.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS tasks (
      id TEXT PRIMARY KEY,
      access_key TEXT NOT NULL,
      state TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      finished_at INTEGER,
      job TEXT,
      error TEXT,
      progress TEXT
    )`);
    this.db.exec('CREATE INDEX IF NOT EXISTS tasks_finished ON tasks (finished_at)');
    this.stmt = {
      insert: this.db.prepare("INSERT INTO tasks (id, access_key, state, created_at) VALUES (?, ?, 'in_queue', ?)"),
      get: this.db.prepare('SELECT id, access_key, state, finished_at, job, error, progress FROM tasks WHERE id = ?'),
      transition: this.db.prepare('UPDATE tasks SET state = ? WHERE id = ? AND state = ?'),
      progress: this.db.prepare("UPDATE tasks SET progress = ? WHERE id = ? AND state IN ('in_queue', 'generating')"),
      finish: this.db.prepare("UPDATE tasks SET state = 'done', job = ?, finished_at = ?, progress = NULL WHERE id = ? AND state IN ('in_queue', 'generating')"),
      fail: this.db.prepare("UPDATE tasks SET state = 'done', error = ?, finished_at = ?, progress = NULL WHERE id = ? AND state IN ('in_queue', 'generating')"),
      cancel: this.db.prepare("UPDATE tasks SET state = 'cancelled', finished_at = ?, progress = NULL WHERE id = ? AND state IN ('in_queue', 'generating')"),
      gone: this.db.prepare('SELECT id FROM tasks WHERE finished_at IS NOT NULL AND finished_at <= ?'),
      delete: this.db.prepare('DELETE FROM tasks WHERE id = ?'),
    };
    this.interrupted = this.db
      .prepare("UPDATE tasks SET state = 'done', error = ?, finished_at = ?, progress = NULL WHERE state IN ('in_queue', 'generating')")
      .run(JSON.stringify(INTERRUPTED), this.now()).changes;
  }

  /** `<dataDir>/tasks.sqlite` with pictures in `images`. */
  static inDataDir(dataDir: string, images: ImageStore, opts: TaskStoreOptions): SqliteTaskStore {
    return new SqliteTaskStore(images, { ...opts, file: path.join(dataDir, 'tasks.sqlite') });
  }

  async create(id: string, accessKey: string): Promise<TaskRecord> {
    this.stmt.insert.run(id, accessKey, this.now());
    return { id, accessKey, state: 'in_queue' };
  }

  async get(id: string, accessKey: string): Promise<TaskLookup> {
    const row = this.stmt.get.get(id);
    if (!row || row.access_key !== accessKey) return { kind: 'not_found' };
    return lookupStored(id, { accessKey: row.access_key, state: row.state, finishedAt: row.finished_at, job: row.job, error: row.error, progress: row.progress }, this.now(), this.opts.ttlMs);
  }

  async markGenerating(id: string): Promise<void> {
    this.stmt.transition.run('generating', id, 'in_queue');
  }

  async progress(id: string, event: ProgressEvent): Promise<void> {
    this.stmt.progress.run(JSON.stringify(event), id);
  }

  async finish(id: string, job: JobRecord, picture: RawImage): Promise<void> {
    const row = this.stmt.get.get(id);
    if (!row || row.state === 'cancelled' || row.state === 'done') return;
    const finishedAt = this.now();
    // The picture first: a record that says done always has its picture.
    await this.images.put(taskPictureKey(id), await encodePicture(picture), { contentType: 'image/png', expiresAt: new Date(finishedAt + this.opts.ttlMs) });
    this.stmt.finish.run(JSON.stringify(job), finishedAt, id);
  }

  async fail(id: string, code: CvErrorCode, message: string): Promise<void> {
    this.stmt.fail.run(JSON.stringify({ code, message }), this.now(), id);
  }

  async cancel(id: string): Promise<boolean> {
    return this.stmt.cancel.run(this.now(), id).changes === 1;
  }

  async picture(id: string): Promise<RawImage | null> {
    const stored = await this.images.get(taskPictureKey(id));
    return stored ? decodePicture(stored) : null;
  }

  async sweep(): Promise<number> {
    const now = this.now();
    const gone = this.stmt.gone.all(now - 2 * this.opts.ttlMs);
    const drop = this.db.transaction((ids: string[]) => {
      for (const id of ids) this.stmt.delete.run(id);
    });
    drop(gone.map((r) => r.id));
    await this.images.sweep(new Date(now));
    return gone.length;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

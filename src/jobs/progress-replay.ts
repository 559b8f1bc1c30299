/**
 * What a progress stream that opens late is told first (the replay): the latest state, the latest preview
 * and, for a watched CVProcess call, its end. The in-process queue keeps it here; the BullMQ queue keeps the
 * same in a Redis hash per job (bullmq.ts), written by the worker and the gateway.
 */
import { progressKeysOf, type ProgressEvent, type ProgressReplay } from './types.js';

/** A replay is forgotten this long after its last event (a finished call's end stays that long too). */
export const REPLAY_TTL_MS = 10 * 60_000;

/** Puts an event where a replay keeps it: the end, the preview, or the state. */
export function replayField(e: ProgressEvent): keyof ProgressReplay {
  return e.end ? 'end' : e.preview ? 'preview' : 'state';
}

interface Entry {
  replay: ProgressReplay;
  /** A watched call holds its key until its end. */
  live: boolean;
  touched: number;
}

export class ReplayCache {
  private readonly entries = new Map<string, Entry>();
  private sweptAt = 0;

  constructor(private readonly now: () => number = () => Date.now()) {}

  record(e: ProgressEvent): void {
    this.sweep();
    for (const key of progressKeysOf(e)) {
      const entry = this.entries.get(key) ?? { replay: {}, live: false, touched: 0 };
      entry.replay[replayField(e)] = e;
      if (e.end) entry.live = false;
      entry.touched = this.now();
      this.entries.set(key, entry);
    }
  }

  get(key: string): ProgressReplay | null {
    const entry = this.entries.get(key);
    return entry && !this.expired(entry) ? entry.replay : null;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  /** False while a running call holds the key; else starts a fresh replay held by the caller. */
  claim(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry?.live && !this.expired(entry)) return false;
    this.entries.set(key, { replay: {}, live: true, touched: this.now() });
    return true;
  }

  private expired(entry: Entry): boolean {
    return this.now() - entry.touched > REPLAY_TTL_MS;
  }

  /** Drops expired replays, at most once a second (each event would otherwise walk the map). */
  private sweep(): void {
    const t = this.now();
    if (t - this.sweptAt < 1000) return;
    this.sweptAt = t;
    for (const [key, entry] of this.entries) if (this.expired(entry)) this.entries.delete(key);
  }
}

/** Download progress: a callback shape, plus the two ways of showing it (TTY bars, log lines). */
import cliProgress from 'cli-progress';

export interface ProgressEvent {
  /** Repo-relative path of the file being fetched. */
  file: string;
  fileBytes: number;
  fileTotal: number | undefined;
  totalBytes: number;
  total: number | undefined;
  /** 'start' when a file begins (possibly resumed), 'data' while bytes flow, 'done' when verified. */
  phase: 'start' | 'data' | 'done';
}

export type ProgressFn = (ev: ProgressEvent) => void;

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

export interface ProgressReporter {
  onProgress: ProgressFn;
  stop(): void;
}

/** Interactive terminals: one bar per file plus an overall bar, with speed and ETA. */
export function createBarReporter(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const multi = new cliProgress.MultiBar(
    {
      stream,
      hideCursor: true,
      clearOnComplete: false,
      format: ' {bar} {percentage}% | {name} | {done}/{size} | {speed}/s | ETA {eta_formatted}',
      formatValue: (v, _o, type) => (type === 'percentage' ? String(v).padStart(3) : String(v)),
    },
    cliProgress.Presets.shades_classic,
  );
  // Speed counts only bytes moved in this run (resumed bytes arrive instantly and would inflate it).
  const bars = new Map<string, { bar: cliProgress.SingleBar; since: number; from: number }>();
  let overall: { bar: cliProgress.SingleBar; since: number; from: number } | undefined;
  const payload = (name: string, done: number, size: number | undefined, since: number, from: number): Record<string, string> => {
    const secs = Math.max(0.001, (Date.now() - since) / 1000);
    return { name, done: formatBytes(done), size: size === undefined ? '?' : formatBytes(size), speed: formatBytes((done - from) / secs) };
  };
  return {
    onProgress(ev) {
      const now = Date.now();
      overall ??= { bar: multi.create(ev.total ?? 0, 0, payload('total', 0, ev.total, now, 0)), since: now, from: ev.totalBytes - ev.fileBytes };
      let b = bars.get(ev.file);
      if (!b) {
        b = { bar: multi.create(ev.fileTotal ?? 0, ev.fileBytes, payload(ev.file, ev.fileBytes, ev.fileTotal, now, ev.fileBytes)), since: now, from: ev.fileBytes };
        bars.set(ev.file, b);
      }
      if (ev.fileTotal !== undefined) b.bar.setTotal(ev.fileTotal);
      b.bar.update(ev.fileBytes, payload(ev.file, ev.fileBytes, ev.fileTotal, b.since, b.from));
      if (ev.total !== undefined) overall.bar.setTotal(ev.total);
      overall.bar.update(ev.totalBytes, payload('total', ev.totalBytes, ev.total, overall.since, overall.from));
    },
    stop() {
      multi.stop();
    },
  };
}

/** Servers and pipes: a line every `intervalMs` (and at each file's start and end), never a bar. */
export function createLogReporter(log: (msg: string) => void, intervalMs = 5000): ProgressReporter {
  let last = 0;
  const startedAt = Date.now();
  return {
    onProgress(ev) {
      const now = Date.now();
      if (ev.phase === 'data' && now - last < intervalMs) return;
      // Small files would only add noise: report their completion, not their start.
      if (ev.phase === 'start' && ev.fileBytes === 0 && (ev.fileTotal ?? 0) < 1 << 20) return;
      last = now;
      const secs = Math.max(0.001, (now - startedAt) / 1000);
      const pct = ev.total ? ` (${((100 * ev.totalBytes) / ev.total).toFixed(1)}%)` : '';
      const file = `${ev.file} ${formatBytes(ev.fileBytes)}/${ev.fileTotal === undefined ? '?' : formatBytes(ev.fileTotal)}`;
      const verb = ev.phase === 'start' ? 'fetching' : ev.phase === 'done' ? 'done' : 'downloading';
      log(`${verb} ${file}; total ${formatBytes(ev.totalBytes)}${ev.total ? `/${formatBytes(ev.total)}` : ''}${pct} at ${formatBytes(ev.totalBytes / secs)}/s`);
    },
    stop() {},
  };
}

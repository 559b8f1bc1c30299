/** A `mengtu worker` child process on the tiny model (the scaled-mode tests' workers). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');

export interface WorkerProc {
  child: ChildProcess;
  pid: number;
  /** Its stdout, a JSON log line each. */
  lines: string[];
  exited: Promise<number | null>;
  /** Resolves once it logs "mengtu worker ready"; rejects if it exits first. */
  ready: Promise<void>;
  /** Its status port's base URL (/healthz /readyz /metrics), when it was given one. */
  statusUrl: string | null;
}

export interface WorkerSpawnOptions {
  redisUrl: string;
  /** The picture store the gateways share. */
  dataDir: string;
  home: string;
  prefix: string;
  env?: Record<string, string>;
  /** Serve /healthz /readyz /metrics on this loopback port. */
  statusPort?: number;
}

export function spawnWorker(o: WorkerSpawnOptions): WorkerProc {
  const status = o.statusPort === undefined ? [] : ['--status-port', String(o.statusPort)];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker', '--redis', o.redisUrl, '--model', 'tiny', '--data-dir', o.dataDir, '--threads', '1', ...status], {
    cwd: root,
    env: { ...process.env, MENGTU_HOME: o.home, MENGTU_LOG_LEVEL: 'info', MENGTU_REDIS_PREFIX: o.prefix, MENGTU_HOST: '127.0.0.1', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (line.includes('"mengtu worker ready"')) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    void exited.then((code) => reject(new Error(`worker exited (${code}) before it was ready:\n${stderr}\n${lines.join('\n')}`)));
  });
  return { child, pid: child.pid!, lines, exited, ready, statusUrl: o.statusPort === undefined ? null : `http://127.0.0.1:${o.statusPort}` };
}

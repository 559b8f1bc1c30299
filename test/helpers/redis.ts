/**
 * A real redis-server (Debian's package; .ci/run installs it) on a free loopback port, in its own temp dir,
 * without persistence. Tests that need Redis start one per file (or two, for failover) and stop it after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export interface TestRedis {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Kills the server (SIGKILL) and removes its directory. */
  stop(): Promise<void>;
}

/** A loopback port nothing listens on now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Sends PING over a raw socket (no client library, so the helper tests nothing it should not). */
async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

export async function startRedis(opts: { extraArgs?: string[] } = {}): Promise<TestRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mengtu-redis-'));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', ...(opts.extraArgs ?? [])];
    const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    let exited = false;
    child.on('exit', () => (exited = true));
    const spawnError = new Promise<Error>((resolve) => child.on('error', resolve));
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline) {
      const first = await Promise.race([ping(port), spawnError]);
      if (first instanceof Error) throw new Error(`cannot start redis-server (apt-get install redis-server): ${first.message}`);
      if (first) {
        return {
          url: `redis://127.0.0.1:${port}`,
          port,
          async stop() {
            if (!exited) {
              const gone = new Promise((r) => child.once('exit', r));
              child.kill('SIGKILL');
              await gone;
            }
            await rm(dir, { recursive: true, force: true });
          },
        };
      }
      await sleep(50);
    }
    child.kill('SIGKILL');
    // Another process may have taken the port between freePort() and the bind: try a new one.
    if (attempt >= 3) throw new Error(`redis-server did not answer PING on ${port}:\n${log}`);
  }
}

/**
 * Registers before/after hooks in the current suite: a redis-server and one client for the tests' own
 * reads and writes. Use the getters inside tests.
 */
export function useRedis(): { server: () => TestRedis; client: () => Redis } {
  let server: TestRedis | undefined;
  let client: Redis | undefined;
  before(async () => {
    server = await startRedis();
    client = new Redis(server.url);
  });
  after(async () => {
    client?.disconnect();
    await server?.stop();
  });
  return { server: () => server!, client: () => client! };
}

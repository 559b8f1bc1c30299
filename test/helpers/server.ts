/** Starts a real mengtu server on loopback with the tiny model, in a temp data dir and MENGTU_HOME. */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig, type ConfigOverrides } from '../../src/runtime/config.js';
import { startServer, type RunningServer } from '../../src/runtime/server.js';

export const TEST_AK = 'AKLTtestaccesskey000000000000000001';
export const TEST_SK = 'TlRZMVpXTmhaR1F0ZEdWemRDMXpaV055WlhRdE1EQXdNREF3TURBd01EQXdNQT09';

let sharedHome: string | undefined;

/** One MENGTU_HOME per test process so the tiny model is built once. */
export async function testHome(): Promise<string> {
  sharedHome ??= await mkdtemp(path.join(os.tmpdir(), 'mengtu-home-'));
  process.env.MENGTU_HOME = sharedHome;
  return sharedHome;
}

/** `overrides` are per section, like CLI flags (e.g. `{ limits: { concurrency: 1 } }`); the environment is not read. */
export async function startTestServer(overrides: ConfigOverrides = {}, opts: { now?: () => Date; extraKeys?: Array<[string, string]>; /** Return as soon as it listens (default: once /readyz would say ready). */ noWait?: boolean } = {}): Promise<RunningServer> {
  await testHome();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mengtu-data-'));
  const accessKeys = [[TEST_AK, TEST_SK], ...(opts.extraKeys ?? [])].map(([ak, sk]) => `${ak}:${sk}`).join(',');
  const cfg = loadConfig(
    {
      ...overrides,
      server: { port: 0, dataDir, logLevel: 'silent', ...overrides.server },
      engine: { model: 'tiny', ...overrides.engine },
      auth: { accessKeys, ...overrides.auth },
      limits: { qps: 0, concurrency: 100, ...overrides.limits },
    },
    {},
  );
  const server = await startServer(cfg, pino({ level: process.env.MENGTU_TEST_LOG ?? 'silent' }), opts.now ? { now: opts.now } : {});
  // A scaled gateway holds no engine: its workers load theirs. Tests start from a ready server (engine and
  // NSFW classifier loaded), as a load balancer waits for /readyz.
  if (opts.noWait) return server;
  if (server.runtime.role === 'embedded') await server.runtime.host.load();
  await server.runtime.deps.cpuPool?.classifierSettled();
  return server;
}

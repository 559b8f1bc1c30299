/**
 * Keys change while gateways run: a key made with `mengtu keys create` works without a restart, a revoked key
 * is refused with InvalidAccessKey within seconds — from the keys file (embedded) and from Redis, where a
 * revoke by `mengtu keys revoke --redis` is seen by both gateways of one deployment.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { signRequest } from '../src/client/index.js';
import { createKey, fileKeyBackend, RedisKeyBackend, setKeyDisabled, UnknownKeyError, type AccessKey } from '../src/gateway/keys.js';
import type { RunningServer } from '../src/runtime/server.js';
import { useRedis } from './helpers/redis.js';
import { startTestServer, testHome } from './helpers/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);

/** Code of a GetResult call signed with `key` (10000: accepted; 'InvalidAccessKey': refused). */
async function callWith(server: RunningServer, key: Pick<AccessKey, 'accessKeyId' | 'secretAccessKey'>): Promise<number | string> {
  const rawQuery = 'Action=CVSync2AsyncGetResult&Version=2022-08-31';
  const body = JSON.stringify({ req_key: 'jimeng_high_aes_general_v21_L', task_id: '7000000000000000001' });
  const { headers } = signRequest({ ...key, region: 'cn-north-1', service: 'cv' }, { method: 'POST', path: '/', rawQuery, body }, new Date());
  const r = await fetch(`${server.url}/?${rawQuery}`, { method: 'POST', headers, body });
  const json = (await r.json()) as { code?: number; ResponseMetadata?: { Error?: { Code: string } } };
  return json.code ?? json.ResponseMetadata?.Error?.Code ?? 'none';
}

/** Polls until the call answers `want`; fails after `withinMs`. */
async function eventually(server: RunningServer, key: Pick<AccessKey, 'accessKeyId' | 'secretAccessKey'>, want: number | string, withinMs = 8000): Promise<void> {
  const until = Date.now() + withinMs;
  let got: number | string;
  while ((got = await callWith(server, key)) !== want) {
    if (Date.now() > until) assert.fail(`expected ${want} within ${withinMs} ms, still ${got}`);
    await sleep(100);
  }
}

test('embedded: `mengtu keys create` works on a running gateway; revoke and enable take effect within seconds', async () => {
  const home = await testHome();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mengtu-keys-'));
  // A long periodic re-read, so the file watch is what picks the change up.
  const server = await startTestServer({ server: { dataDir }, auth: { keysReloadMs: 60_000 } });
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'keys', 'create', '--data-dir', dataDir, '--description', 'live'], {
      cwd: root,
      env: { ...process.env, MENGTU_HOME: home, MENGTU_REDIS_URL: '' },
      timeout: 120_000,
    });
    const key = { accessKeyId: /AccessKeyId:\s+(\S+)/.exec(stdout)![1]!, secretAccessKey: /SecretAccessKey:\s+(\S+)/.exec(stdout)![1]! };
    await eventually(server, key, 10000);
    const backend = fileKeyBackend(dataDir);
    await setKeyDisabled(backend, key.accessKeyId, true);
    await eventually(server, key, 'InvalidAccessKey');
    await setKeyDisabled(backend, key.accessKeyId, false);
    await eventually(server, key, 10000);
    await assert.rejects(setKeyDisabled(backend, 'AKLTnope', true), UnknownKeyError);
  } finally {
    await server.close();
  }
});

describe('scaled: keys in Redis', () => {
  const r = useRedis();

  test('a key created in Redis and revoked with `mengtu keys revoke --redis` is seen by two gateways within seconds', async () => {
    const overrides = { queue: { redisUrl: r.server().url, prefix: 'keys' }, auth: { keysReloadMs: 60_000 } };
    const a = await startTestServer(overrides);
    const b = await startTestServer(overrides);
    const backend = new RedisKeyBackend(r.client(), 'keys');
    try {
      const key = await createKey(backend, 'shared');
      await eventually(a, key, 10000);
      await eventually(b, key, 10000);
      // Revoked as an operator does it: `mengtu keys revoke --redis`.
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'keys', 'revoke', key.accessKeyId, '--redis', r.server().url], {
        cwd: root,
        env: { ...process.env, MENGTU_REDIS_PREFIX: 'keys' },
        timeout: 120_000,
      });
      assert.match(stdout, /^revoked /);
      await eventually(a, key, 'InvalidAccessKey');
      await eventually(b, key, 'InvalidAccessKey');
      const listed = await backend.list();
      assert.equal(listed.find((k) => k.accessKeyId === key.accessKeyId)?.disabled, true, 'a revoked key stays listed');
    } finally {
      await a.close();
      await b.close();
      await backend.close();
    }
  });

  test('without notifications, the periodic re-read still applies a revoke', async () => {
    const a = await startTestServer({ queue: { redisUrl: r.server().url, prefix: 'quiet' }, auth: { keysReloadMs: 200 } });
    try {
      const key = await createKey(new RedisKeyBackend(r.client(), 'quiet'));
      await eventually(a, key, 10000);
      // Written behind the gateways' back: no publish, only the hash.
      await r.client().hset('quiet:keys', key.accessKeyId, JSON.stringify({ ...key, disabled: true }));
      await eventually(a, key, 'InvalidAccessKey');
    } finally {
      await a.close();
    }
  });
});

/** docs/deployment.md's Redis settings, checked against real redis-servers configured right and wrong. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/runtime/config.js';
import { checkRedisForQueue } from '../src/runtime/redis-check.js';
import { startRedis } from './helpers/redis.js';

test('noeviction + AOF passes; an evicting policy is an error; no persistence is a warning', async () => {
  const good = await startRedis({ extraArgs: ['--appendonly', 'yes', '--appendfsync', 'everysec'] });
  const bad = await startRedis({ extraArgs: ['--maxmemory-policy', 'allkeys-lru'] });
  const g = new Redis(good.url);
  const b = new Redis(bad.url);
  try {
    assert.deepEqual(await checkRedisForQueue(g), []);
    const found = await checkRedisForQueue(b);
    assert.deepEqual(found.map((f) => f.level).sort(), ['error', 'warn']);
    assert.match(found.find((f) => f.level === 'error')!.message, /allkeys-lru.*noeviction/);
  } finally {
    g.disconnect();
    b.disconnect();
    await good.stop();
    await bad.stop();
  }
});

test('docs/deployment.md: its redis.conf excerpt passes the check, its autoscaling list is the default queue\'s, and every test it cites exists', async () => {
  const { readFileSync, existsSync } = await import('node:fs');
  const doc = readFileSync(new URL('../docs/deployment.md', import.meta.url), 'utf8');
  const excerpt = /# \/etc\/redis\/redis\.conf.*\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(excerpt, 'the redis.conf excerpt is there');
  const args = excerpt.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).flatMap((l) => {
    const [k, ...v] = l.split(/\s+/);
    return [`--${k}`, ...v];
  });
  const redis = await startRedis({ extraArgs: args });
  const r = new Redis(redis.url);
  try {
    assert.deepEqual(await checkRedisForQueue(r), []);
  } finally {
    r.disconnect();
    await redis.stop();
  }
  // The autoscaling example reads the default deployment's wait list (<prefix>:<queue>:wait, checked against
  // BullMQ in test/jobs.bullmq-retry.test.ts).
  const { queue } = loadConfig({}, {});
  assert.match(doc, new RegExp(`listName: ${queue.prefix}:${queue.name}:wait\\n`));
  const cited = [...doc.matchAll(/`(test\/[\w.-]+\.test\.ts)`/g)].map((m) => m[1]!);
  assert.ok(cited.length >= 4);
  for (const f of cited) assert.ok(existsSync(new URL(`../${f}`, import.meta.url)), `${f} is cited but missing`);
});

test('docs/deployment.md: every flag its systemd units pass exists in that command’s --help', { timeout: 300_000 }, async () => {
  const { readFileSync } = await import('node:fs');
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const run = promisify(execFile);
  const doc = readFileSync(new URL('../docs/deployment.md', import.meta.url), 'utf8');
  const units = [...doc.matchAll(/^ExecStart=\S+ \S+mengtu\.js (\w+)(.*)$/gm)].map((m) => ({ cmd: m[1]!, flags: [...m[2]!.matchAll(/--[\w-]+/g)].map((f) => f[0]) }));
  assert.deepEqual(units.map((u) => u.cmd).sort(), ['serve', 'serve', 'worker']);
  const root = new URL('..', import.meta.url);
  await Promise.all(
    units.map(async (u) => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', u.cmd, '--help'], { cwd: root, timeout: 240_000 });
      for (const f of u.flags) assert.ok(stdout.includes(f), `mengtu ${u.cmd} has no ${f}`);
    }),
  );
});

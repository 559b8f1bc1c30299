/**
 * `mengtu keys create|list|revoke|enable`: manage access keys where the gateways read them — the keys file in
 * the data directory, or Redis when MENGTU_REDIS_URL / --redis is set. Running gateways pick changes up
 * within seconds (MENGTU_KEYS_RELOAD_MS), no restart.
 */
import type { Command } from 'commander';
import type { KeyBackend } from '../gateway/keys.js';

interface KeyOpts {
  dataDir?: string;
  redis?: string;
}

async function withBackend<T>(o: KeyOpts, fn: (backend: KeyBackend) => Promise<T>): Promise<T> {
  // Loaded when a keys command runs, not for `mengtu --help` (ioredis and the config schema are not light).
  const [{ Redis }, { fileKeyBackend, RedisKeyBackend }, { loadConfig }] = await Promise.all([import('ioredis'), import('../gateway/keys.js'), import('../runtime/config.js')]);
  const cfg = loadConfig({ server: { dataDir: o.dataDir }, queue: { redisUrl: o.redis } });
  if (!cfg.queue.redisUrl) return fn(fileKeyBackend(cfg.server.dataDir, { keysFile: cfg.auth.keysFile }));
  const redis = new Redis(cfg.queue.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  try {
    await redis.connect();
    return await fn(new RedisKeyBackend(redis, cfg.queue.prefix));
  } finally {
    redis.disconnect();
  }
}

function storeOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'data directory holding keys.json (env MENGTU_DATA_DIR, default ./data)')
    .option('--redis <url>', 'keys of a scaled deployment, in Redis (env MENGTU_REDIS_URL)');
}

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('manage access keys (AK/SK) for request signing; running gateways see changes within seconds');
  storeOptions(keys.command('create'))
    .description('generate a new access key pair and store it (the secret is printed once)')
    .option('--description <text>', 'a note stored with the key')
    .action(async (o: KeyOpts & { description?: string }) => {
      const key = await withBackend(o, async (b) => (await import('../gateway/keys.js')).createKey(b, o.description));
      process.stdout.write(`AccessKeyId:     ${key.accessKeyId}\nSecretAccessKey: ${key.secretAccessKey}\n`);
    });
  storeOptions(keys.command('list'))
    .description('list access key ids (secrets are never printed)')
    .action(async (o: KeyOpts) => {
      const list = await withBackend(o, (b) => b.list());
      if (list.length === 0) process.stdout.write('no keys (the server generates one on first start)\n');
      for (const k of list) {
        process.stdout.write(`${k.accessKeyId}\t${k.createdAt}\t${k.disabled ? 'revoked' : 'active'}\t${k.description ?? ''}\n`);
      }
    });
  for (const [verb, disabled, description] of [
    ['revoke', true, 'refuse a key from now on (InvalidAccessKey); it stays listed and can be enabled again'],
    ['enable', false, 'accept a revoked key again'],
  ] as const) {
    storeOptions(keys.command(verb))
      .description(description)
      .argument('<accessKeyId>')
      .action(async (id: string, o: KeyOpts) => {
        await withBackend(o, async (b) => (await import('../gateway/keys.js')).setKeyDisabled(b, id, disabled));
        process.stdout.write(`${disabled ? 'revoked' : 'enabled'} ${id}\n`);
      });
  }
}

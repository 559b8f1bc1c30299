/** `mengtu keys create|list`: manage access keys in the data directory's keys file. */
import type { Command } from 'commander';
import path from 'node:path';
import { createKey, keysFilePath, readKeysFile } from '../gateway/keys.js';

function dataDirOf(o: { dataDir?: string }): string {
  return path.resolve(o.dataDir ?? process.env.MENGTU_DATA_DIR ?? './data');
}

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('manage access keys (AK/SK) for request signing');
  keys
    .command('create')
    .description('generate a new access key pair and store it (the secret is printed once)')
    .option('--data-dir <dir>', 'data directory (env MENGTU_DATA_DIR, default ./data)')
    .option('--description <text>', 'a note stored with the key')
    .action(async (o: { dataDir?: string; description?: string }) => {
      const key = await createKey(dataDirOf(o), o.description);
      process.stdout.write(`AccessKeyId:     ${key.accessKeyId}\nSecretAccessKey: ${key.secretAccessKey}\n`);
    });
  keys
    .command('list')
    .description('list access key ids (secrets are never printed)')
    .option('--data-dir <dir>', 'data directory (env MENGTU_DATA_DIR, default ./data)')
    .action(async (o: { dataDir?: string }) => {
      const list = await readKeysFile(keysFilePath(dataDirOf(o)));
      if (list.length === 0) process.stdout.write('no keys (the server generates one on first start)\n');
      for (const k of list) {
        process.stdout.write(`${k.accessKeyId}\t${k.createdAt}\t${k.disabled ? 'disabled' : 'active'}\t${k.description ?? ''}\n`);
      }
    });
}

/**
 * The README's SDK example, run as written from a checkout (no build): `import { MengtuClient } from
 * 'mengtu/client'` in a plain ESM file inside the repository, executed by node in a child process against a
 * real server on the tiny model.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { RunningServer } from '../src/runtime/server.js';
import { startTestServer, TEST_AK, TEST_SK } from './helpers/server.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let server: RunningServer;

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
});

/** The README's ```ts block that imports mengtu/client, with this server's address and key filled in. */
async function readmeExample(): Promise<string> {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes("from 'mengtu/client'"));
  assert.ok(block, 'README has a TypeScript block importing mengtu/client');
  return block.replace('http://127.0.0.1:8080', server.url).replace("'AKLT…'", `'${TEST_AK}'`).replace("'…'", `'${TEST_SK}'`);
}

test('the README SDK example runs as written from a checkout, with no build', async () => {
  const file = path.join(root, `.readme-example-${process.pid}.mjs`);
  const code = `${await readmeExample()}\nprocess.stdout.write(JSON.stringify({ bytes: image.length, head: image.subarray(0, 8).toString('hex'), width: data.infer_ctx?.params?.width ?? null }));\n`;
  await writeFile(file, code);
  try {
    const { stdout } = await run(process.execPath, [file], { cwd: root, timeout: 120_000 });
    const out = JSON.parse(stdout) as { bytes: number; head: string };
    assert.equal(out.head, '89504e470d0a1a0a', 'a PNG');
    assert.ok(out.bytes > 1000);
  } finally {
    await rm(file, { force: true });
  }
});

test('lib/client.js exports every runtime export of the SDK', async () => {
  const sdk = await import('../src/client/index.js');
  const shim = (await import(path.join(root, 'lib', 'client.js'))) as Record<string, unknown>;
  assert.deepEqual(Object.keys(shim).sort(), Object.keys(sdk).sort());
});

/** The `mengtu` command line, run as a user would. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { testHome } from './helpers/server.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'mengtu.js');

async function mengtu(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, ...env }, timeout: 120_000 });
}

test('--help on every command', async () => {
  const top = (await mengtu(['--help'])).stdout;
  for (const cmd of ['serve', 'generate', 'keys', 'models', 'layout']) assert.match(top, new RegExp(`\\b${cmd}\\b`));
  assert.match((await mengtu(['serve', '--help'])).stdout, /--data-dir.*\n?.*MENGTU_DATA_DIR/s);
  assert.match((await mengtu(['generate', '--help'])).stdout, /--seed/);
  assert.match((await mengtu(['keys', 'create', '--help'])).stdout, /printed once/);
  assert.match((await mengtu(['models', 'pull', '--help'])).stdout, /pull/);
});

test('keys create stores an owner-only keys file; keys list never prints secrets', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mengtu-cli-'));
  const created = (await mengtu(['keys', 'create', '--data-dir', dataDir, '--description', 'ci'])).stdout;
  const ak = /AccessKeyId:\s+(\S+)/.exec(created)?.[1];
  const sk = /SecretAccessKey:\s+(\S+)/.exec(created)?.[1];
  assert.ok(ak?.startsWith('AKLT') && sk && sk.length >= 32, created);
  const file = path.join(dataDir, 'keys.json');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.match(await readFile(file, 'utf8'), new RegExp(ak!));
  const listed = (await mengtu(['keys', 'list', '--data-dir', dataDir])).stdout;
  assert.match(listed, new RegExp(`${ak}\\t.*\\tactive\\tci`));
  assert.doesNotMatch(listed, new RegExp(sk!.replace(/[+/=]/g, '.')));
});

test('generate writes the image in-process with the tiny model', async () => {
  const home = await testHome();
  const out = path.join(await mkdtemp(path.join(os.tmpdir(), 'mengtu-cli-')), 'out.png');
  const { stdout } = await mengtu(['generate', 'a lighthouse at dusk', '-o', out, '--model', 'tiny', '--seed', '7', '--width', '256', '--height', '320'], { MENGTU_HOME: home });
  assert.match(stdout, /512x640, seed 7/);
  const meta = await sharp(out).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 512, 640]);
});

test('generate refuses bad input with the contract message', async () => {
  await assert.rejects(mengtu(['generate', 'x', '-o', '/tmp/never.png', '--model', 'tiny', '--width', '4096']), (err: { stderr: string; code: number }) => {
    assert.equal(err.code, 1);
    assert.match(err.stderr, /50200 Invalid Param: width must be in \[256, 1024\]/);
    return true;
  });
});

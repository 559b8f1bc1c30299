/** The `mengtu` command line, run as a user would. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { gradientPng, meanDiff } from './helpers/pictures.js';
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

test('generate --low-memory (MENGTU_LOW_MEMORY) draws the same picture', async () => {
  const home = await testHome();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mengtu-cli-'));
  const args = ['generate', 'a lighthouse at dusk', '--model', 'tiny', '--seed', '7', '--no-sr', '--width', '256', '--height', '256'];
  await mengtu([...args, '-o', path.join(dir, 'a.png')], { MENGTU_HOME: home });
  await mengtu([...args, '-o', path.join(dir, 'b.png'), '--low-memory'], { MENGTU_HOME: home });
  await mengtu([...args, '-o', path.join(dir, 'c.png')], { MENGTU_HOME: home, MENGTU_LOW_MEMORY: '1' });
  const raw = async (f: string): Promise<Buffer> => sharp(path.join(dir, f)).raw().toBuffer();
  assert.deepEqual(await raw('b.png'), await raw('a.png'));
  assert.deepEqual(await raw('c.png'), await raw('a.png'));
  await assert.rejects(mengtu([...args, '-o', path.join(dir, 'd.png')], { MENGTU_HOME: home, MENGTU_LOW_MEMORY: 'sometimes' }), /MENGTU_LOW_MEMORY/);
});

test('generate --image: image-to-image from a file at its size; --strength 0 gives the input back', async () => {
  const home = await testHome();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mengtu-cli-'));
  const input = path.join(dir, 'in.png');
  await writeFile(input, await gradientPng(200, 136));
  const out = path.join(dir, 'out.png');
  const { stdout } = await mengtu(['generate', 'a watercolor', '-o', out, '--model', 'tiny', '--seed', '3', '--image', input, '--strength', '0'], { MENGTU_HOME: home });
  assert.match(stdout, /208x144, seed 3/);
  assert.ok((await meanDiff(await readFile(out), await readFile(input), 208, 144)) < 20);
  await assert.rejects(mengtu(['generate', 'x', '-o', out, '--model', 'tiny', '--image', input, '--strength', '2'], { MENGTU_HOME: home }), (err: { stderr: string }) => {
    assert.match(err.stderr, /50200 Invalid Param: scale must be in \[0, 1\]/);
    return true;
  });
});

test('generate refuses bad input with the contract message', async () => {
  await assert.rejects(mengtu(['generate', 'x', '-o', '/tmp/never.png', '--model', 'tiny', '--width', '4096']), (err: { stderr: string; code: number }) => {
    assert.equal(err.code, 1);
    assert.match(err.stderr, /50200 Invalid Param: width must be in \[256, 1024\]/);
    return true;
  });
});

test('generate honours steps, guidance, scheduler, negative prompt, count and the watermark options', async () => {
  const home = await testHome();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mengtu-cli-'));
  const args = ['generate', 'a lighthouse at dusk', '-o', path.join(dir, 'out.png'), '--model', 'tiny', '--seed', '7', '--no-sr', '--width', '256', '--height', '256'];
  const extra = ['--steps', '2', '--guidance', '3.5', '--scheduler', 'ddim', '--negative', 'blurry', '-n', '2', '--logo', '--logo-position', 'tl', '--logo-language', 'en', '--logo-opacity', '1'];
  const { stdout } = await mengtu([...args, ...extra], { MENGTU_HOME: home });
  assert.match(stdout, /out-1\.png: 256x256, seed 7, 2 steps, guidance 3\.5, ddim/);
  assert.match(stdout, /out-2\.png: 256x256, seed 8, 2 steps, guidance 3\.5, ddim/);
  assert.match(stdout, /watermark \d+ms/);
  const [a, b] = await Promise.all([readFile(path.join(dir, 'out-1.png')), readFile(path.join(dir, 'out-2.png'))]);
  assert.notDeepEqual(a, b, 'consecutive seeds give different pictures');
  // The mark is drawn top-left at full opacity: that corner differs from the same render without it.
  const plain = path.join(dir, 'plain.png');
  await mengtu([...args.slice(0, 3), plain, ...args.slice(4), '--steps', '2', '--guidance', '3.5', '--scheduler', 'ddim', '--negative', 'blurry'], { MENGTU_HOME: home });
  const corner = async (f: string): Promise<Buffer> => sharp(f).extract({ left: 0, top: 0, width: 128, height: 40 }).raw().toBuffer();
  const bottom = async (f: string): Promise<Buffer> => sharp(f).extract({ left: 0, top: 200, width: 256, height: 56 }).raw().toBuffer();
  assert.notDeepEqual(await corner(path.join(dir, 'out-1.png')), await corner(plain));
  assert.deepEqual(await bottom(path.join(dir, 'out-1.png')), await bottom(plain), 'only the top-left corner carries the mark');
  await assert.rejects(mengtu([...args, '--steps', '99']), /50200 Invalid Param: steps must be in \[1, 50\]/);
  await assert.rejects(mengtu([...args, '--scheduler', 'plms']), /expected one of euler, euler_a, ddim, lcm/);
});

test('generate --help shows the new options and each model\'s defaults', async () => {
  const help = (await mengtu(['generate', '--help'])).stdout;
  for (const opt of ['--steps', '--guidance', '--negative', '--scheduler', '--count', '--logo-position', '--logo-language', '--logo-opacity', '--logo-text']) {
    assert.match(help, new RegExp(opt));
  }
  assert.match(help, /sd-turbo\s+1 steps\s+guidance 0\s+euler/);
  assert.match(help, /sd15\s+20 steps\s+guidance 7\.5\s+euler_a/);
});

test('layout prints a readable summary with the words that decided each attribute', async () => {
  const { stdout } = await mengtu(['layout', '一张海报，顶部用金色书法写着“新年快乐”，右侧竖排“万事如意”', '--width', '768', '--height', '512']);
  assert.match(stdout, /1\/2  “新年快乐”/);
  assert.match(stdout, /position\s+top center\s+from “顶部”/);
  assert.match(stdout, /colour\s+#[0-9a-f]{6} 金色\s+from “金色”/);
  assert.match(stdout, /style\s+brush\s+from “书法”/);
  assert.match(stdout, /size\s+large \(\d+ px\)\s+default: the first block is large/);
  assert.match(stdout, /2\/2  “万事如意”/);
  assert.match(stdout, /direction vertical \(竖排\)\s+from “竖排”/);
  assert.match(stdout, /position\s+middle right\s+from “右侧”/);
  const json = JSON.parse((await mengtu(['layout', '顶部写着“新年快乐”', '--json'])).stdout) as { blocks: Array<{ cues: { position: string[] } }> };
  assert.deepEqual(json.blocks[0]!.cues.position, ['顶部']);
});

/**
 * The playground in a real browser: Debian's chromium driven by playwright-core, against a real server on the
 * tiny model. Enter a key, type a prompt with quoted text, see the layout boxes, generate, see a step preview
 * and the final image, copy the curl snippet and run it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { RunningServer } from '../src/runtime/server.js';
import { startTestServer, TEST_AK, TEST_SK } from './helpers/server.js';

const run = promisify(execFile);
const CHROMIUM = '/usr/bin/chromium';
let server: RunningServer;
let ctx: BrowserContext;
let page: Page;
let profile: string;
const pageErrors: string[] = [];

before(async () => {
  server = await startTestServer();
  profile = await mkdtemp(path.join(os.tmpdir(), 'mengtu-chromium-'));
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    viewport: { width: 1440, height: 900 },
  });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // Nothing may load from outside the server.
  await page.route(/^(?!http:\/\/127\.0\.0\.1)/, (r) => {
    pageErrors.push(`external request: ${r.request().url()}`);
    return r.abort();
  });
});

after(async () => {
  await ctx?.close();
  await server?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

test('chromium is installed (.ci/run installs it)', () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing`);
});

test('key, layout boxes, generate with progress previews, final image, copy-as-curl that runs', { timeout: 300_000 }, async () => {
  await page.goto(`${server.url}/`);
  // The key dialog opens by itself when no key is stored in this tab.
  await page.waitForSelector('#key-dialog[open]');
  await page.fill('#ak', TEST_AK);
  await page.fill('#sk', TEST_SK);
  await page.click('#key-save');
  assert.match(await page.textContent('#key-label') ?? '', /AKLTtest/);
  // The key lives only in this tab's sessionStorage, never in localStorage or cookies.
  assert.equal(await page.evaluate(() => Object.keys(localStorage).some((k) => localStorage.getItem(k)?.includes('AKLT'))), false);
  assert.match(await page.evaluate(() => sessionStorage.getItem('mengtu.key') ?? ''), /AKLTtest/);

  await page.fill('#width', '256');
  await page.dispatchEvent('#width', 'change');
  await page.fill('#height', '256');
  await page.dispatchEvent('#height', 'change');
  await page.uncheck('#use_sr');
  await page.fill('#prompt', '一张海报，顶部用金色书法写着“新年快乐”，底部写着"Happy New Year"');
  await page.waitForFunction(() => document.querySelectorAll('#boxes .box').length === 2);
  const boxes = await page.$$eval('#boxes .box', (els) => els.map((e) => ({ text: (e as HTMLElement).dataset.text, top: e.getBoundingClientRect().top })));
  assert.deepEqual(boxes.map((b) => b.text), ['新年快乐', 'Happy New Year']);
  assert.ok(boxes[0]!.top < boxes[1]!.top, 'the top text is drawn above the bottom one');
  assert.match(await page.textContent('#plan') ?? '', /顶部/);

  await page.fill('#seed', '21');
  // The page opens its progress stream (by a progress_id) before it submits: it sees the first step's preview
  // however fast the tiny model makes the picture.
  await page.click('#generate');
  await page.waitForFunction(() => document.querySelectorAll('#gallery-list .item').length === 1, null, { timeout: 240_000 });
  const previews = Number(await page.getAttribute('#canvas', 'data-previews'));
  assert.ok(previews >= 1, `saw ${previews} step previews`);
  const final = await page.getAttribute('#result', 'src');
  assert.match(final ?? '', /^data:image\/png;base64,/);
  assert.equal(await page.$eval('#result', (e) => e.classList.contains('preview')), false);
  assert.equal(await page.$eval('#result', (e) => (e as HTMLImageElement).naturalWidth), 256);

  await page.click('#gallery-list .item');
  await page.waitForSelector('#detail-dialog[open]');
  assert.match(await page.textContent('#detail-params') ?? '', /seed\s*21/);
  await page.click('#copy-snippet');
  const curl = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(curl, /^curl /);
  assert.ok(!curl.includes(TEST_SK), 'the secret key is never in a snippet');
  const { stdout } = await run('bash', ['-c', curl], { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  const env = JSON.parse(stdout) as { code: number; data: { binary_data_base64: string[] } };
  assert.equal(env.code, 10000, stdout.slice(0, 300));
  assert.equal(Buffer.from(env.data.binary_data_base64[0]!, 'base64').subarray(1, 4).toString(), 'PNG');

  for (const kind of ['python', 'ts']) {
    await page.click(`.tabs button[data-snippet="${kind}"]`);
    const text = await page.textContent('#snippet');
    assert.match(text ?? '', kind === 'python' ? /cv_process\(/ : /generateImage\(/);
    assert.ok(!(text ?? '').includes(TEST_SK));
  }
  assert.deepEqual(pageErrors, []);
});

/**
 * Makes docs/playground.png: a real server on the tiny model, the playground in Debian's chromium, a prompt with
 * quoted text, one generated result in the gallery. `node --import tsx scripts/playground-screenshot.ts [OUT]`
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { chromium } from 'playwright-core';
import { loadConfig } from '../src/runtime/config.js';
import { startServer } from '../src/runtime/server.js';

const out = process.argv[2] ?? 'docs/playground.png';
const AK = 'AKLTscreenshot0000000000000000000001';
const SK = 'c2NyZWVuc2hvdC1zZWNyZXQta2V5LTAwMDAwMDAwMDAwMDA=';
const home = await mkdtemp(path.join(os.tmpdir(), 'mengtu-shot-home-'));
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mengtu-shot-data-'));
process.env.MENGTU_HOME = home;
process.env.MENGTU_ACCESS_KEYS = `${AK}:${SK}`;
const cfg = loadConfig({ engine: { model: 'tiny' }, server: { port: 0, dataDir } });
const server = await startServer(cfg, pino({ level: 'silent' }));
await server.runtime.host.load();
const profile = await mkdtemp(path.join(os.tmpdir(), 'mengtu-shot-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  viewport: { width: 1440, height: 960 },
  deviceScaleFactor: 1,
  locale: 'zh-CN',
});
try {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto(`${server.url}/`);
  await page.fill('#ak', AK);
  await page.fill('#sk', SK);
  await page.click('#key-save');
  await page.click('.chips button:nth-child(1)');
  await page.uncheck('#use_sr');
  await page.fill('#prompt', '一张中国风新年海报，红色背景，顶部用金色书法写着“新年快乐”，底部小字写着"Happy New Year 2027"');
  await page.fill('#negative', '模糊, 低质量');
  await page.click('#generate');
  await page.waitForFunction(() => document.querySelectorAll('#gallery-list .item').length === 1, null, { timeout: 240_000 });
  // Back to the plan view: the boxes over a blank canvas, as a designer sees them while typing.
  await page.fill('#prompt', '一张中国风新年海报，红色背景，顶部用金色书法写着“新年快乐”，底部小字写着"Happy New Year 2027"，右侧竖排“万事如意”');
  await page.waitForFunction(() => document.querySelectorAll('#boxes .box').length === 3);
  await page.evaluate(() => document.querySelector('.controls')?.scrollTo(0, 0));
  await page.waitForTimeout(400);
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await ctx.close();
  await server.close();
  await rm(profile, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
}

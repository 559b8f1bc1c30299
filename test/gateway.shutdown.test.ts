/** SIGTERM with a request in flight: the request completes with 200, then the process exits 0. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { signRequest } from '../src/client/index.js';
import { TEST_AK, TEST_SK, testHome } from './helpers/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('graceful shutdown finishes the in-flight request before exiting', { timeout: 300_000 }, async () => {
  const home = await testHome();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mengtu-data-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--model', 'tiny', '--port', '0', '--data-dir', dataDir], {
    cwd: root,
    env: { ...process.env, MENGTU_HOME: home, MENGTU_ACCESS_KEYS: `${TEST_AK}:${TEST_SK}`, MENGTU_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let url = '';
  let ready = false;
  let sawRequest = false;
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    try {
      const rec = JSON.parse(line) as { msg?: string; url?: string };
      if (rec.msg === 'mengtu listening' && rec.url) url = rec.url;
      if (rec.msg === 'engine ready') ready = true;
      if (rec.msg === 'incoming request') sawRequest = true;
    } catch {
      /* not JSON */
    }
    waiters.splice(0).forEach((w) => w());
  });
  const until = async (cond: () => boolean): Promise<void> => {
    while (!cond()) await new Promise<void>((r) => waiters.push(r));
  };
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));

  await until(() => url !== '' && ready);
  const rawQuery = 'Action=CVProcess&Version=2022-08-31';
  // A large output keeps the request busy long enough to signal mid-flight.
  const body = JSON.stringify({ req_key: 'jimeng_high_aes_general_v21_L', prompt: 'harbour at night', width: 1024, height: 1024, seed: 9 });
  const { headers } = signRequest({ accessKeyId: TEST_AK, secretAccessKey: TEST_SK, region: 'cn-north-1', service: 'cv' }, { method: 'POST', path: '/', rawQuery, body }, new Date());
  const pending = fetch(`${url}/?${rawQuery}`, { method: 'POST', headers, body });
  await until(() => sawRequest);
  child.kill('SIGTERM');
  const res = await pending;
  assert.equal(res.status, 200);
  const json = (await res.json()) as { code: number; data: { binary_data_base64: string[] } };
  assert.equal(json.code, 10000);
  assert.ok(json.data.binary_data_base64[0]!.length > 1000);
  assert.equal(await exited, 0);
  assert.ok(lines.some((l) => l.includes('shutting down')), 'logged the shutdown');
  // Structured logs carry the request id the caller saw.
  const requestId = res.headers.get('x-request-id');
  assert.ok(requestId);
  const own = lines.map((l) => { try { return JSON.parse(l) as { request_id?: string; msg?: string }; } catch { return {}; } }).filter((r) => r.request_id === requestId);
  assert.ok(own.some((r) => r.msg === 'incoming request') && own.some((r) => r.msg === 'job done'), 'request lines carry request_id');
  // After exit, the port no longer answers.
  await assert.rejects(fetch(`${url}/healthz`));
});

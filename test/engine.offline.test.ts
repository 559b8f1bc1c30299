/**
 * Offline first start: a model pull that fails for a passing reason (no network) is retried with backoff
 * and logged; meanwhile /readyz's detail and the 50501 log line say why; a lasting failure is not retried.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { CvError } from '../src/contract/errors.js';
import { EngineHost } from '../src/jobs/engine-host.js';

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function capture(): { log: pino.Logger; lines: Array<{ msg: string; level: number }> } {
  const lines: Array<{ msg: string; level: number }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { msg: string; level: number });
      cb();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

test('a pull that cannot reach the hub is retried with backoff (logged), and readiness and the 50501 log line say why', { timeout: 60_000 }, async () => {
  process.env.MENGTU_HOME = await mkdtemp(path.join(os.tmpdir(), 'mengtu-offline-'));
  process.env.HF_ENDPOINT = `http://127.0.0.1:${await closedPort()}`;
  const { log, lines } = capture();
  const host = new EngineHost({ model: 'someone/some-model', pull: true, threads: 1, executionProvider: 'cpu', log, retry: { initialDelayMs: 20, maxDelayMs: 80 } });
  const loading = host.load();
  loading.catch(() => undefined);
  for (let i = 0; i < 500 && lines.filter((l) => /model pull failed/.test(l.msg)).length < 3; i++) await new Promise((r) => setTimeout(r, 20));
  const retries = lines.filter((l) => /model pull failed .*retrying in/.test(l.msg));
  assert.ok(retries.length >= 3, `retries logged: ${JSON.stringify(lines.map((l) => l.msg))}`);
  assert.equal(host.state, 'pulling', 'still trying, not given up');
  assert.match(host.detail, /model pull failed \(.+\); retry \d+ in/);
  assert.throws(() => host.engine(), (err: unknown) => err instanceof CvError && err.code === 50501 && /model pull failed/.test(err.logDetail ?? ''));
  await host.close();
  await assert.rejects(loading);
  delete process.env.HF_ENDPOINT;
});

test('a lasting failure (no such model) is not retried, and a CLI host gives no server hints', async () => {
  const { log, lines } = capture();
  const host = new EngineHost({ model: '/no/such/model/dir', pull: false, threads: 1, executionProvider: 'cpu', log, retry: { initialDelayMs: 20, maxDelayMs: 20 }, role: 'cli' });
  await assert.rejects(host.load());
  assert.equal(host.state, 'failed');
  assert.equal(lines.filter((l) => /retrying/.test(l.msg)).length, 0);
  assert.equal(lines.filter((l) => /server/i.test(l.msg)).length, 0, JSON.stringify(lines.map((l) => l.msg)));
});

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync, symlinkSync, writeFileSync, existsSync, readdirSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalImageStore, imageKey, isSafeKey, startSweeper, InvalidKeyError } from '../src/storage/index.js';
import { TEMP_GRACE_MS } from '../src/storage/local.js';

const png = (n: number): Buffer => Buffer.from(`\x89PNG fake image ${n}`);

describe('local image store', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mengtu-store-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('makes dated keys from request ids', () => {
    const k = imageKey('20250422150707388ABCDEF', 0, new Date('2025-04-22T23:59:00Z'));
    assert.equal(k, '2025/04/22/20250422150707388ABCDEF-0.png');
    assert.equal(imageKey('a/../b', 1, new Date('2025-01-02T00:00:00Z')), '2025/01/02/ab-1.png');
    assert.throws(() => imageKey('../..', 0), InvalidKeyError);
  });

  it('put/get/delete with expiry from an injected clock', async () => {
    let now = Date.parse('2025-04-22T12:00:00Z');
    const store = LocalImageStore.inDataDir(path.join(dir, 'a'), { now: () => now });
    const key = imageKey('REQ1', 0, new Date(now));
    await store.put(key, png(1), { contentType: 'image/png', expiresAt: new Date(now + 3600_000) });
    assert.ok(existsSync(path.join(dir, 'a', 'images', '2025', '04', '22', 'REQ1-0.png')));
    const got = await store.get(key);
    assert.ok(got);
    assert.deepEqual(got.body, png(1));
    assert.equal(got.contentType, 'image/png');
    assert.equal(got.expiresAt.toISOString(), '2025-04-22T13:00:00.000Z');
    now += 3600_000; // exactly at expiry: gone
    assert.equal(await store.get(key), null);
    now -= 1000;
    assert.ok(await store.get(key));
    await store.delete(key);
    assert.equal(await store.get(key), null);
    assert.equal(await store.get('2025/04/22/missing-0.png'), null);
  });

  it('sweep deletes only expired images and prunes empty folders', async () => {
    const t0 = Date.parse('2025-04-22T12:00:00Z');
    const store = LocalImageStore.inDataDir(path.join(dir, 'b'), { now: () => t0 });
    await store.put('2025/04/21/old-0.png', png(1), { contentType: 'image/png', expiresAt: new Date(t0 - 1) });
    await store.put('2025/04/22/mid-0.png', png(2), { contentType: 'image/png', expiresAt: new Date(t0 + 60_000) });
    await store.put('2025/04/22/new-0.png', png(3), { contentType: 'image/png', expiresAt: new Date(t0 + 3600_000) });
    assert.equal(await store.sweep(new Date(t0)), 1);
    assert.ok(!existsSync(path.join(dir, 'b', 'images', '2025', '04', '21')), 'empty day folder removed');
    assert.equal(await store.sweep(new Date(t0 + 120_000)), 1);
    assert.equal(await store.sweep(new Date(t0 + 120_000)), 0);
    assert.ok(await store.get('2025/04/22/new-0.png'));
    assert.equal(await store.sweep(new Date(t0 + 7200_000)), 1);
    assert.deepEqual(readdirSync(path.join(dir, 'b', 'images')).filter((f) => f !== '.meta'), []);
  });

  it('refuses unsafe keys on every operation', async () => {
    const store = LocalImageStore.inDataDir(path.join(dir, 'c'));
    const bad = [
      '../../etc/passwd',
      '..%2f..%2fetc%2fpasswd',
      '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '..\\..\\etc\\passwd',
      '2025\\04\\x.png',
      '/etc/passwd',
      'C:/Windows/win.ini',
      'a/\0/b.png',
      'x.png\0.txt',
      '.meta/2025/01/01/x.png.json',
      'a//b.png',
      '',
      './a.png',
    ];
    for (const k of bad) {
      assert.equal(isSafeKey(k), false, k);
      assert.equal(await store.get(k), null, k);
      await assert.rejects(store.put(k, png(0), { contentType: 'image/png', expiresAt: new Date(Date.now() + 1000) }), InvalidKeyError, k);
      await assert.rejects(store.delete(k), InvalidKeyError, k);
    }
  });

  it('does not follow symlinks out of the root', async () => {
    const root = path.join(dir, 'd');
    const outside = path.join(dir, 'outside');
    mkdirSync(outside, { recursive: true });
    writeFileSync(path.join(outside, 'secret.png'), 'top secret');
    writeFileSync(path.join(outside, 'secret.png.json'), JSON.stringify({ contentType: 'image/png', expiresAt: '2999-01-01T00:00:00Z' }));
    const store = LocalImageStore.inDataDir(root);
    await store.put('2025/01/01/ok-0.png', png(9), { contentType: 'image/png', expiresAt: new Date(Date.now() + 60_000) });
    // A folder inside the root that is a link to somewhere else, for both the data and the sidecar trees.
    symlinkSync(outside, path.join(root, 'images', 'escape'));
    symlinkSync(outside, path.join(root, 'images', '.meta', 'escape'));
    assert.equal(await store.get('escape/secret.png'), null);
    assert.ok(await store.get('2025/01/01/ok-0.png'));
  });

  it('sweeps half-written temp files a killed writer left (only stale ones), also at the sweeper start', async () => {
    const root = path.join(dir, 'tmpsweep');
    const store = LocalImageStore.inDataDir(root, { subdir: 'tasks' });
    await store.put('1.png', png(3), { contentType: 'image/png', expiresAt: new Date(Date.now() + 60_000) });
    const tasks = path.join(root, 'tasks');
    const stale = path.join(tasks, '2.png.0a1b2c.tmp');
    const fresh = path.join(tasks, '3.png.0d1e2f.tmp');
    writeFileSync(stale, 'half');
    writeFileSync(fresh, 'being written');
    const old = new Date(Date.now() - TEMP_GRACE_MS - 60_000);
    utimesSync(stale, old, old);
    let swept = -1;
    const stop = startSweeper(store, 60_000, { onSwept: (n) => (swept = n) });
    for (let i = 0; i < 500 && swept < 0; i++) await new Promise((r) => setTimeout(r, 20));
    stop();
    assert.equal(swept, 1, 'the first sweep runs at start');
    assert.ok(!existsSync(stale), 'stale temp file removed');
    assert.ok(existsSync(fresh), 'a temp file someone may be writing stays');
    assert.ok((await store.get('1.png')) !== null, 'finished files stay');
  });

  it('the sweeper runs on an unref timer and stops', async () => {
    const store = LocalImageStore.inDataDir(path.join(dir, 'e'));
    await store.put('2025/01/01/gone-0.png', png(1), { contentType: 'image/png', expiresAt: new Date(Date.now() - 1) });
    let swept = -1;
    const stop = startSweeper(store, 20, { onSwept: (n) => (swept = n) });
    // Wait for a sweep to report (a loaded machine may take seconds), not a fixed 120 ms.
    for (let i = 0; i < 500 && swept < 0; i++) await new Promise((r) => setTimeout(r, 20));
    stop();
    assert.ok(swept >= 0, 'a sweep ran');
    assert.equal(await store.get('2025/01/01/gone-0.png'), null);
    assert.ok(!existsSync(path.join(dir, 'e', 'images', '2025', '01', '01', 'gone-0.png')));
  });
});

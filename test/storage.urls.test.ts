import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, readFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src/runtime/config.js';
import {
  LocalImageStore,
  createImageHosting,
  createUrlSigner,
  loadUrlSecret,
  serveImage,
  urlSecretPath,
} from '../src/storage/index.js';

const SECRET = Buffer.from('0123456789abcdef0123456789abcdef');

function parse(url: string): { key: string; query: Record<string, string> } {
  const u = new URL(url, 'http://x');
  assert.ok(u.pathname.startsWith('/images/'));
  return { key: u.pathname.slice('/images/'.length), query: Object.fromEntries(u.searchParams) };
}

describe('signed image URLs', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mengtu-urls-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('sign/verify: ok, expired, and any alteration is invalid', () => {
    const signer = createUrlSigner(SECRET, { publicBaseUrl: 'https://img.example.com/' });
    const now = new Date('2025-04-22T12:00:00Z');
    const s = signer.sign('2025/04/22/R-0.png', 3600, now);
    assert.equal(s.expires, Math.floor(now.getTime() / 1000) + 3600);
    assert.equal(s.url, `https://img.example.com/images/2025/04/22/R-0.png?expires=${s.expires}&sig=${s.sig}`);
    assert.match(s.sig, /^[0-9a-f]{64}$/);
    const k = '2025/04/22/R-0.png';
    assert.equal(signer.verify(k, String(s.expires), s.sig, now), 'ok');
    assert.equal(signer.verify(k, String(s.expires), s.sig, new Date(s.expires * 1000)), 'expired');
    assert.equal(signer.verify('2025/04/22/R-1.png', String(s.expires), s.sig, now), 'invalid');
    assert.equal(signer.verify(k, String(s.expires + 3600), s.sig, now), 'invalid');
    const flipped = s.sig.slice(0, -1) + (s.sig.endsWith('0') ? '1' : '0');
    assert.equal(signer.verify(k, String(s.expires), flipped, now), 'invalid');
    assert.equal(signer.verify(k, String(s.expires), s.sig.toUpperCase(), now), 'invalid');
    assert.equal(signer.verify(k, undefined, s.sig, now), 'invalid');
    assert.equal(signer.verify(k, String(s.expires), undefined, now), 'invalid');
    assert.equal(signer.verify(k, `${s.expires}.0`, s.sig, now), 'invalid');
    // Another secret does not accept it.
    assert.equal(createUrlSigner(Buffer.alloc(32, 7)).verify(k, String(s.expires), s.sig, now), 'invalid');
  });

  it('serveImage: 200 with cache headers, 403 tampered, 410 expired, 404 missing or unsafe', async () => {
    let clock = Date.parse('2025-04-22T12:00:00Z');
    const store = LocalImageStore.inDataDir(path.join(dir, 'serve'), { now: () => clock });
    const signer = createUrlSigner(SECRET);
    const key = '2025/04/22/REQ-0.png';
    const body = Buffer.from('\x89PNG not really');
    await store.put(key, body, { contentType: 'image/png', expiresAt: new Date(clock + 3600_000) });
    const { url } = signer.sign(key, 3600, new Date(clock));
    const { key: k, query } = parse(url);

    const ok = await serveImage(store, signer, k, query, new Date(clock + 600_000));
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, body);
    assert.equal(ok.headers['Content-Type'], 'image/png');
    assert.equal(ok.headers['Cache-Control'], 'private, max-age=3000');
    assert.equal(ok.headers['X-Content-Type-Options'], 'nosniff');
    assert.equal(ok.headers.Expires, new Date(clock + 3600_000).toUTCString());
    assert.match(ok.headers.ETag!, /^"[A-Za-z0-9_-]+"$/);
    const cached = await serveImage(store, signer, k, query, new Date(clock), { 'if-none-match': ok.headers.ETag });
    assert.equal(cached.status, 304);

    const errorCode = (r: { body: unknown }): string =>
      (JSON.parse((r.body as Buffer).toString('utf8')) as { error: { code: string } }).error.code;

    const tamperedSig = await serveImage(store, signer, k, { ...query, sig: '0'.repeat(64) }, new Date(clock));
    assert.equal(tamperedSig.status, 403);
    assert.equal(tamperedSig.headers['Content-Type'], 'application/json; charset=utf-8');
    assert.equal(errorCode(tamperedSig), 'InvalidSignature');
    const tamperedExp = await serveImage(store, signer, k, { ...query, expires: String(Number(query.expires) + 10) }, new Date(clock));
    assert.equal(tamperedExp.status, 403);
    const otherKey = await serveImage(store, signer, '2025/04/22/REQ-1.png', query, new Date(clock));
    assert.equal(otherKey.status, 403);
    const noSig = await serveImage(store, signer, k, {}, new Date(clock));
    assert.equal(noSig.status, 403);

    const expired = await serveImage(store, signer, k, query, new Date(clock + 3600_000));
    assert.equal(expired.status, 410);
    assert.equal(errorCode(expired), 'Expired');

    // Signed but the file is gone (swept, deleted): 404.
    const ghost = signer.sign('2025/04/22/GHOST-0.png', 60, new Date(clock));
    const g = parse(ghost.url);
    assert.equal((await serveImage(store, signer, g.key, g.query, new Date(clock))).status, 404);

    for (const bad of ['../../etc/passwd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '..\\..\\etc\\passwd', '/etc/passwd', 'a\0b.png', '2025/04/22/../../../x']) {
      // Even with a signature made for that exact string, unsafe keys are never looked up.
      const r = await serveImage(store, signer, bad, { expires: query.expires, sig: query.sig }, new Date(clock));
      assert.equal(r.status, 404, bad);
      assert.equal(errorCode(r), 'NotFound');
    }
  });

  it('the signing secret is generated once, stored 0600, reused; MENGTU_URL_SECRET overrides', async () => {
    const d = path.join(dir, 'secret');
    const a = await loadUrlSecret(d);
    assert.equal(a.source, 'generated');
    assert.equal(a.secret.length, 32);
    assert.equal(statSync(urlSecretPath(d)).mode & 0o777, 0o600);
    const b = await loadUrlSecret(d);
    assert.equal(b.source, 'file');
    assert.deepEqual(b.secret, a.secret);
    chmodSync(urlSecretPath(d), 0o644);
    await loadUrlSecret(d);
    assert.equal(statSync(urlSecretPath(d)).mode & 0o777, 0o600, 'loosened permissions are tightened');
    assert.match(readFileSync(urlSecretPath(d), 'utf8'), /^[0-9a-f]{64}\n$/);
    const e = await loadUrlSecret(d, 'a-long-enough-operator-secret');
    assert.equal(e.source, 'env');
    await assert.rejects(loadUrlSecret(d, 'short'), RangeError);
  });

  it('hosting publishes a URL that serves, with the configured lifetime', async () => {
    assert.equal(loadConfig({}, {}).hosting.urlTtlSeconds, 3600);
    assert.equal(loadConfig({}, { MENGTU_URL_TTL_SECONDS: '120' }).hosting.urlTtlSeconds, 120);
    assert.throws(() => loadConfig({}, { MENGTU_URL_TTL_SECONDS: 'soon' }), ConfigError);
    await assert.rejects(createImageHosting({ dataDir: path.join(dir, 'hosting'), publicBaseUrl: 'http://x', ttlSeconds: 0 }), RangeError);
    const hosting = await createImageHosting({
      dataDir: path.join(dir, 'hosting'),
      publicBaseUrl: 'http://127.0.0.1:8080',
      ttlSeconds: loadConfig({}, { MENGTU_URL_TTL_SECONDS: '120' }).hosting.urlTtlSeconds,
    });
    assert.equal(hosting.store.kind, 'local');
    assert.match(hosting.status, /local files.*120s/);
    const now = new Date();
    const png = Buffer.from('\x89PNG hosted');
    const { url, key, expiresAt } = await hosting.publish('20250422ABC', 0, png, now);
    assert.ok(url.startsWith('http://127.0.0.1:8080/images/'));
    assert.ok(Math.abs(expiresAt.getTime() - now.getTime() - 120_000) < 1000);
    const { key: k, query } = parse(url);
    assert.equal(k, key);
    const r = await serveImage(hosting.store, hosting.signer!, k, query, now);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, png);
  });
});

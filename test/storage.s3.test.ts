import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { S3ImageStore, createImageHosting } from '../src/storage/index.js';
import { loadConfig, s3Options } from '../src/runtime/config.js';
import { fakeS3 } from './helpers/s3.js';

describe('S3 image store', () => {
  const fake = fakeS3();
  let endpoint = '';
  before(async () => {
    await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
  });
  after(() => fake.server.close());

  const env = (): NodeJS.ProcessEnv => ({
    MENGTU_S3_BUCKET: 'imgs',
    MENGTU_S3_ENDPOINT: endpoint,
    MENGTU_S3_REGION: 'cn-beijing',
    MENGTU_S3_ACCESS_KEY_ID: 'AKTEST',
    MENGTU_S3_SECRET_ACCESS_KEY: 'sk-test-secret',
    MENGTU_S3_PREFIX: 'mengtu/',
  });

  const s3ConfigFromEnv = (e: NodeJS.ProcessEnv) => s3Options(loadConfig({}, e));

  it('reads its configuration from MENGTU_S3_*', () => {
    assert.equal(s3ConfigFromEnv({}), null);
    const cfg = s3ConfigFromEnv(env());
    assert.equal(cfg?.bucket, 'imgs');
    assert.equal(cfg?.region, 'cn-beijing');
    assert.equal(cfg?.prefix, 'mengtu/');
  });

  it('put/get/delete/sweep against an S3 endpoint, honouring expiry', async () => {
    let now = Date.parse('2025-04-22T12:00:00Z');
    const store = new S3ImageStore(s3ConfigFromEnv(env())!, { now: () => now });
    const png = Buffer.from('\x89PNG s3 bytes');
    await store.put('2025/04/22/A-0.png', png, { contentType: 'image/png', expiresAt: new Date(now + 60_000) });
    await store.put('2025/04/22/B-0.png', png, { contentType: 'image/png', expiresAt: new Date(now + 3600_000) });
    assert.deepEqual(fake.objects.get('mengtu/2025/04/22/A-0.png')?.body, png);
    assert.equal(fake.objects.get('mengtu/2025/04/22/A-0.png')?.headers['x-amz-meta-expires-at'], '2025-04-22T12:01:00.000Z');
    const got = await store.get('2025/04/22/A-0.png');
    assert.deepEqual(got?.body, png);
    assert.equal(got?.contentType, 'image/png');
    assert.equal(await store.get('2025/04/22/none-0.png'), null);
    assert.equal(await store.get('../../etc/passwd'), null);
    now += 120_000;
    assert.equal(await store.get('2025/04/22/A-0.png'), null, 'expired objects are not served');
    assert.equal(await store.sweep(new Date(now)), 1);
    assert.ok(!fake.objects.has('mengtu/2025/04/22/A-0.png'));
    assert.ok(fake.objects.has('mengtu/2025/04/22/B-0.png'));
    await store.delete('2025/04/22/B-0.png');
    assert.equal(fake.objects.size, 0);
  });

  it('hosting on S3 returns the bucket’s presigned URL, which fetches the image', async () => {
    const hosting = await createImageHosting({ dataDir: '/nonexistent-not-used', publicBaseUrl: 'http://unused', s3: s3ConfigFromEnv(env()) });
    assert.equal(hosting.store.kind, 's3');
    assert.equal(hosting.signer, null);
    const png = Buffer.from('\x89PNG presigned');
    const { url } = await hosting.publish('REQ9', 0, png);
    const u = new URL(url);
    assert.equal(u.origin, endpoint);
    assert.match(u.pathname, /^\/imgs\/mengtu\/\d{4}\/\d{2}\/\d{2}\/REQ9-0\.png$/);
    assert.equal(u.searchParams.get('X-Amz-Expires'), '3600');
    assert.match(u.searchParams.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/);
    // The fake checks only that a SigV4 credential is present; a real bucket verifies the signature.
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), png);
  });
});

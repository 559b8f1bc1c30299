import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3ImageStore, createImageHosting } from '../src/storage/index.js';
import { loadConfig, s3Options } from '../src/runtime/config.js';

/** A minimal path-style S3 endpoint (PUT/GET/HEAD/DELETE object, ListObjectsV2) for the SDK to talk to. */
function fakeS3(): { server: http.Server; objects: Map<string, { body: Buffer; headers: Record<string, string> }>; requests: string[] } {
  const objects = new Map<string, { body: Buffer; headers: Record<string, string> }>();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url!, 'http://x');
      requests.push(`${req.method} ${u.pathname}${u.search}`);
      // Every request is SigV4-signed, in the header or (presigned) in the query.
      const credential = req.headers.authorization ?? `AWS4-HMAC-SHA256 Credential=${u.searchParams.get('X-Amz-Credential')}`;
      if (!/^AWS4-HMAC-SHA256 Credential=AKTEST\//.test(credential)) return void res.writeHead(403).end();
      const [, bucket, ...rest] = u.pathname.split('/');
      const key = decodeURIComponent(rest.join('/'));
      if (bucket !== 'imgs') return void res.writeHead(404).end();
      if (req.method === 'GET' && key === '' && u.searchParams.get('list-type') === '2') {
        const prefix = u.searchParams.get('prefix') ?? '';
        const keys = [...objects.keys()].filter((k) => k.startsWith(prefix));
        res.writeHead(200, { 'content-type': 'application/xml' });
        return void res.end(
          `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>imgs</Name><Prefix>${prefix}</Prefix><KeyCount>${keys.length}</KeyCount><IsTruncated>false</IsTruncated>` +
            keys.map((k) => `<Contents><Key>${k}</Key><Size>${objects.get(k)!.body.length}</Size></Contents>`).join('') +
            '</ListBucketResult>',
        );
      }
      if (req.method === 'PUT') {
        const headers: Record<string, string> = { 'content-type': String(req.headers['content-type']) };
        for (const [h, v] of Object.entries(req.headers)) if (h.startsWith('x-amz-meta-')) headers[h] = String(v);
        objects.set(key, { body: Buffer.concat(chunks), headers });
        return void res.writeHead(200, { etag: '"x"' }).end();
      }
      const obj = objects.get(key);
      if (req.method === 'DELETE') {
        objects.delete(key);
        return void res.writeHead(204).end();
      }
      if (!obj) {
        res.writeHead(404, { 'content-type': 'application/xml' });
        return void res.end(req.method === 'HEAD' ? undefined : '<Error><Code>NoSuchKey</Code><Message>none</Message></Error>');
      }
      res.writeHead(200, { ...obj.headers, 'content-length': String(obj.body.length) });
      res.end(req.method === 'HEAD' ? undefined : obj.body);
    });
  });
  return { server, objects, requests };
}

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

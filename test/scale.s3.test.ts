/**
 * Scaled mode with an S3-compatible bucket (issue #11, item 2): the gateway and the worker share no folder,
 * only Redis and the bucket. A task's picture is written by the worker to the bucket and read from there by
 * the gateway; a CVProcess picture travels from worker to gateway through the bucket and is deleted once
 * delivered; GetResult with return_url answers with presigned URLs of the bucket.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureTinyModel } from '../src/engine/index.js';
import type { RunningServer } from '../src/runtime/server.js';
import { call, pollTask, Q, rawPixels, REQ_KEY, submit } from './helpers/api.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { fakeS3 } from './helpers/s3.js';
import { startTestServer, testHome } from './helpers/server.js';
import { spawnWorker, type WorkerProc } from './helpers/worker.js';

const PREFIX = 'scale-s3';

/** Every file below `dir`, relative. */
async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => path.relative(dir, path.join(d.parentPath, d.name)));
}

describe('scaled mode with the pictures in an S3 bucket', { timeout: 600_000 }, () => {
  const s3 = fakeS3();
  let redis: TestRedis;
  let gateway: RunningServer;
  let worker: WorkerProc;
  let workerDir: string;

  before(async () => {
    const home = await testHome();
    await ensureTinyModel();
    redis = await startRedis();
    await new Promise<void>((r) => s3.server.listen(0, '127.0.0.1', r));
    const bucket = { bucket: 'imgs', endpoint: `http://127.0.0.1:${(s3.server.address() as AddressInfo).port}`, region: 'cn-beijing', accessKeyId: 'AKTEST', secretAccessKey: 'sk-test', prefix: 'mengtu/' };
    // Each process its own data folder: nothing is shared but Redis and the bucket.
    gateway = await startTestServer({ queue: { redisUrl: redis.url, prefix: PREFIX }, s3: bucket });
    workerDir = await mkdtemp(path.join(os.tmpdir(), 'mengtu-s3-worker-'));
    worker = spawnWorker({
      redisUrl: redis.url,
      dataDir: workerDir,
      home,
      prefix: PREFIX,
      env: {
        MENGTU_S3_BUCKET: bucket.bucket,
        MENGTU_S3_ENDPOINT: bucket.endpoint,
        MENGTU_S3_REGION: bucket.region,
        MENGTU_S3_ACCESS_KEY_ID: bucket.accessKeyId,
        MENGTU_S3_SECRET_ACCESS_KEY: bucket.secretAccessKey,
        MENGTU_S3_PREFIX: bucket.prefix,
      },
    });
    await worker.ready;
  });

  after(async () => {
    worker?.child.kill('SIGKILL');
    await worker?.exited;
    await gateway?.close();
    await redis?.stop();
    s3.server.close();
  });

  test('a task\'s picture goes through the bucket, inline and as presigned URLs', async () => {
    const id = await submit(gateway.url, { prompt: 'a paper lantern', seed: 41, width: 256, height: 256, use_sr: false });
    const done = await pollTask(gateway.url, id);
    assert.equal(done.json.data!.status, 'done');
    const stored = [...s3.objects.keys()].filter((k) => k.startsWith('mengtu/tasks/'));
    assert.equal(stored.length, 1, `task pictures in the bucket: ${[...s3.objects.keys()].join(', ')}`);
    assert.ok(s3.requests.some((r) => r.startsWith('PUT ') && r.includes(stored[0]!)), 'written by the worker');

    const urls = await call(gateway.url, Q.get, { req_key: REQ_KEY, task_id: id, req_json: JSON.stringify({ return_url: true }) });
    const url = urls.json.data!.image_urls![0]!;
    assert.ok(url.startsWith(`http://127.0.0.1:${(s3.server.address() as AddressInfo).port}/imgs/mengtu/`), url);
    const fetched = Buffer.from(await (await fetch(url)).arrayBuffer());
    assert.ok((await rawPixels(fetched.toString('base64'))).equals(await rawPixels(done.json.data!.binary_data_base64[0]!)));
    assert.deepEqual(await filesUnder(workerDir), [], 'the worker kept no picture of its own');
  });

  test('a CVProcess picture travels from the worker through the bucket and is deleted once delivered', async () => {
    const before = s3.requests.length;
    const r = await call(gateway.url, Q.sync, { req_key: REQ_KEY, prompt: 'a paper lantern', seed: 41, width: 256, height: 256, use_sr: false });
    assert.equal(r.json.code, 10000, JSON.stringify(r.json).slice(0, 300));
    const transit = s3.requests.slice(before).filter((q) => q.includes('/mengtu/tasks/results/'));
    assert.deepEqual(transit.map((q) => q.split(' ')[0]), ['PUT', 'GET', 'DELETE'], transit.join('\n'));
    assert.equal([...s3.objects.keys()].filter((k) => k.includes('/results/')).length, 0);
  });
});

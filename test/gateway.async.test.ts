/**
 * The async pair (contract §7) on a real server with the tiny model: submit, poll, fetch with req_json's
 * delivery choices; refusals that create no task; per-key tasks; expiry; a task that fails later.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Service } from '@volcengine/openapi';
import pino from 'pino';
import sharp from 'sharp';
import { MengtuApiError, MengtuClient, signRequest } from '../src/client/index.js';
import { CvError } from '../src/contract/errors.js';
import { parseCVProcessRequest } from '../src/contract/cvprocess.js';
import { readPngTextChunks } from '../src/pipeline/encode/index.js';
import type { JobRecord, Stage } from '../src/pipeline/types.js';
import type { RunningServer } from '../src/runtime/server.js';
import { LocalImageStore } from '../src/storage/local.js';
import { InProcessQueue } from '../src/jobs/local-queue.js';
import { createJobProcessor } from '../src/jobs/processor.js';
import { JobService } from '../src/jobs/service.js';
import { MemoryTaskStore } from '../src/jobs/task-store.js';
import { startTestServer, TEST_AK, TEST_SK } from './helpers/server.js';

/** The official SDK's calls with a 120 s timeout instead of its 10 s default: a loaded CI machine is slow, not wrong. */
// (Its params type asks for an Action the SDK fills in itself, hence the cast.)
const withTimeout = <D, R>(api: (data: D, params: never) => R) => (data: D): R => api(data, { timeout: 120_000 } as never);

const REQ_KEY = 'jimeng_high_aes_general_v21_L';
const SUBMIT = 'Action=CVSync2AsyncSubmitTask&Version=2022-08-31';
const GET = 'Action=CVSync2AsyncGetResult&Version=2022-08-31';
const SYNC = 'Action=CVProcess&Version=2022-08-31';
const OTHER_AK = 'AKLTotheraccesskey00000000000000002';
const OTHER_SK = 'b3RoZXItc2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMDAwMDAwMDAwMA==';

interface Envelope {
  code: number;
  message: string;
  status: number;
  request_id: string;
  data: ({ task_id?: string; status?: string; binary_data_base64: string[]; image_urls: string[] | null; infer_ctx?: { params: Record<string, unknown> } } & Record<string, unknown>) | null;
}

describe('async tasks: CVSync2AsyncSubmitTask / CVSync2AsyncGetResult', () => {
  let server: RunningServer;
  const call = async (query: string, body: Record<string, unknown>, creds = { ak: TEST_AK, sk: TEST_SK }): Promise<{ status: number; json: Envelope }> => {
    const text = JSON.stringify(body);
    const { headers } = signRequest({ accessKeyId: creds.ak, secretAccessKey: creds.sk, region: 'cn-north-1', service: 'cv' }, { method: 'POST', path: '/', rawQuery: query, body: text }, new Date());
    const res = await fetch(`${server.url}/?${query}`, { method: 'POST', headers, body: text });
    return { status: res.status, json: (await res.json()) as Envelope };
  };
  const submit = async (body: Record<string, unknown>): Promise<string> => {
    const { status, json } = await call(SUBMIT, { req_key: REQ_KEY, ...body });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.code, 10000);
    assert.match(json.data!.task_id!, /^[1-9]\d{0,18}$/);
    return json.data!.task_id!;
  };
  /** Polls until the task is done; returns every status seen and the final envelope. */
  const poll = async (taskId: string, reqJson?: Record<string, unknown>): Promise<{ seen: string[]; json: Envelope; status: number }> => {
    const seen: string[] = [];
    // A deadline, not a count of polls: on a loaded machine a 512² → 1024² SR task alone can take well over 10 s.
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      const r = await call(GET, { req_key: REQ_KEY, task_id: taskId, ...(reqJson ? { req_json: JSON.stringify(reqJson) } : {}) });
      const s = r.json.data?.status ?? `code ${r.json.code}`;
      if (seen.at(-1) !== s) seen.push(s);
      if (s !== 'in_queue' && s !== 'generating') return { seen, json: r.json, status: r.status };
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error(`task ${taskId} never finished: ${seen.join(' → ')}`);
  };
  const rawPixels = async (b64: string): Promise<Buffer> => sharp(Buffer.from(b64, 'base64')).removeAlpha().raw().toBuffer();

  before(async () => {
    server = await startTestServer({}, { extraKeys: [[OTHER_AK, OTHER_SK]] });
  });
  after(async () => {
    await server.close();
  });

  test('submit answers a task id at once; polling goes in_queue/generating → done with the same pixels CVProcess gives', async () => {
    const body = { prompt: 'a lighthouse at dawn', seed: 42, width: 320, height: 256, use_sr: false };
    const id = await submit(body);
    const { seen, json } = await poll(id);
    assert.equal(seen.at(-1), 'done', seen.join(' → '));
    assert.equal(json.code, 10000);
    assert.equal(json.data!.status, 'done');
    assert.equal(json.data!.image_urls, null);
    assert.equal(json.data!.infer_ctx!.params.seed, 42);
    const meta = await sharp(Buffer.from(json.data!.binary_data_base64[0]!, 'base64')).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 320, 256]);
    const sync = await call(SYNC, { req_key: REQ_KEY, ...body });
    assert.ok((await rawPixels(sync.json.data!.binary_data_base64[0]!)).equals(await rawPixels(json.data!.binary_data_base64[0]!)));
  });

  test('while the engine works: the running task is generating, the one behind it in_queue', async () => {
    // One engine worker (the default): B waits while A (512² → 1024² with SR, over a second) runs.
    const a = await submit({ prompt: 'a busy market street', seed: 1, width: 512, height: 512, use_sr: true });
    const b = await submit({ prompt: 'a quiet garden', seed: 2, width: 256, height: 256, use_sr: false });
    const status = async (id: string): Promise<string | undefined> => (await call(GET, { req_key: REQ_KEY, task_id: id })).json.data?.status;
    assert.equal(await status(a), 'generating');
    assert.equal(await status(b), 'in_queue');
    assert.equal((await poll(a)).json.data!.status, 'done');
    assert.equal((await poll(b)).json.data!.status, 'done');
  });

  test('req_json decides each fetch: logo only in its corner, return_url gives a URL that serves the PNG, aigc_meta goes into the label', async () => {
    const id = await submit({ prompt: 'a calm lake under stars', seed: 5, width: 256, height: 256, use_sr: false });
    const plain = (await poll(id)).json;
    const logo = (await poll(id, { logo_info: { add_logo: true, position: 0, language: 1, opacity: 1 } })).json;
    const a = await rawPixels(plain.data!.binary_data_base64[0]!);
    const b = await rawPixels(logo.data!.binary_data_base64[0]!);
    // Changed pixels all lie in the bottom-right quarter (position 0).
    let changed = 0;
    for (let p = 0; p < 256 * 256; p++) {
      if (a[p * 3] !== b[p * 3] || a[p * 3 + 1] !== b[p * 3 + 1] || a[p * 3 + 2] !== b[p * 3 + 2]) {
        changed++;
        assert.ok(p % 256 >= 128 && Math.floor(p / 256) >= 128, `pixel ${p % 256},${Math.floor(p / 256)} changed outside the corner`);
      }
    }
    assert.ok(changed > 100, `only ${changed} pixels changed`);

    const url = (await poll(id, { return_url: true, aigc_meta: { content_producer: 'acme-studio', producer_id: 'job-77', content_propagator: 'acme.example', propagate_id: 'post-9' } })).json;
    assert.deepEqual(url.data!.binary_data_base64, []);
    assert.equal(url.data!.image_urls!.length, 1);
    assert.match(url.data!.image_urls![0]!, /^http:\/\/127\.0\.0\.1:\d+\/images\//);
    const res = await fetch(url.data!.image_urls![0]!);
    assert.equal(res.status, 200);
    const png = Buffer.from(await res.arrayBuffer());
    const label = JSON.parse(readPngTextChunks(png).AIGC ?? '{}') as { AIGC: Record<string, string> };
    assert.deepEqual(
      [label.AIGC.ContentProducer, label.AIGC.ProduceID, label.AIGC.ContentPropagator, label.AIGC.PropagateID],
      ['acme-studio', 'job-77', 'acme.example', 'post-9'],
    );
    const ours = JSON.parse(readPngTextChunks(Buffer.from(plain.data!.binary_data_base64[0]!, 'base64')).AIGC ?? '{}') as { AIGC: Record<string, string> };
    assert.equal(ours.AIGC.ContentProducer, 'mengtu');
  });

  test('refusals create no task: missing prompt 50201, risky prompt 50412, unknown req_key 50215', async () => {
    const missing = await call(SUBMIT, { req_key: REQ_KEY });
    assert.deepEqual([missing.status, missing.json.code, missing.json.data], [400, 50201, null]);
    const risky = await call(SUBMIT, { req_key: REQ_KEY, prompt: 'a poster of Ｐ Ｏ Ｒ Ｎ stars' });
    assert.deepEqual([risky.status, risky.json.code, risky.json.message, risky.json.data], [400, 50412, 'Text Risk Not Pass', null]);
    const other = await call(SUBMIT, { req_key: 'jimeng_t2i_v99', prompt: 'a cat' });
    assert.equal(other.json.code, 50215);
  });

  test('GetResult validation: task_id missing 50201, wrong type 50204, req_json not a JSON object 50204, bad logo 50200', async () => {
    assert.equal((await call(GET, { req_key: REQ_KEY })).json.code, 50201);
    assert.equal((await call(GET, { req_key: REQ_KEY, task_id: 123 })).json.code, 50204);
    assert.equal((await call(GET, { req_key: REQ_KEY, task_id: '1', req_json: '{not json' })).json.code, 50204);
    assert.equal((await call(GET, { req_key: REQ_KEY, task_id: '1', req_json: { return_url: true } })).json.code, 50204);
    assert.equal((await call(GET, { req_key: REQ_KEY, task_id: '1', req_json: JSON.stringify({ logo_info: { position: 9 } }) })).json.code, 50200);
    assert.equal((await call(GET, { req_key: REQ_KEY, task_id: '1', req_json: JSON.stringify({ aigc_meta: { producer_id: 'x'.repeat(257) } }) })).json.code, 50200);
  });

  test('tasks are per access key; unknown ids are not_found', async () => {
    const id = await submit({ prompt: 'a small red boat', seed: 3, width: 256, height: 256, use_sr: false });
    await poll(id);
    const other = await call(GET, { req_key: REQ_KEY, task_id: id }, { ak: OTHER_AK, sk: OTHER_SK });
    assert.equal(other.json.code, 10000);
    assert.deepEqual(other.json.data, { binary_data_base64: [], image_urls: null, status: 'not_found' });
    const unknown = await call(GET, { req_key: REQ_KEY, task_id: '1234567890123456789' });
    assert.equal(unknown.json.data!.status, 'not_found');
  });

  test('the official @volcengine/openapi Service submits and fetches', async () => {
    const u = new URL(server.url);
    const svc = new Service({ serviceName: 'cv', region: 'cn-north-1', host: u.host, protocol: 'http:', accessKeyId: TEST_AK, secretKey: TEST_SK, defaultVersion: '2022-08-31' });
    const submitApi = withTimeout(svc.createJSONAPI('CVSync2AsyncSubmitTask'));
    const getApi = withTimeout(svc.createJSONAPI('CVSync2AsyncGetResult'));
    const sub = (await submitApi({ req_key: REQ_KEY, prompt: 'a paper crane', seed: 9, width: 256, height: 256, use_sr: false })) as unknown as Envelope;
    assert.equal(sub.code, 10000, JSON.stringify(sub));
    let got: Envelope | undefined;
    for (const deadline = Date.now() + 180_000; Date.now() < deadline; ) {
      got = (await getApi({ req_key: REQ_KEY, task_id: sub.data!.task_id!, req_json: JSON.stringify({ return_url: false }) })) as unknown as Envelope;
      if (got.data?.status === 'done') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(got?.data?.status, 'done');
    assert.equal((await sharp(Buffer.from(got!.data!.binary_data_base64[0]!, 'base64')).metadata()).format, 'png');
  });

  test('the SDK: runTask polls to done and reports each status; a failed task throws its code', async () => {
    const client = new MengtuClient({ endpoint: server.url, accessKeyId: TEST_AK, secretAccessKey: TEST_SK, retries: 0 });
    const statuses: string[] = [];
    const r = await client.runTask({ prompt: 'a kite over hills', seed: 4, width: 256, height: 256, use_sr: false }, { intervalMs: 20, onStatus: (s) => statuses.push(s), return_url: true });
    assert.equal(r.status, 'done');
    assert.equal(statuses.at(-1), 'done');
    assert.match(r.image_urls![0]!, /\/images\//);
    assert.equal((await client.getResult('999')).status, 'not_found');
    await assert.rejects(client.runTask({ prompt: 'a poster of Ｐ Ｏ Ｒ Ｎ stars' }), (e: unknown) => e instanceof MengtuApiError && e.code === 50412);
  });

  test('a task that fails after submit reports its code at GetResult, with data null', async () => {
    const store = new MemoryTaskStore(new LocalImageStore(await mkdtemp(path.join(os.tmpdir(), 'mengtu-tasks-'))), { ttlMs: 60_000 });
    const failing: Stage = { name: 'image_risk', run: () => { throw new CvError(50511); } };
    const log = pino({ level: 'silent' });
    const host = server.runtime.host;
    const queue = new InProcessQueue({ host, process: createJobProcessor({ host, stages: [failing], tasks: store, log }), tasks: store, workers: 1, maxQueue: 4, log });
    const tasks = new JobService({ queue, tasks: store, stages: [failing], model: 'tiny', log });
    const id = await tasks.submitTask(parseCVProcessRequest({ req_key: REQ_KEY, prompt: 'a cat' }), { requestId: 'r1', accessKey: TEST_AK });
    await queue.drain();
    await assert.rejects(tasks.getResult({ req_key: REQ_KEY, task_id: id, return_url: false, logo_info: null, aigc_meta: null }, { accessKey: TEST_AK }), (e: unknown) => e instanceof CvError && e.code === 50511);
  });
});

describe('task store: results expire, then are forgotten', () => {
  test('done → expired after the TTL (picture deleted by the sweep) → not_found after twice the TTL', async () => {
    let now = 1_000_000;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mengtu-tasks-'));
    const store = new MemoryTaskStore(new LocalImageStore(dir, { now: () => now }), { ttlMs: 1000, now: () => now });
    await store.create('77', 'AK');
    assert.equal((await store.get('77', 'AK')).kind, 'found');
    assert.equal((await store.get('77', 'BK')).kind, 'not_found');
    const image = { width: 2, height: 2, data: new Uint8ClampedArray([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 9, 9, 9, 255]) };
    await store.finish('77', {} as JobRecord, image);
    const back = await store.picture('77');
    assert.deepEqual([...back!.data], [...image.data]);
    now += 999;
    assert.equal((await store.get('77', 'AK')).kind, 'found');
    now += 1;
    assert.equal((await store.get('77', 'AK')).kind, 'expired');
    assert.equal(await store.sweep(), 0);
    assert.equal(await store.picture('77'), null);
    now += 1000;
    assert.equal((await store.get('77', 'AK')).kind, 'not_found');
    assert.equal(await store.sweep(), 1);
    assert.equal(store.size, 0);
  });
});

/**
 * CVCancelTask and GetResult's progress field on the embedded server (in-process queue, one engine worker):
 * a queued task is removed, a running one stops between steps; both answer `cancelled`; a finished task
 * is left as it is; another key's task is not_found.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../src/runtime/server.js';
import { cancel, call, getResult, pollTask, Q, REQ_KEY, submit } from './helpers/api.js';
import { startTestServer } from './helpers/server.js';

const OTHER = { ak: 'AKLTotheraccesskey00000000000000002', sk: 'b3RoZXItc2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMDAwMDAwMDAwMA==' };

describe('CVCancelTask and progress (embedded)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({}, { extraKeys: [[OTHER.ak, OTHER.sk]] });
  });
  after(async () => {
    await server.close();
  });

  test('running task: progress while generating, then cancelled; the task queued behind it: removed, cancelled', { timeout: 300_000 }, async () => {
    // One engine worker: A (1024² render) runs for seconds; B waits behind it.
    const a = await submit(server.url, { prompt: 'a harbour at night', seed: 3, width: 1024, height: 1024, use_sr: false });
    const b = await submit(server.url, { prompt: 'a quiet garden', seed: 4, width: 256, height: 256, use_sr: false });
    // B is queued behind A: cancelling removes it from the queue.
    assert.equal((await getResult(server.url, b)).data!.status, 'in_queue');
    // Another key cannot see, so cannot cancel, the task.
    const foreign = await call(server.url, Q.cancel, { req_key: REQ_KEY, task_id: b }, OTHER);
    assert.deepEqual([foreign.json.code, foreign.json.data!.status], [10000, 'not_found']);
    const cb = await cancel(server.url, b);
    assert.deepEqual([cb.code, cb.data!.status], [10000, 'cancelled']);
    assert.equal((await getResult(server.url, b)).data!.status, 'cancelled');

    // A reports progress while it runs, then is cancelled where it is.
    const generating = await pollTask(server.url, a, { until: (e) => e.data?.status !== 'in_queue' && (e.data?.status !== 'generating' || e.data.progress !== undefined) });
    assert.equal(generating.json.data!.status, 'generating', generating.seen.join(' → '));
    const p = generating.json.data!.progress!;
    assert.ok(typeof p.stage === 'string' && p.step >= 0 && p.step <= p.total_steps && p.elapsed_ms >= 0, JSON.stringify(p));
    const ca = await cancel(server.url, a);
    assert.deepEqual([ca.code, ca.data!.status], [10000, 'cancelled']);
    assert.equal((await getResult(server.url, a)).data!.status, 'cancelled');
    // The engine is free again and nothing of either task runs on: the next task completes.
    const c = await submit(server.url, { prompt: 'a red kite', seed: 5, width: 256, height: 256, use_sr: false });
    const done = await pollTask(server.url, c);
    assert.equal(done.json.data!.status, 'done');
    assert.equal((await getResult(server.url, a)).data!.status, 'cancelled');
    assert.deepEqual((await getResult(server.url, a)).data!.binary_data_base64, []);
  });

  test('a finished task stays done; unknown ids are not_found; a missing task_id is 50201', async () => {
    const id = await submit(server.url, { prompt: 'a blue door', seed: 6, width: 256, height: 256, use_sr: false });
    await pollTask(server.url, id);
    const c = await cancel(server.url, id);
    assert.deepEqual([c.code, c.data!.status], [10000, 'done']);
    assert.equal((await getResult(server.url, id)).data!.status, 'done');
    assert.equal((await cancel(server.url, '12345')).data!.status, 'not_found');
    const missing = await call(server.url, Q.cancel, { req_key: REQ_KEY });
    assert.equal(missing.json.code, 50201);
  });
});

/**
 * Task progress over Server-Sent Events against a real tiny-model server: order (queued → steps → done),
 * step previews, an error path (a prompt refused with 50412 mid-pipeline), a client that hangs up, and auth.
 */
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { MengtuClient, type TaskEvent } from '../src/client/index.js';
import type { RunningServer } from '../src/runtime/server.js';
import { collect, holdPictureWrites as holdPictureWrites_, openStream as openStream_, signedGet as signedGet_, untilDone as untilDone_, untilStage as untilStage_, type Sse, type StreamOptions } from './helpers/progress.js';
import { startTestServer, TEST_AK, TEST_SK } from './helpers/server.js';

const OTHER_AK = 'AKLTother00000000000000000000000002';
const OTHER_SK = 'b3RoZXItc2VjcmV0LWtleS0wMDAwMDAwMDAwMDAwMDAwMDA=';
let server: RunningServer;
let client: MengtuClient;

before(async () => {
  // One engine worker: a second task waits in the queue while the first runs.
  server = await startTestServer({ engine: { workers: 1 } }, { extraKeys: [[OTHER_AK, OTHER_SK]] });
  client = new MengtuClient({ endpoint: server.url, accessKeyId: TEST_AK, secretAccessKey: TEST_SK, retries: 0 });
});
after(async () => {
  await server.close();
});

const openStream = (id: string, opts: StreamOptions = {}): Promise<Response> => openStream_(server.url, id, opts);
const readEvents = async (id: string, opts: StreamOptions = {}): Promise<Sse[]> => collect(await openStream(id, opts), opts.limit);
const signedGet = (path: string, rawQuery = '', keys?: { ak: string; sk: string }) => signedGet_(server.url, path, rawQuery, keys);
const holdPictureWrites = () => holdPictureWrites_(server.runtime.tasks);
const untilStage = (id: string, stage: string) => untilStage_(client, id, stage);
const untilDone = (id: string) => untilDone_(client, id);

const body = (prompt: string, seed: number) => ({ prompt, seed, width: 256, height: 256, use_sr: false, use_pre_llm: false });

describe('task progress stream (SSE)', () => {
  it('queued → steps with previews → done with the images, in order', async () => {
    // A long first task keeps the single engine worker busy, so the second one waits in the queue.
    const first = await client.submitTask({ ...body('a harbour at night', 1), width: 1024, height: 1024, steps: 50 });
    const second = await client.submitTask({ ...body('a lighthouse at dusk', 2), steps: 4 });
    const [, events] = await Promise.all([readEvents(first), readEvents(second)]);
    const kinds = events.map((e) => e.event);
    assert.equal(kinds[0], 'queued', kinds.join(' '));
    assert.equal(kinds.at(-1), 'done');
    const firstProgress = kinds.indexOf('progress');
    assert.ok(firstProgress > 0 && kinds.slice(firstProgress).every((k) => k !== 'queued'), `no queued after progress: ${kinds.join(' ')}`);
    const steps = events.filter((e) => e.event === 'progress' && e.data.stage === 'generate').map((e) => e.data.step as number);
    assert.deepEqual(steps, [...steps].sort((a, b) => a - b), 'steps only go up');
    assert.equal(steps.at(-1), 4);
    // After the pipeline, the picture is written to the task store: the stream names that stage, then done.
    const stages = events.filter((e) => e.event === 'progress').map((e) => e.data.stage);
    assert.equal(stages.at(-1), 'storing', stages.join(' '));
    assert.ok(events.filter((e) => e.event === 'progress').every((e) => typeof e.data.elapsed_ms === 'number'));
    assert.ok(events.some((e) => e.event === 'progress' && typeof e.data.eta_ms === 'number'), 'a remaining-time estimate once steps run');
    const previews = events.filter((e) => e.event === 'preview');
    assert.ok(previews.length >= 1, 'at least one step preview');
    assert.match(previews[0]!.data.image as string, /^data:image\/jpeg;base64,\/9j\//);
    const done = events.at(-1)!.data as { code: number; data: { status: string; binary_data_base64: string[] } };
    assert.equal(done.code, 10000);
    assert.equal(done.data.status, 'done');
    assert.equal(Buffer.from(done.data.binary_data_base64[0]!, 'base64').subarray(1, 4).toString(), 'PNG');
    // Polling stays the source of truth and agrees.
    assert.equal((await client.getResult(second)).status, 'done');
  });

  it('a finished task answers at once: done, then the stream ends', async () => {
    const id = await client.submitTask(body('a red kite', 3));
    await readEvents(id);
    const again = await readEvents(id);
    assert.deepEqual(again.map((e) => e.event), ['done']);
  });

  it('an unknown task id answers not_found at once', async () => {
    const events = await readEvents('0000000000000000000');
    assert.deepEqual(events.map((e) => e.event), ['done']);
    assert.equal((events[0]!.data as { data: { status: string } }).data.status, 'not_found');
  });

  it('a stream opened after steps have run gets the latest state and the last preview at once', async () => {
    // The task waits in `storing` (its picture write held): every step and preview happened before the
    // stream opens, and nothing new comes until the write is released.
    const hold = holdPictureWrites();
    try {
      const id = await client.submitTask({ ...body('a harbour crane', 9), steps: 4 });
      await untilStage(id, 'storing');
      const res = await openStream(id);
      const first = await collect(res, 2);
      assert.deepEqual(first.map((e) => e.event), ['progress', 'preview']);
      assert.equal(first[0]!.data.stage, 'storing');
      assert.match(first[1]!.data.image as string, /^data:image\/jpeg;base64,\/9j\//);
      assert.ok((first[1]!.data.step as number) >= 1 && (first[1]!.data.step as number) < 4, 'a step preview (none for the last step)');
      hold.release();
      await untilDone(id);
    } finally {
      hold.restore();
    }
  });

  it('GetResult names the storing stage while the finished picture is written', async () => {
    const hold = holdPictureWrites();
    try {
      const id = await client.submitTask(body('a tall ship', 8));
      await untilStage(id, 'storing');
      hold.release();
      await untilDone(id);
    } finally {
      hold.restore();
    }
  });

  it('a client that hangs up is dropped; the task still finishes', async () => {
    const id = await client.submitTask({ ...body('a slow sunrise', 5), steps: 6 });
    const abort = new AbortController();
    const partial = readEvents(id, { signal: abort.signal }).catch((e: unknown) => (e instanceof Error && e.name === 'AbortError' ? [] : Promise.reject(e)));
    await new Promise((r) => setTimeout(r, 150));
    abort.abort();
    await partial;
    const r = await client.runTask(body('after the hang-up', 6), { intervalMs: 200 });
    assert.equal(r.status, 'done');
    for (;;) {
      const s = await client.getResult(id);
      if (s.status === 'done') break;
      await new Promise((res) => setTimeout(res, 200));
    }
  });

  it('needs a valid signature, and another key sees nothing', async () => {
    const id = await client.submitTask(body('a quiet lake', 7));
    const unsigned = await fetch(`${server.url}/v1/tasks/${id}/events`);
    assert.equal(unsigned.status, 401);
    const bad = signedGet(`/v1/tasks/${id}/events`, '', { ak: TEST_AK, sk: 'not-the-secret-key-000000000000000' });
    assert.equal((await fetch(bad.url, { headers: bad.headers })).status, 401);
    const other = signedGet(`/v1/tasks/${id}/events`, '', { ak: OTHER_AK, sk: OTHER_SK });
    const res = await fetch(other.url, { headers: other.headers });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /event: done/);
    assert.match(text, /"status":"not_found"/);
  });
});

describe('CVProcess progress (progress_id)', () => {
  const pid = (): string => `call-${randomUUID()}`;

  it('a stream opened before the call follows it: queued → steps with a preview → done; the call answers the picture', async () => {
    const id = pid();
    const res = await openStream(id);
    const events = collect(res);
    const answer = await client.cvProcess({ ...body('a lighthouse at dusk', 11), steps: 4, progress_id: id });
    assert.equal(answer.code, 10000);
    assert.equal(answer.data!.binary_data_base64.length, 1);
    const seen = await events;
    const kinds = seen.map((e) => e.event);
    assert.equal(kinds[0], 'queued', kinds.join(' '));
    assert.equal(kinds.at(-1), 'done', kinds.join(' '));
    const steps = seen.filter((e) => e.event === 'progress' && e.data.stage === 'generate').map((e) => e.data.step as number);
    // The stream was open from the start: the stage's start (step 0) and every step, in order.
    assert.deepEqual(steps, [0, 1, 2, 3, 4], kinds.join(' '));
    assert.ok(kinds.includes('preview'), 'at least one step preview');
    // The gateway's delivery stages are reported too.
    assert.ok(seen.some((e) => e.event === 'progress' && e.data.stage === 'encode'), kinds.join(' '));
    const done = seen.at(-1)!.data as { code: number; data: { status: string } };
    assert.deepEqual([done.code, done.data.status], [10000, 'done']);

    // Opened after the call answered: its end is replayed at once.
    const late = await readEvents(id);
    assert.deepEqual(late.map((e) => [e.event, (e.data.data as { status?: string } | null)?.status]), [['done', 'done']]);
  });

  it('a risky prompt: the call is queued, then refused with 50412, and the stream ends with that error envelope', async () => {
    const id = pid();
    const res = await openStream(id);
    const events = collect(res);
    await assert.rejects(client.cvProcess({ ...body('a poster of Ｐ Ｏ Ｒ Ｎ stars', 12), progress_id: id }), (e: { code?: number }) => e.code === 50412);
    const seen = await events;
    assert.equal(seen[0]!.event, 'queued', seen.map((e) => e.event).join(' '));
    const last = seen.at(-1)!;
    assert.equal(last.event, 'error');
    assert.equal(last.data.code, 50412);
    assert.equal(last.data.data, null);
    assert.equal(typeof last.data.message, 'string');
  });

  it('another key never sees the call; a call that never comes ends the stream after the bounded wait', async () => {
    const id = pid();
    const other = await openStream(id, { rawQuery: 'wait=2', keys: { ak: OTHER_AK, sk: OTHER_SK } });
    const otherEvents = collect(other);
    await client.cvProcess({ ...body('a paper boat', 13), progress_id: id });
    const seen = await otherEvents;
    assert.deepEqual(seen.map((e) => [e.event, (e.data.data as { status: string }).status]), [['done', 'not_found']]);
  });

  it('a task submitted with a progress_id, its stream opened before the submit: queued → steps → done with the images', async () => {
    const id = pid();
    const events = collect(await openStream(id));
    const taskId = await client.submitTask({ ...body('a lighthouse keeper', 19), steps: 4, progress_id: id });
    const seen = await events;
    const kinds = seen.map((e) => e.event);
    assert.equal(kinds[0], 'queued', kinds.join(' '));
    const steps = seen.filter((e) => e.event === 'progress' && e.data.stage === 'generate').map((e) => e.data.step as number);
    assert.deepEqual(steps, [0, 1, 2, 3, 4], kinds.join(' '));
    assert.ok(kinds.includes('preview'), kinds.join(' '));
    const done = seen.at(-1)!.data as { code: number; data: { status: string; binary_data_base64: string[] } };
    assert.deepEqual([seen.at(-1)!.event, done.code, done.data.status], ['done', 10000, 'done']);
    assert.equal(Buffer.from(done.data.binary_data_base64[0]!, 'base64').subarray(1, 4).toString(), 'PNG');
    assert.equal((await client.getResult(taskId)).status, 'done');
    // Afterwards the id leads to the task's result at once.
    const late = await readEvents(id);
    assert.deepEqual(late.map((e) => [e.event, (e.data.data as { status?: string }).status]), [['done', 'done']]);
  });

  it('a submit refused for its prompt (50412) ends the stream opened before it with the error envelope', async () => {
    const id = pid();
    const events = collect(await openStream(id));
    await assert.rejects(client.submitTask({ ...body('a poster of Ｐ Ｏ Ｒ Ｎ stars', 20), progress_id: id }), (e: { code?: number }) => e.code === 50412);
    const seen = await events;
    assert.deepEqual(seen.map((e) => [e.event, e.data.code]), [['error', 50412]]);
  });

  it('the SDK follows its own CVProcess call (cvProcess with onProgress)', async () => {
    const seen: TaskEvent[] = [];
    const answer = await client.cvProcess({ ...body('a windmill', 18), width: 512, height: 512, steps: 20 }, { onProgress: (e) => seen.push(e) });
    assert.equal(answer.code, 10000);
    assert.ok(seen.some((e) => e.event === 'progress' && e.stage === 'generate'), seen.map((e) => e.event).join(' '));
  });

  it('progress_id is validated, and one id is held by one running call at a time', async () => {
    for (const bad of ['1234567890', 'short', 'has spaces in it', 'x'.repeat(65)]) {
      await assert.rejects(client.cvProcess({ ...body('a cat', 14), progress_id: bad }), (e: { code?: number; message?: string }) => e.code === 50200 && /progress_id/.test(e.message ?? ''), bad);
    }
    const id = pid();
    const first = client.cvProcess({ ...body('a harbour at night', 15), width: 1024, height: 1024, steps: 50, progress_id: id });
    // Once the first call holds the id (its stream shows it), a second call with it is refused.
    const res = await openStream(id);
    const events = collect(res);
    await assert.rejects(client.cvProcess({ ...body('a second call', 16), progress_id: id }), (e: { code?: number; message?: string }) => e.code === 50200 && /in use/.test(e.message ?? ''));
    assert.equal((await first).code, 10000);
    assert.equal((await events).at(-1)!.event, 'done');
    // Finished, the id may be used again.
    assert.equal((await client.cvProcess({ ...body('a third call', 17), progress_id: id })).code, 10000);
  });
});

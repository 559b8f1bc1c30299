/**
 * Task progress over Server-Sent Events against a real tiny-model server: order (queued → steps → done),
 * step previews, an error path (a prompt refused with 50412 mid-pipeline), a client that hangs up, and auth.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MengtuClient, signRequest, sseEvents } from '../src/client/index.js';
import type { RunningServer } from '../src/runtime/server.js';
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

interface Sse {
  event: string;
  data: Record<string, unknown>;
}

function signedGet(path: string, rawQuery = '', keys = { ak: TEST_AK, sk: TEST_SK }): { url: string; headers: Record<string, string> } {
  const { headers } = signRequest({ accessKeyId: keys.ak, secretAccessKey: keys.sk, region: 'cn-north-1', service: 'cv' }, { method: 'GET', path, rawQuery, body: '' }, new Date());
  return { url: `${server.url}${path}${rawQuery ? `?${rawQuery}` : ''}`, headers };
}

/** Reads the whole stream (until the server ends it), or `limit` events when given (then hangs up). */
async function readEvents(taskId: string, opts: { limit?: number; signal?: AbortSignal } = {}): Promise<Sse[]> {
  const { url, headers } = signedGet(`/v1/tasks/${taskId}/events`);
  const res = await fetch(url, { headers, ...(opts.signal ? { signal: opts.signal } : {}) });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const out: Sse[] = [];
  for await (const e of sseEvents(res.body!)) {
    out.push(e);
    if (opts.limit && out.length >= opts.limit) break;
  }
  return out;
}

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

  it('a task that fails ends with the error envelope', async () => {
    // The submit check passes the prompt; the risk check on the expanded prompt (use_pre_llm) refuses it.
    const id = await client.submitTask({ ...body('a poster of Ｐ Ｏ Ｒ Ｎ stars', 4) }).catch(() => null);
    if (id === null) {
      // Refused at submit (no task exists): the stream of an unknown task ends at once with not_found.
      const events = await readEvents('0000000000000000000');
      assert.deepEqual(events.map((e) => e.event), ['done']);
      assert.equal((events[0]!.data as { data: { status: string } }).data.status, 'not_found');
      return;
    }
    const events = await readEvents(id);
    assert.equal(events.at(-1)!.event, 'error');
    assert.equal(events.at(-1)!.data.code, 50412);
  });

  it('GetResult names the storing stage while the finished picture is written', async () => {
    // Hold the task store's picture write so the window between the pipeline's end and `done` can be seen.
    const tasks = server.runtime.tasks;
    const finish = tasks.finish.bind(tasks);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    tasks.finish = async (...args) => {
      await held;
      return finish(...args);
    };
    try {
      const id = await client.submitTask(body('a tall ship', 8));
      let seen = '';
      for (let i = 0; i < 600 && seen !== 'storing'; i++) {
        const r = (await client.getResult(id)) as { status: string; progress?: { stage: string } };
        assert.notEqual(r.status, 'done');
        seen = r.progress?.stage ?? '';
        if (seen !== 'storing') await new Promise((res) => setTimeout(res, 50));
      }
      assert.equal(seen, 'storing');
      release();
      for (;;) {
        if ((await client.getResult(id)).status === 'done') break;
        await new Promise((res) => setTimeout(res, 50));
      }
    } finally {
      release();
      tasks.finish = finish;
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

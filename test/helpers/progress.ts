/** Progress-stream helpers shared by the embedded and scaled progress tests. */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { signRequest, sseEvents, type MengtuClient } from '../../src/client/index.js';
import type { TaskStore } from '../../src/jobs/types.js';
import { TEST_AK, TEST_SK } from './server.js';

export interface Sse {
  event: string;
  data: Record<string, unknown>;
}

export interface StreamOptions {
  limit?: number;
  signal?: AbortSignal;
  rawQuery?: string;
  keys?: { ak: string; sk: string };
}

export function signedGet(base: string, path: string, rawQuery = '', keys = { ak: TEST_AK, sk: TEST_SK }): { url: string; headers: Record<string, string> } {
  const { headers } = signRequest({ accessKeyId: keys.ak, secretAccessKey: keys.sk, region: 'cn-north-1', service: 'cv' }, { method: 'GET', path, rawQuery, body: '' }, new Date());
  return { url: `${base}${path}${rawQuery ? `?${rawQuery}` : ''}`, headers };
}

/** Opens a task's (or a progress_id's) stream: resolves once the server has answered its headers. */
export async function openStream(base: string, id: string, opts: StreamOptions = {}): Promise<Response> {
  const { url, headers } = signedGet(base, `/v1/tasks/${id}/events`, opts.rawQuery ?? '', opts.keys);
  const res = await fetch(url, { headers, ...(opts.signal ? { signal: opts.signal } : {}) });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  return res;
}

/** Reads a stream until the server ends it, or `limit` events when given (then hangs up). */
export async function collect(res: Response, limit?: number): Promise<Sse[]> {
  const out: Sse[] = [];
  for await (const e of sseEvents(res.body!)) {
    out.push(e);
    if (limit && out.length >= limit) break;
  }
  return out;
}

/**
 * Holds a task store's picture writes until released, so a task stays in its `storing` stage (every step
 * and preview has happened, nothing new comes until the write is let go).
 */
export function holdPictureWrites(tasks: TaskStore): { release: () => void; restore: () => void } {
  const finish = tasks.finish.bind(tasks);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  tasks.finish = async (...args) => {
    await held;
    return finish(...args);
  };
  return {
    release,
    restore: () => {
      release();
      tasks.finish = finish;
    },
  };
}

export async function untilStage(client: MengtuClient, id: string, stage: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const r = (await client.getResult(id)) as { status: string; progress?: { stage: string } };
    assert.notEqual(r.status, 'done');
    if (r.progress?.stage === stage) return;
    await sleep(50);
  }
  assert.fail(`task ${id} never reached ${stage}`);
}

export async function untilDone(client: MengtuClient, id: string): Promise<void> {
  while ((await client.getResult(id)).status !== 'done') await sleep(50);
}

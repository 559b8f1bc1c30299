/** Signed calls to a running gateway (the official envelope), for tests that drive several servers. */
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { signRequest } from '../../src/client/index.js';
import { TEST_AK, TEST_SK } from './server.js';

export const REQ_KEY = 'jimeng_high_aes_general_v21_L';
export const Q = {
  sync: 'Action=CVProcess&Version=2022-08-31',
  submit: 'Action=CVSync2AsyncSubmitTask&Version=2022-08-31',
  get: 'Action=CVSync2AsyncGetResult&Version=2022-08-31',
  cancel: 'Action=CVCancelTask&Version=2022-08-31',
} as const;

export interface Envelope {
  code: number;
  message: string;
  request_id: string;
  data:
    | ({
        task_id?: string;
        status?: string;
        binary_data_base64: string[];
        image_urls: string[] | null;
        progress?: { stage: string; step: number; total_steps: number; elapsed_ms: number; queue_position?: number };
        infer_ctx?: { params: Record<string, unknown> };
      } & Record<string, unknown>)
    | null;
}

export async function call(base: string, query: string, body: Record<string, unknown>, creds = { ak: TEST_AK, sk: TEST_SK }): Promise<{ status: number; json: Envelope }> {
  const text = JSON.stringify(body);
  const { headers } = signRequest({ accessKeyId: creds.ak, secretAccessKey: creds.sk, region: 'cn-north-1', service: 'cv' }, { method: 'POST', path: '/', rawQuery: query, body: text }, new Date());
  const res = await fetch(`${base}/?${query}`, { method: 'POST', headers, body: text });
  return { status: res.status, json: (await res.json()) as Envelope };
}

export async function submit(base: string, body: Record<string, unknown>): Promise<string> {
  const { status, json } = await call(base, Q.submit, { req_key: REQ_KEY, ...body });
  assert.equal(status, 200, JSON.stringify(json));
  assert.equal(json.code, 10000, JSON.stringify(json));
  return json.data!.task_id!;
}

export async function getResult(base: string, taskId: string): Promise<Envelope> {
  return (await call(base, Q.get, { req_key: REQ_KEY, task_id: taskId })).json;
}

export async function cancel(base: string, taskId: string): Promise<Envelope> {
  return (await call(base, Q.cancel, { req_key: REQ_KEY, task_id: taskId })).json;
}

/** Polls until `done(env)` (default: the task left in_queue/generating); returns the statuses seen and the last envelope. */
export async function pollTask(base: string, taskId: string, opts: { until?: (e: Envelope) => boolean; timeoutMs?: number; intervalMs?: number } = {}): Promise<{ seen: string[]; json: Envelope }> {
  const until = opts.until ?? ((e) => e.data?.status !== 'in_queue' && e.data?.status !== 'generating');
  const deadline = Date.now() + (opts.timeoutMs ?? 240_000);
  const seen: string[] = [];
  for (;;) {
    const json = await getResult(base, taskId);
    const s = json.data?.status ?? `code ${json.code}`;
    if (seen.at(-1) !== s) seen.push(s);
    if (until(json)) return { seen, json };
    if (Date.now() > deadline) throw new Error(`task ${taskId} never got there: ${seen.join(' → ')}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

export async function rawPixels(b64: string): Promise<Buffer> {
  return sharp(Buffer.from(b64, 'base64')).removeAlpha().raw().toBuffer();
}

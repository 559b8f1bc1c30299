/**
 * mengtu/client — a TypeScript SDK for the Jimeng 2.1 API (CVProcess and the async pair). It signs requests exactly as
 * Volcengine's SDKs do, so it works against mengtu and against visual.volcengineapi.com alike.
 */
import {
  authorizationHeader,
  canonicalRequest,
  formatXDate,
  parseRawQuery,
  sha256Hex,
  signature,
  stringToSign,
} from '../contract/signature.js';
import type { AigcMeta, TaskStatus } from '../contract/async-task.js';
import type { CVProcessData } from '../contract/response.js';

export type { CVProcessData } from '../contract/response.js';

export interface CVProcessInput {
  req_key?: string;
  prompt: string;
  seed?: number;
  width?: number;
  height?: number;
  use_pre_llm?: boolean;
  use_sr?: boolean;
  return_url?: boolean;
  logo_info?: {
    add_logo?: boolean;
    position?: 0 | 1 | 2 | 3;
    language?: 0 | 1;
    opacity?: number;
    logo_text_content?: string;
  };
  /** mengtu extensions (the cloud ignores them): the model's defaults apply when absent. */
  negative_prompt?: string;
  steps?: number;
  guidance_scale?: number;
  scheduler?: 'euler' | 'euler_a' | 'ddim' | 'lcm';
  /** An id of yours (8–64 of A–Z a–z 0–9 _ -, e.g. a UUID) to follow the call or task with watchTask(progress_id), even from before it is sent. */
  progress_id?: string;
}

/** One event of a task's progress stream (GET /v1/tasks/{id}/events). */
export type TaskEvent =
  | { event: 'queued'; status: 'in_queue'; queue_position: number | null; elapsed_ms: number }
  | { event: 'progress'; status: 'generating'; stage: string; step: number; total_steps: number; elapsed_ms: number; eta_ms: number | null }
  | { event: 'preview'; step: number; total_steps: number; image: string };

export type { AigcMeta, TaskStatus } from '../contract/async-task.js';

/** CVSync2AsyncGetResult's delivery choices (sent as the req_json string). */
export interface GetResultOptions {
  return_url?: boolean;
  logo_info?: CVProcessInput['logo_info'];
  aigc_meta?: Partial<AigcMeta>;
}

/** GetResult's data: the status, and the §5 fields once done. */
export type TaskResult = { status: TaskStatus; binary_data_base64: string[]; image_urls: string[] | null } & Partial<CVProcessData>;

export interface CvResponse<T> {
  code: number;
  data: T | null;
  message: string;
  request_id: string;
  status: number;
  time_elapsed: string;
}

export interface ClientOptions {
  /** e.g. http://127.0.0.1:8080 or https://visual.volcengineapi.com */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
  service?: string;
  /** Attempts after the first for 50429/50430/50500/50501 and network errors (default 3). */
  retries?: number;
  /** First backoff in ms, doubled each retry, with jitter (default 500). */
  backoffMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => Date;
}

/** A CV business error (`code != 10000`). */
export class MengtuApiError extends Error {
  override name = 'MengtuApiError';
  constructor(
    readonly code: number,
    message: string,
    readonly requestId: string,
    readonly httpStatus: number,
  ) {
    super(`${code} ${message} (request ${requestId})`);
  }
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

/** An OpenAPI gateway error (ResponseMetadata.Error): signature, key, Action/Version problems. */
export class MengtuGatewayError extends Error {
  override name = 'MengtuGatewayError';
  constructor(
    readonly code: string,
    readonly codeN: number,
    message: string,
    readonly requestId: string,
    readonly httpStatus: number,
  ) {
    super(`${code}: ${message} (request ${requestId})`);
  }
}

const RETRYABLE = new Set([50429, 50430, 50500, 50501]);
export const DEFAULT_REQ_KEY = 'jimeng_high_aes_general_v21_L';

interface SignedHeaders {
  headers: Record<string, string>;
}

/** Signs like the Node SDK: `x-content-sha256;x-date` (host and content-type are not signed). */
export function signRequest(
  opts: { accessKeyId: string; secretAccessKey: string; region: string; service: string },
  req: { method: string; path: string; rawQuery: string; body: string },
  now: Date,
): SignedHeaders {
  const xDate = formatXDate(now);
  const bodyHash = sha256Hex(req.body);
  const scope = { date: xDate.slice(0, 8), region: opts.region, service: opts.service };
  const signed = ['x-content-sha256', 'x-date'];
  const canon = canonicalRequest({
    method: req.method,
    path: req.path,
    query: parseRawQuery(req.rawQuery),
    headers: { 'x-content-sha256': bodyHash, 'x-date': xDate },
    signedHeaders: signed,
    bodyHash,
  });
  const sig = signature(opts.secretAccessKey, scope, stringToSign(xDate, scope, canon));
  return {
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'X-Date': xDate,
      'X-Content-Sha256': bodyHash,
      Authorization: authorizationHeader(opts.accessKeyId, scope, signed, sig),
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The named events of a Server-Sent Events body (`event:` + one JSON `data:` line); leaving the loop hangs up. */
export async function* sseEvents(body: ReadableStream): AsyncGenerator<{ event: string; data: Record<string, unknown> }> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let cut;
      while ((cut = buf.indexOf('\n\n')) !== -1) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const event = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (event && data) yield { event, data: JSON.parse(data) as Record<string, unknown> };
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

export class MengtuClient {
  private readonly o: Required<Omit<ClientOptions, 'timeoutMs'>> & { timeoutMs: number };

  constructor(options: ClientOptions) {
    this.o = {
      region: 'cn-north-1',
      service: 'cv',
      retries: 3,
      backoffMs: 500,
      timeoutMs: 300_000,
      fetch: globalThis.fetch,
      now: () => new Date(),
      ...options,
      endpoint: options.endpoint.replace(/\/+$/, ''),
    };
  }

  /** Calls any Action with a JSON body and returns the parsed CV envelope (throws on errors). */
  async call<T>(action: string, body: unknown, version = '2022-08-31'): Promise<CvResponse<T>> {
    const rawQuery = `Action=${encodeURIComponent(action)}&Version=${encodeURIComponent(version)}`;
    const text = JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(rawQuery, text);
      } catch (err) {
        // fetch reports network failures as TypeError; those and the retryable CV codes are tried again.
        const retry = attempt < this.o.retries && ((err instanceof MengtuApiError && err.retryable) || err instanceof TypeError);
        if (!retry) throw err;
        const delay = this.o.backoffMs * 2 ** attempt;
        await sleep(delay / 2 + Math.random() * (delay / 2));
      }
    }
  }

  private async once<T>(rawQuery: string, body: string): Promise<CvResponse<T>> {
    const { headers } = signRequest(this.o, { method: 'POST', path: '/', rawQuery, body }, this.o.now());
    const res = await this.o.fetch(`${this.o.endpoint}/?${rawQuery}`, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(this.o.timeoutMs),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new MengtuApiError(50500, `non-JSON response (HTTP ${res.status}): ${text.slice(0, 200)}`, res.headers.get('x-request-id') ?? '', res.status);
    }
    const meta = (json as { ResponseMetadata?: { RequestId?: string; Error?: { Code: string; CodeN: number; Message: string } } }).ResponseMetadata;
    if (meta?.Error) {
      throw new MengtuGatewayError(meta.Error.Code, meta.Error.CodeN, meta.Error.Message, meta.RequestId ?? '', res.status);
    }
    const env = json as CvResponse<T>;
    if (env.code !== 10000) throw new MengtuApiError(env.code, env.message, env.request_id, res.status);
    return env;
  }

  /** Text to image (jimeng_high_aes_general_v21_L by default). */
  /**
   * CVProcess. With `onProgress` (mengtu only) the call carries a progress_id (yours, or a random UUID) and
   * its progress stream is followed while it runs: queued / progress / preview events, as for a task.
   */
  async cvProcess(input: CVProcessInput, options: { onProgress?: (e: TaskEvent) => void } = {}): Promise<CvResponse<CVProcessData>> {
    const { onProgress } = options;
    if (!onProgress) return this.call<CVProcessData>('CVProcess', { req_key: DEFAULT_REQ_KEY, ...input });
    const progressId = input.progress_id ?? `sdk-${globalThis.crypto.randomUUID()}`;
    const stop = new AbortController();
    // The stream may open before the call reaches the server: it waits for the call to appear.
    const watching = this.watchTask(progressId, onProgress, { signal: stop.signal }).catch(() => undefined);
    try {
      return await this.call<CVProcessData>('CVProcess', { req_key: DEFAULT_REQ_KEY, ...input, progress_id: progressId });
    } finally {
      // The stream ends with the call; a server that never sends the end is not waited for long.
      const timer = setTimeout(() => stop.abort(), 2000);
      await watching;
      clearTimeout(timer);
    }
  }

  /** CVSync2AsyncSubmitTask: queues the same body CVProcess takes; resolves to the task id. */
  async submitTask(input: CVProcessInput): Promise<string> {
    const res = await this.call<{ task_id: string }>('CVSync2AsyncSubmitTask', { req_key: DEFAULT_REQ_KEY, ...input });
    const id = res.data?.task_id;
    if (!id) throw new MengtuApiError(50500, 'response carried no task_id', res.request_id, 200);
    return id;
  }

  /** CVSync2AsyncGetResult: the task's status, and its images once done (throws the task's error if it failed). */
  async getResult(taskId: string, options: GetResultOptions = {}, reqKey = DEFAULT_REQ_KEY): Promise<TaskResult> {
    const body: Record<string, unknown> = { req_key: reqKey, task_id: taskId };
    if (Object.keys(options).length > 0) body.req_json = JSON.stringify(options);
    const res = await this.call<TaskResult>('CVSync2AsyncGetResult', body);
    if (!res.data) throw new MengtuApiError(50500, 'response carried no data', res.request_id, 200);
    return res.data;
  }

  /**
   * Submits a task and polls until it is done (every `intervalMs`, default 1 s, up to `timeoutMs`,
   * default 10 min). Throws when the task fails, expires or disappears.
   */
  async runTask(input: CVProcessInput, options: GetResultOptions & { intervalMs?: number; timeoutMs?: number; onStatus?: (s: TaskStatus) => void } = {}): Promise<TaskResult> {
    const { intervalMs = 1000, timeoutMs = 600_000, onStatus, ...delivery } = options;
    const id = await this.submitTask(input);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.getResult(id, delivery, input.req_key ?? DEFAULT_REQ_KEY);
      onStatus?.(r.status);
      if (r.status === 'done') return r;
      if (r.status === 'not_found' || r.status === 'expired') throw new MengtuApiError(50500, `task ${id} is ${r.status}`, '', 200);
      if (Date.now() + intervalMs > deadline) throw new MengtuApiError(50500, `task ${id} not done after ${timeoutMs} ms (${r.status})`, '', 200);
      await sleep(intervalMs);
    }
  }

  /**
   * Follows a task's progress stream (mengtu only: Server-Sent Events, signed like every call) and resolves
   * to its result once done; throws the task's error. `onEvent` sees queued / progress / preview events.
   * Given a CVProcess call's `progress_id` it follows that call (open it before or during the call): it
   * resolves to `{status: 'done'}` without the pictures, which the CVProcess answer carries.
   */
  async watchTask(taskId: string, onEvent: (e: TaskEvent) => void = () => undefined, options: GetResultOptions & { signal?: AbortSignal } = {}): Promise<TaskResult> {
    const { signal, ...delivery } = options;
    const path = `/v1/tasks/${encodeURIComponent(taskId)}/events`;
    const rawQuery = Object.keys(delivery).length > 0 ? `req_json=${encodeURIComponent(JSON.stringify(delivery))}` : '';
    const { headers } = signRequest(this.o, { method: 'GET', path, rawQuery, body: '' }, this.o.now());
    const res = await this.o.fetch(`${this.o.endpoint}${path}${rawQuery ? `?${rawQuery}` : ''}`, { headers: { ...headers, Accept: 'text/event-stream' }, ...(signal ? { signal } : {}) });
    if (!res.ok || !res.body) {
      const text = await res.text();
      throw new MengtuApiError(50500, `progress stream refused (HTTP ${res.status}): ${text.slice(0, 200)}`, res.headers.get('x-request-id') ?? '', res.status);
    }
    for await (const { event, data: payload } of sseEvents(res.body)) {
      if (event === 'done' || event === 'error') {
        const env = payload as unknown as CvResponse<TaskResult>;
        if (env.code !== 10000 || !env.data) throw new MengtuApiError(env.code, env.message, env.request_id, 200);
        return env.data;
      }
      onEvent({ event, ...payload } as TaskEvent);
    }
    throw new MengtuApiError(50500, `progress stream of ${taskId} ended without a result`, '', res.status);
  }

  /** Convenience: generate and return the decoded image bytes (base64 mode). */
  async generateImage(input: Omit<CVProcessInput, 'return_url'>): Promise<{ image: Buffer; data: CVProcessData }> {
    const res = await this.cvProcess({ ...input, return_url: false });
    const b64 = res.data?.binary_data_base64[0];
    if (!b64) throw new MengtuApiError(50500, 'response carried no image', res.request_id, 200);
    return { image: Buffer.from(b64, 'base64'), data: res.data! };
  }
}

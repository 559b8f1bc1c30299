/**
 * Task progress as Server-Sent Events: GET /v1/tasks/{task_id}/events, V4-signed like every other call (a
 * signed GET with an empty body; browsers read it with fetch streaming, since EventSource cannot sign). The
 * same route follows a CVProcess call by the progress_id its caller sent (same access key; see below).
 *
 *   event: queued    {status, queue_position, elapsed_ms}
 *   event: progress  {status, stage, step, total_steps, elapsed_ms, eta_ms}
 *   event: preview   {step, total_steps, image: "data:image/jpeg;base64,…"}   at most every 500 ms
 *   event: done      the CVSync2AsyncGetResult envelope (code 10000, data with the images or a final status)
 *   event: error     the CV error envelope of a failed task (e.g. 50412, 50511)
 *
 * Events come from the job queue's progress feed (in-process, or BullMQ's through Redis: any gateway can
 * stream any task); the task store decides when it is over, and the result is what GetResult would answer
 * for the same req_json — polling GetResult stays the source of truth. A client that hangs up is dropped.
 * A stream that opens late is first told the queue's replay (latest state, last preview).
 *
 * progress_id streams (a CVProcess call): the events carry the caller's watch key (access key + id, hashed),
 * so only that key's stream sees them; the call's gateway publishes its delivery stages and its end (done,
 * cancelled or the error), which ends the stream. The stream may open first: it waits a bounded time for
 * the call to appear.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pipeline } from 'node:stream/promises';
import { verifySignature, type AuthOptions } from './auth.js';
import { chunkedJson, pacedStream, type ChunkedJson } from './json-body.js';
import { parseGetResultRequest, pendingData } from '../contract/async-task.js';
import { CvError, type CvCode } from '../contract/errors.js';
import { parseRawQuery } from '../contract/signature.js';
import { watchKey, type ProgressEvent, type ProgressReplay } from '../jobs/types.js';
import type { JobService } from '../jobs/service.js';
import { PROGRESS_ID, REQ_KEY_V21 } from '../contract/cvprocess.js';
import { PREVIEW_EVERY_MS } from '../pipeline/preview.js';
import { cvEnvelope } from './envelope.js';

/** How often the task record is read to notice the end (progress events carry no outcome). */
const STATE_POLL_MS = 200;
const HEARTBEAT_MS = 15_000;
/** A progress_id stream waits this long (default; `?wait=` seconds, up to the max) for its call to appear. */
const WATCH_WAIT_S = 60;
const WATCH_WAIT_MAX_S = 300;
/** How often a progress_id stream re-reads its replay (an end missed on the feed, a call that never came). */
const WATCH_POLL_MS = 1000;

export interface ProgressRouteOptions {
  jobs: JobService;
  /** Signature checking as for the Actions; `enabled: false` (--no-auth) lets anyone stream. */
  auth: Omit<AuthOptions, 'now'> & { enabled: boolean; now?: () => Date };
}

/** The access key of a V4-signed GET (empty body), or the gateway's error for the app to render. */
function accessKeyOf(req: FastifyRequest, auth: ProgressRouteOptions['auth']): string {
  if (!auth.enabled) return 'anonymous';
  const rawUrl = req.raw.url ?? '/';
  const q = rawUrl.indexOf('?');
  const headers: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  return verifySignature(
    { method: req.method, path: q === -1 ? rawUrl : rawUrl.slice(0, q), rawQuery: q === -1 ? '' : rawUrl.slice(q + 1), headers, body: Buffer.alloc(0) },
    { ...auth, now: auth.now ?? (() => new Date()) },
  ).accessKey;
}

interface StreamState {
  lastPreviewAt: number;
  /** When the generate stage started and at which step, for the remaining-time estimate. */
  stepClock: { step: number; at: number } | null;
}

/** Remaining time from the pace of the steps so far (null until two steps have been seen). */
function etaMs(e: ProgressEvent, st: StreamState, now: number): number | null {
  if (e.stage !== 'generate' || e.totalSteps === 0) return null;
  if (!st.stepClock || e.step < st.stepClock.step) {
    st.stepClock = { step: e.step, at: now };
    return null;
  }
  const done = e.step - st.stepClock.step;
  if (done <= 0) return null;
  const perStep = (now - st.stepClock.at) / done;
  return Math.round(perStep * (e.totalSteps - e.step));
}

function sse(reply: FastifyReply, event: string, data: unknown): void {
  reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

export function registerProgressRoutes(app: FastifyInstance, opts: ProgressRouteOptions): void {
  app.get(
    '/v1/tasks/:task_id/events',
    {
      schema: {
        summary: 'Progress of an async task, or of a CVProcess call by its progress_id, as Server-Sent Events (V4-signed GET): queued → steps with previews → done | error',
        description:
          'Events: `queued` {queue_position, elapsed_ms}, `progress` {stage, step, total_steps, elapsed_ms, eta_ms}, `preview` {step, image: data URL, ≤ 1 per 500 ms}, ' +
          'then `done` (the CVSync2AsyncGetResult envelope for this req_json) or `error` (the CV error envelope). Sign the GET like any call (empty body). ' +
          'A stream opened late first gets the latest state and the last preview. ' +
          'For a CVProcess call sent with `progress_id`, use that id with the same access key, before or during the call: the stream waits `wait` seconds for the call to appear ' +
          '(else `done` with status not_found), follows it, and ends with `done` {status: done | cancelled} (the pictures are in the CVProcess answer) or `error` with its error envelope (e.g. 50412).',
        tags: ['progress'],
        security: [{ volcengineV4: [] }],
        params: { type: 'object', properties: { task_id: { type: 'string', description: 'a task_id (all digits), or the progress_id of a CVProcess call of this key' } }, required: ['task_id'] },
        querystring: {
          type: 'object',
          properties: {
            req_json: { type: 'string', description: 'delivery choices for the final result, as in CVSync2AsyncGetResult (tasks)' },
            wait: { type: 'integer', minimum: 1, maximum: WATCH_WAIT_MAX_S, default: WATCH_WAIT_S, description: 'progress_id streams: seconds to wait for the call to appear' },
          },
        },
        response: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
      },
    },
    async (req, reply) => {
      // Refusals before the stream starts are thrown: the app renders them in its envelopes (401, 400…).
      const accessKey = accessKeyOf(req, opts.auth);
      const id = (req.params as { task_id: string }).task_id;
      const rawUrl = req.raw.url ?? '';
      const query = new Map(parseRawQuery(rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?') + 1) : ''));
      const resultOf = (taskId: string) => parseGetResultRequest({ req_key: REQ_KEY_V21, task_id: taskId, ...(query.has('req_json') ? { req_json: query.get('req_json') } : {}) });
      let getResult = resultOf(id);
      // Task ids are all digits (the server issues them); anything else is a caller's progress_id.
      const watching = !/^\d+$/.test(id);
      const waitMs = 1000 * Math.min(WATCH_WAIT_MAX_S, Math.max(1, Number(query.get('wait')) || WATCH_WAIT_S));
      const requestId = req.id;
      const startNs = process.hrtime.bigint();
      reply.hijack();
      reply.raw.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
        // nginx: do not buffer the stream.
        'X-Accel-Buffering': 'no',
        'X-Request-Id': requestId,
      });
      reply.raw.write(': mengtu progress\n\n');

      const queue = opts.jobs.queue;
      const st: StreamState = { lastPreviewAt: -Infinity, stepClock: null };
      let finished = false;
      let checking = false;
      // A task's live events are forwarded once GetResult has shown this key may see it (a watch key is the
      // caller's own by construction).
      let visible = false;
      let sentState = false;
      let sentPreview = false;
      let running = false;
      const opened = performance.now();
      // The task followed (a task id, or the task a progress_id turns out to name) and the watch key.
      let taskId: string | null = watching ? null : id;
      const wkey = watching && PROGRESS_ID.test(id) ? watchKey(accessKey, id) : null;
      const matches = (e: ProgressEvent): boolean => (taskId !== null && e.taskId === taskId) || (wkey !== null && e.watch === wkey);
      /** A progress_id sent with a task submit: from here on the stream is that task's. */
      const follow = (e: ProgressEvent): void => {
        if (taskId !== null || !e.taskId || e.watch !== wkey) return;
        taskId = e.taskId;
        getResult = resultOf(e.taskId);
        visible = true;
        void check();
      };
      /** Ends the stream, after `last` (an event with pictures, written in chunks) when given. */
      const finish = (last?: ChunkedJson): void => {
        if (finished) return;
        finished = true;
        unsubscribe();
        clearInterval(poll);
        clearInterval(heartbeat);
        if (!last) return void reply.raw.end();
        reply.raw.write('event: done\ndata: ');
        pipeline(pacedStream(last), reply.raw, { end: false }).then(
          () => reply.raw.end('\n\n'),
          () => reply.raw.destroy(),
        );
      };
      const done = (data: unknown): void => {
        const envelope = cvEnvelope(10000, 'Success', data, requestId, startNs);
        // A finished task's pictures: their base64 is made as the stream takes it, not as one string.
        const chunked = chunkedJson(envelope);
        if (chunked) return finish(chunked);
        sse(reply, 'done', envelope);
        finish();
      };
      const failed = (cv: CvError): void => {
        sse(reply, 'error', cvEnvelope(cv.code as CvCode, cv.publicMessage, null, requestId, startNs));
        finish();
      };
      const forward = (e: ProgressEvent): void => {
        if (finished) return;
        const now = performance.now();
        follow(e);
        // A task's outcome is read from the task store (check), not from the event that ends its progress_id.
        if (e.end && e.taskId) return;
        if (e.end) {
          if (e.end.status === 'failed') failed(new CvError(e.end.code, e.end.message));
          // The pictures are in the CVProcess answer itself; the stream only says how the call ended.
          else done({ binary_data_base64: [], image_urls: null, status: e.end.status });
          return;
        }
        if (e.stage === 'queued') {
          // Events travel on two feeds in scaled mode: a late `queued` never follows a running step.
          if (running) return;
          sentState = true;
          sse(reply, 'queued', { status: 'in_queue', queue_position: e.queuePosition ?? null, elapsed_ms: e.elapsedMs });
          return;
        }
        // A preview follows its step's progress event as its own event (the worker throttles them).
        if (e.preview) {
          if (now - st.lastPreviewAt < PREVIEW_EVERY_MS / 2) return;
          st.lastPreviewAt = now;
          sentPreview = true;
          sse(reply, 'preview', { step: e.step, total_steps: e.totalSteps, image: `data:${e.preview.mime};base64,${e.preview.data}` });
          return;
        }
        sentState = true;
        running = true;
        sse(reply, 'progress', { status: 'generating', stage: e.stage, step: e.step, total_steps: e.totalSteps, elapsed_ms: e.elapsedMs, eta_ms: etaMs(e, st, now) });
      };
      /** A stream that opens late first gets where the job stands: the latest state, then the latest preview. */
      const replay = async (): Promise<ProgressReplay | null> => {
        const key = taskId ?? wkey;
        const r = key ? await queue.latest(key).catch(() => null) : null;
        if (finished || !r) return r;
        if (r.end) {
          forward(r.end);
          return r;
        }
        if (r.state && !sentState) forward(r.state);
        if (r.preview && !sentPreview) forward(r.preview);
        return r;
      };
      // Tasks: ends the stream with the result (or the task's error) once the task has left the queue for good.
      const checkTask = async (): Promise<void> => {
        const data = await opts.jobs.getResult(getResult, { accessKey, log: req.log });
        if (finished) return;
        if (data.status === 'in_queue' || data.status === 'generating') {
          if (!visible) {
            visible = true;
            const r = await replay();
            // Where it stands when the stream opens: a waiting task says so at once.
            if (!r?.state && data.status === 'in_queue' && !sentState) sse(reply, 'queued', { status: 'in_queue', queue_position: data.progress?.queue_position ?? null, elapsed_ms: 0 });
          }
          return;
        }
        done(data);
      };
      // Watched CVProcess calls: the end comes as an event; the replay is read again in case one was missed,
      // and a call that never appears ends the stream after the bounded wait.
      let seen = false;
      let watchedAt = -Infinity;
      const checkWatch = async (): Promise<void> => {
        if (!wkey) return done(pendingData('not_found'));
        if (performance.now() - watchedAt < WATCH_POLL_MS) return;
        watchedAt = performance.now();
        const r = await replay();
        if (r) seen = true;
        else if (seen) return done(pendingData('expired'));
        else if (performance.now() - opened >= waitMs) return done(pendingData('not_found'));
      };
      const check = async (): Promise<void> => {
        if (finished || checking) return;
        checking = true;
        try {
          await (taskId === null ? checkWatch() : checkTask());
        } catch (err) {
          if (finished) return;
          failed(CvError.from(err));
        } finally {
          checking = false;
        }
      };
      const unsubscribe = queue.onProgress((e) => {
        if (finished || !matches(e)) return;
        if (taskId === null) seen = true;
        else if (!visible) return;
        forward(e);
      });
      const poll = setInterval(() => void check(), STATE_POLL_MS);
      const heartbeat = setInterval(() => reply.raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
      req.raw.once('close', finish);
      reply.raw.once('close', finish);
      await check();
    },
  );
}

/**
 * Task progress as Server-Sent Events: GET /v1/tasks/{task_id}/events, V4-signed like every other call (a
 * signed GET with an empty body; browsers read it with fetch streaming, since EventSource cannot sign).
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
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifySignature, type AuthOptions } from './auth.js';
import { parseGetResultRequest } from '../contract/async-task.js';
import { CvError, type CvCode } from '../contract/errors.js';
import { parseRawQuery } from '../contract/signature.js';
import type { ProgressEvent } from '../jobs/types.js';
import type { JobService } from '../jobs/service.js';
import { REQ_KEY_V21 } from '../contract/cvprocess.js';
import { PREVIEW_EVERY_MS } from '../pipeline/preview.js';
import { cvEnvelope } from './envelope.js';

/** How often the task record is read to notice the end (progress events carry no outcome). */
const STATE_POLL_MS = 200;
const HEARTBEAT_MS = 15_000;

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
        summary: 'Progress of an async task as Server-Sent Events (V4-signed GET): queued → steps with previews → done | error',
        description:
          'Events: `queued` {queue_position, elapsed_ms}, `progress` {stage, step, total_steps, elapsed_ms, eta_ms}, `preview` {step, image: data URL, ≤ 1 per 500 ms}, ' +
          'then `done` (the CVSync2AsyncGetResult envelope for this req_json) or `error` (the CV error envelope). Sign the GET like any call (empty body).',
        tags: ['progress'],
        security: [{ volcengineV4: [] }],
        params: { type: 'object', properties: { task_id: { type: 'string' } }, required: ['task_id'] },
        querystring: { type: 'object', properties: { req_json: { type: 'string', description: 'delivery choices for the final result, as in CVSync2AsyncGetResult' } } },
        response: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
      },
    },
    async (req, reply) => {
      // Refusals before the stream starts are thrown: the app renders them in its envelopes (401, 400…).
      const accessKey = accessKeyOf(req, opts.auth);
      const taskId = (req.params as { task_id: string }).task_id;
      const rawUrl = req.raw.url ?? '';
      const query = new Map(parseRawQuery(rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?') + 1) : ''));
      const getResult = parseGetResultRequest({ req_key: REQ_KEY_V21, task_id: taskId, ...(query.has('req_json') ? { req_json: query.get('req_json') } : {}) });
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

      const st: StreamState = { lastPreviewAt: -Infinity, stepClock: null };
      let finished = false;
      let checking = false;
      let announced = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        unsubscribe();
        clearInterval(poll);
        clearInterval(heartbeat);
        reply.raw.end();
      };
      // Ends the stream with the result (or the task's error) once the task has left the queue for good.
      const check = async (): Promise<void> => {
        if (finished || checking) return;
        checking = true;
        try {
          const data = await opts.jobs.getResult(getResult, { accessKey, log: req.log });
          if (finished) return;
          if (data.status === 'in_queue' || data.status === 'generating') {
            // Where it stands when the stream opens: a waiting task says so at once.
            if (!announced && data.status === 'in_queue') sse(reply, 'queued', { status: 'in_queue', queue_position: data.progress?.queue_position ?? null, elapsed_ms: 0 });
            announced = true;
            return;
          }
          sse(reply, 'done', cvEnvelope(10000, 'Success', data, requestId, startNs));
          finish();
        } catch (err) {
          if (finished) return;
          const cv = err instanceof CvError ? err : new CvError(50500, undefined, { cause: err });
          sse(reply, 'error', cvEnvelope(cv.code as CvCode, cv.code === 50500 || cv.code === 50501 ? '' : cv.message, null, requestId, startNs));
          finish();
        } finally {
          checking = false;
        }
      };
      const unsubscribe = opts.jobs.queue.onProgress((e) => {
        if (finished || e.taskId !== getResult.task_id) return;
        const now = performance.now();
        if (e.stage === 'queued') {
          sse(reply, 'queued', { status: 'in_queue', queue_position: e.queuePosition ?? null, elapsed_ms: e.elapsedMs });
          return;
        }
        // A preview follows its step's progress event as its own event (the worker throttles them).
        if (e.preview) {
          if (now - st.lastPreviewAt < PREVIEW_EVERY_MS / 2) return;
          st.lastPreviewAt = now;
          sse(reply, 'preview', { step: e.step, total_steps: e.totalSteps, image: `data:${e.preview.mime};base64,${e.preview.data}` });
          return;
        }
        sse(reply, 'progress', { status: 'generating', stage: e.stage, step: e.step, total_steps: e.totalSteps, elapsed_ms: e.elapsedMs, eta_ms: etaMs(e, st, now) });
      });
      const poll = setInterval(() => void check(), STATE_POLL_MS);
      const heartbeat = setInterval(() => reply.raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
      req.raw.once('close', finish);
      reply.raw.once('close', finish);
      await check();
    },
  );
}

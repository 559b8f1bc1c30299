/**
 * The Action table: every Action the gateway serves, as `{parse, run}`. `parse` validates the JSON body
 * (before any limit is counted, so a bad request costs no quota); `run` does the work through the job
 * service. Adding an Action is one entry here.
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { parseCancelTaskRequest, parseGetResultRequest } from '../contract/async-task.js';
import { parseCVProcessRequest } from '../contract/cvprocess.js';
import { CvError } from '../contract/errors.js';
import { parseSubmitTaskRequest } from '../contract/jimeng-v3.js';
import type { JobService } from '../jobs/service.js';

export interface ActionContext {
  requestId: string;
  accessKey: string;
  log: FastifyBaseLogger;
  req: FastifyRequest;
  reply: FastifyReply;
}

export interface ActionDef<I> {
  parse(body: unknown): I;
  /** The envelope's `data` on success. */
  run(input: I, ctx: ActionContext): Promise<object>;
}

/** Path-only URLs (no MENGTU_PUBLIC_BASE_URL) are made absolute with the address the caller used. */
function absoluteUrls<T extends { image_urls?: string[] | null }>(data: T, req: FastifyRequest): T {
  if (!data.image_urls) return data;
  const origin = `${req.protocol}://${req.host}`;
  return { ...data, image_urls: data.image_urls.map((u) => (u.startsWith('/') ? origin + u : u)) };
}

export function createActions(jobs: JobService): Record<string, ActionDef<unknown>> {
  const cvProcess: ActionDef<ReturnType<typeof parseCVProcessRequest>> = {
    parse: parseCVProcessRequest,
    async run(request, { requestId, accessKey, log, req, reply }) {
      const abort = new AbortController();
      // A caller that hangs up should not keep the engine busy for an answer nobody reads.
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) abort.abort(new CvError(50500, undefined, { logDetail: 'client went away' }));
      });
      const { data } = await jobs.process(request, { requestId, accessKey, signal: abort.signal, log });
      return absoluteUrls(data, req);
    },
  };
  const submitTask: ActionDef<ReturnType<typeof parseSubmitTaskRequest>> = {
    // Every served req_key (the Jimeng 3.x family is async-only).
    parse: parseSubmitTaskRequest,
    async run(request, { requestId, accessKey, log }) {
      const taskId = await jobs.submitTask(request, { requestId, accessKey, log });
      log.info({ task_id: taskId }, 'task submitted');
      return { task_id: taskId };
    },
  };
  const getResult: ActionDef<ReturnType<typeof parseGetResultRequest>> = {
    parse: parseGetResultRequest,
    async run(request, { accessKey, log, req }) {
      return absoluteUrls(await jobs.getResult(request, { accessKey, log }), req);
    },
  };
  const cancelTask: ActionDef<ReturnType<typeof parseCancelTaskRequest>> = {
    parse: parseCancelTaskRequest,
    async run(request, { accessKey, log }) {
      const { status } = await jobs.cancelTask(request.task_id, { accessKey, log });
      return { task_id: request.task_id, status };
    },
  };
  return {
    CVProcess: cvProcess,
    CVCancelTask: cancelTask,
    CVSync2AsyncSubmitTask: submitTask,
    CVSync2AsyncGetResult: getResult,
  } as Record<string, ActionDef<unknown>>;
}

/**
 * The Fastify app: Action/Version routing, V4 signature verification, body limit, per-key limits, envelopes,
 * health, readiness and metrics. Order of checks follows contract §1.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import type { Logger } from 'pino';
import { DEFAULT_TIMEOUTS, framingOptions, installNotFound, type HttpTimeouts } from './framing.js';
import { parseCVProcessRequest } from '../contract/cvprocess.js';
import { CvError, GatewayError, type CvCode } from '../contract/errors.js';
import { parseRawQuery } from '../contract/signature.js';
import type { EngineHost } from '../runtime/engine-host.js';
import type { Generator } from '../runtime/generator.js';
import type { AsyncTasks } from '../tasks/tasks.js';
import { parseGetResultRequest } from '../contract/async-task.js';
import { verifySignature } from './auth.js';
import { cvEnvelope, gatewayEnvelope, newRequestId } from './envelope.js';
import type { KeyStore } from './keys.js';
import { MemoryLimiter, type LimitConfig, type Limiter } from './limits.js';
import type { Metrics } from './metrics.js';

export const API_VERSION = '2022-08-31';
export const ACTIONS = ['CVProcess', 'CVSync2AsyncSubmitTask', 'CVSync2AsyncGetResult'] as const;
export type Action = (typeof ACTIONS)[number];

export interface AppOptions {
  generator: Generator;
  /** The async pair (contract §7). */
  tasks: AsyncTasks;
  host: EngineHost;
  keys: KeyStore;
  metrics: Metrics;
  logger: Logger;
  auth: boolean;
  region: string;
  service: string;
  maxSkewMs: number;
  bodyLimitBytes: number;
  /** Request, header and keep-alive deadlines (default DEFAULT_TIMEOUTS). */
  timeouts?: HttpTimeouts;
  limits: LimitConfig;
  /** Where limits are counted (Redis when scaled); default: this process's memory with `limits`. */
  limiter?: Limiter;
  now?: () => Date;
  /** Extra routes (image hosting, playground) registered by the caller. */
  register?: (app: FastifyInstance) => void;
  /** Sees every route as it is declared (the OpenAPI description is built from them). */
  onRoute?: (route: RouteOptions) => void;
}

interface RequestState {
  requestId: string;
  startNs: bigint;
  action: string;
  version: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    mengtu: RequestState;
  }
}

/** Which envelope an error is rendered in, and with which metric label. */
function sendError(reply: FastifyReply, req: FastifyRequest, err: unknown, opts: AppOptions): FastifyReply {
  const st = req.mengtu;
  if (err instanceof GatewayError) {
    opts.metrics.requests.inc({ action: st.action || 'none', code: err.code });
    return reply
      .code(err.httpStatus)
      .send(gatewayEnvelope(err, st.requestId, st.action, st.version, opts.service, opts.region));
  }
  const cv = err instanceof CvError ? err : new CvError(50500, undefined, { cause: err });
  if (cv.code === 50500 || cv.code === 50501) req.log.error({ err, detail: cv.logDetail }, 'request failed');
  else req.log.info({ code: cv.code, detail: cv.logDetail }, 'request refused');
  opts.metrics.requests.inc({ action: st.action || 'none', code: String(cv.code) });
  // 50500/50501 never carry internal text to the caller.
  const message = cv.code === 50500 || cv.code === 50501 ? '' : cv.message;
  return reply.code(cv.httpStatus).send(cvEnvelope(cv.code as CvCode, message, null, st.requestId, st.startNs));
}

/** Path-only URLs (no MENGTU_PUBLIC_BASE_URL) are made absolute with the address the caller used. */
function absoluteUrls<T extends { image_urls: string[] | null }>(data: T, req: FastifyRequest): T {
  if (!data.image_urls) return data;
  const origin = `${req.protocol}://${req.host}`;
  return { ...data, image_urls: data.image_urls.map((u) => (u.startsWith('/') ? origin + u : u)) };
}

export function buildApp(opts: AppOptions): FastifyInstance {
  const now = opts.now ?? (() => new Date());
  const limiter = opts.limiter ?? new MemoryLimiter(opts.limits);
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit: opts.bodyLimitBytes,
    genReqId: () => newRequestId(now()),
    // Probes would drown the log; API calls keep their incoming/completed lines.
    logController: new LogController({
      requestIdLogLabel: 'request_id',
      disableRequestLogging: (req) => /^\/(healthz|readyz|metrics)\b/.test(req.url),
    }),
    return503OnClosing: true,
    ...framingOptions(opts.timeouts ?? DEFAULT_TIMEOUTS, { service: opts.service, region: opts.region }),
  });
  if (opts.onRoute) app.addHook('onRoute', opts.onRoute);

  // The signature covers the raw bytes, so bodies stay Buffers until after verification.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.decorateRequest('mengtu', null as unknown as RequestState);
  app.addHook('onRequest', async (req, reply) => {
    req.mengtu = { requestId: req.id, startNs: process.hrtime.bigint(), action: '', version: '' };
    reply.header('X-Request-Id', req.id);
  });

  // While shutting down, answers close their connection so keep-alive clients don't hold the exit open.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('Connection', 'close');
  });

  app.setErrorHandler((err, req, reply) => {
    const code = (err as { code?: string }).code;
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, req, new CvError(50213), opts);
    return sendError(reply, req, err, opts);
  });

  installNotFound(app, { service: opts.service, region: opts.region });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const body = { status: opts.host.ready ? 'ready' : 'not ready', engine: opts.host.state, detail: opts.host.detail };
    return reply.code(opts.host.ready ? 200 : 503).send(body);
  });
  app.get('/metrics', async (_req, reply) => {
    opts.metrics.queueDepth.set(opts.generator.waiting);
    opts.metrics.inFlight.set(opts.generator.running);
    return reply.header('Content-Type', opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics());
  });

  app.post('/', async (req, reply) => {
    const st = req.mengtu;
    const rawUrl = req.raw.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawQuery = q === -1 ? '' : rawUrl.slice(q + 1);
    const query = new Map(parseRawQuery(rawQuery));
    st.action = query.get('Action') ?? '';
    st.version = query.get('Version') ?? '';
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const timer = opts.metrics.latency.startTimer({ action: st.action || 'none' });
    try {
      if (!st.action) throw new GatewayError('MissingParameter', 'Action');
      if (!st.version) throw new GatewayError('MissingParameter', 'Version');
      let accessKey = 'anonymous';
      if (opts.auth) {
        const headers: Record<string, string | string[] | undefined> = {};
        for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
        accessKey = verifySignature(
          { method: req.method, path: rawUrl.slice(0, q === -1 ? undefined : q), rawQuery, headers, body },
          { region: opts.region, service: opts.service, maxSkewMs: opts.maxSkewMs, now, lookupSecret: (ak) => opts.keys.secretFor(ak) },
        ).accessKey;
      }
      if (!(ACTIONS as readonly string[]).includes(st.action) || st.version !== API_VERSION) {
        throw new GatewayError('InvalidActionOrVersion', st.action, st.version);
      }
      let parsedBody: unknown;
      try {
        parsedBody = JSON.parse(body.toString('utf8'));
      } catch {
        throw new CvError(50204, 'Invalid Param Type: request body must be valid JSON');
      }
      const action = st.action as Action;
      // Each action's body is validated before any limit is counted: a bad request costs no quota.
      const cvRequest = action === 'CVSync2AsyncGetResult' ? null : parseCVProcessRequest(parsedBody);
      const getResult = action === 'CVSync2AsyncGetResult' ? parseGetResultRequest(parsedBody) : null;
      const lease = await limiter.acquire(accessKey);
      try {
        let data: object;
        if (cvRequest && action === 'CVProcess') {
          const abort = new AbortController();
          // A caller that hangs up should not keep the engine busy for an answer nobody reads.
          reply.raw.once('close', () => {
            if (!reply.raw.writableFinished) abort.abort(new CvError(50500, undefined, { logDetail: 'client went away' }));
          });
          data = absoluteUrls((await opts.generator.submit(cvRequest, { requestId: st.requestId, accessKey, signal: abort.signal, log: req.log })).data, req);
        } else if (cvRequest) {
          const taskId = await opts.tasks.submit(cvRequest, { requestId: st.requestId, accessKey, log: req.log });
          req.log.info({ task_id: taskId }, 'task submitted');
          data = { task_id: taskId };
        } else {
          data = absoluteUrls(await opts.tasks.getResult(getResult!, { accessKey, log: req.log }), req);
        }
        opts.metrics.requests.inc({ action: st.action, code: '10000' });
        return reply.code(200).send(cvEnvelope(10000, 'Success', data, st.requestId, st.startNs));
      } finally {
        await lease.release();
      }
    } catch (err) {
      return sendError(reply, req, err, opts);
    } finally {
      timer();
    }
  });

  opts.register?.(app);
  return app;
}

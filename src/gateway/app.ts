/**
 * The Fastify app: Action/Version routing, V4 signature verification, body limit, per-key limits, envelopes,
 * health, readiness and metrics. Checks run as hooks in contract §1's order (Action and Version present →
 * signature → known Action → JSON body → the Action's own validation → limits); the handler only runs the
 * Action from the table (actions.ts).
 */
import { Transform, type Readable } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import type { Logger } from 'pino';
import { DEFAULT_TIMEOUTS, framingOptions, installNotFound, type HttpTimeouts } from './framing.js';
import { CvError, GatewayError, type CvCode } from '../contract/errors.js';
import { parseRawQuery } from '../contract/signature.js';
import type { JobService } from '../jobs/service.js';
import { createActions, type ActionDef } from './actions.js';
import { verifySignature } from './auth.js';
import { cvEnvelope, gatewayEnvelope, newRequestId } from './envelope.js';
import { sendJson } from './json-body.js';
import type { KeyStore } from './keys.js';
import type { Lease, Limiter } from './limits.js';
import type { Metrics } from './metrics.js';

export const API_VERSION = '2022-08-31';

/** What /readyz reports: `ready` decides 200/503; the rest is shown as is. */
export type Readiness = { ready: boolean } & Record<string, unknown>;

export interface AppOptions {
  jobs: JobService;
  readiness: () => Readiness | Promise<Readiness>;
  keys: KeyStore;
  metrics: Metrics;
  logger: Logger;
  /** Per-key QPS and concurrency, counted in memory or in Redis (scaled): the gateway only asks. */
  limiter: Limiter;
  auth: boolean;
  region: string;
  service: string;
  maxSkewMs: number;
  bodyLimitBytes: number;
  /** The body limit of the Actions that may carry a picture (IMAGE_ACTIONS); default bodyLimitBytes. */
  imageBodyLimitBytes?: number;
  /** Request, header and keep-alive deadlines (default DEFAULT_TIMEOUTS). */
  timeouts?: HttpTimeouts;
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
  accessKey: string;
  def: ActionDef<unknown> | null;
  input: unknown;
  lease: Lease | null;
  stopTimer: (() => void) | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    mengtu: RequestState;
  }
}

export function buildApp(opts: AppOptions): FastifyInstance {
  const now = opts.now ?? (() => new Date());
  const actions = createActions(opts.jobs);
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

  /** Renders any error in its envelope, with the metric label; the one place errors become HTTP. */
  const sendError = (reply: FastifyReply, req: FastifyRequest, err: unknown): FastifyReply => {
    const st = req.mengtu;
    if (err instanceof GatewayError) {
      opts.metrics.requests.inc({ action: st.action || 'none', code: err.code });
      return reply.code(err.httpStatus).send(gatewayEnvelope(err, st.requestId, st.action, st.version, opts.service, opts.region));
    }
    const cv = CvError.from(err);
    if (cv.internal) req.log.error({ err, detail: cv.logDetail }, 'request failed');
    else req.log.info({ code: cv.code, detail: cv.logDetail }, 'request refused');
    opts.metrics.requests.inc({ action: st.action || 'none', code: String(cv.code) });
    return reply.code(cv.httpStatus).send(cvEnvelope(cv.code as CvCode, cv.publicMessage, null, st.requestId, st.startNs));
  };

  // The signature covers the raw bytes, so bodies stay Buffers until after verification.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.decorateRequest('mengtu', null as unknown as RequestState);
  app.addHook('onRequest', async (req, reply) => {
    req.mengtu = { requestId: req.id, startNs: process.hrtime.bigint(), action: '', version: '', accessKey: 'anonymous', def: null, input: undefined, lease: null, stopTimer: null };
    reply.header('X-Request-Id', req.id);
  });
  // A lease is returned however the request ends (answered, failed, or the caller hung up).
  app.addHook('onResponse', async (req) => {
    req.mengtu.stopTimer?.();
    await req.mengtu.lease?.release();
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
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, req, new CvError(50213));
    return sendError(reply, req, err);
  });

  installNotFound(app, { service: opts.service, region: opts.region });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const { ready, ...rest } = await opts.readiness();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', ...rest });
  });
  app.get('/metrics', async (_req, reply) => {
    const [counts, status] = await Promise.all([opts.jobs.queue.counts(), opts.readiness()]);
    // Scaled gateways report live workers (from Redis heartbeats; every gateway sees the same number).
    if (typeof status.workers === 'number' && status.workers >= 0) opts.metrics.workers.set(status.workers);
    opts.metrics.queueDepth.set(counts.waiting);
    opts.metrics.inFlight.set(counts.running);
    return reply.header('Content-Type', opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics());
  });

  /** Action and Version present, the signature valid, the Action known (contract §1, in that order). */
  const authenticate = async (req: FastifyRequest): Promise<void> => {
    const st = req.mengtu;
    const rawUrl = req.raw.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawQuery = q === -1 ? '' : rawUrl.slice(q + 1);
    const query = new Map(parseRawQuery(rawQuery));
    st.action = query.get('Action') ?? '';
    st.version = query.get('Version') ?? '';
    st.stopTimer = opts.metrics.latency.startTimer({ action: st.action || 'none' });
    if (!st.action) throw new GatewayError('MissingParameter', 'Action');
    if (!st.version) throw new GatewayError('MissingParameter', 'Version');
    if (opts.auth) {
      const headers: Record<string, string | string[] | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
      st.accessKey = verifySignature(
        { method: req.method, path: rawUrl.slice(0, q === -1 ? undefined : q), rawQuery, headers, body: bodyOf(req) },
        { region: opts.region, service: opts.service, maxSkewMs: opts.maxSkewMs, now, lookupSecret: (ak) => opts.keys.secretFor(ak) },
      ).accessKey;
    }
    const def = Object.hasOwn(actions, st.action) ? actions[st.action]! : null;
    if (!def || st.version !== API_VERSION) throw new GatewayError('InvalidActionOrVersion', st.action, st.version);
    st.def = def;
  };

  /** The JSON body, validated by the Action before any limit is counted: a bad request costs no quota. */
  const parseBody = async (req: FastifyRequest): Promise<void> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(bodyOf(req).toString('utf8'));
    } catch {
      throw new CvError(50204, 'Invalid Param Type: request body must be valid JSON');
    }
    req.mengtu.input = req.mengtu.def!.parse(parsed);
  };

  const applyLimits = async (req: FastifyRequest): Promise<void> => {
    req.mengtu.lease = await opts.limiter.acquire(req.mengtu.accessKey);
  };

  // Only the Actions that may carry a picture read past the normal body limit.
  const imageLimit = Math.max(opts.bodyLimitBytes, opts.imageBodyLimitBytes ?? opts.bodyLimitBytes);
  const limitFor = (req: FastifyRequest): number => (IMAGE_ACTIONS.has((req.query as Record<string, unknown>).Action as string) ? imageLimit : opts.bodyLimitBytes);
  const preParsing = async (req: FastifyRequest, _reply: FastifyReply, payload: Readable): Promise<Readable> => {
    const limit = limitFor(req);
    if (limit >= imageLimit) return payload;
    if (Number(req.headers['content-length'] ?? 0) > limit) throw bodyTooLarge();
    return capBody(payload, limit);
  };

  app.post('/', { bodyLimit: imageLimit, preParsing, preHandler: [authenticate, parseBody, applyLimits] }, async (req, reply) => {
    const st = req.mengtu;
    try {
      const data = await st.def!.run(st.input, { requestId: st.requestId, accessKey: st.accessKey, log: req.log, req, reply });
      opts.metrics.requests.inc({ action: st.action, code: '10000' });
      // time_elapsed is taken here, once the data is ready; the pictures' base64 is made as the body is written.
      return sendJson(reply.code(200), cvEnvelope(10000, 'Success', data, st.requestId, st.startNs));
    } finally {
      await st.lease?.release();
    }
  });

  opts.register?.(app);
  return app;
}

/** Actions whose body may hold a picture (jimeng_i2i_v30's binary_data_base64). */
const IMAGE_ACTIONS: ReadonlySet<string> = new Set(['CVSync2AsyncSubmitTask']);

/** The error Fastify raises for a body over its limit (the error handler answers 413 / 50213). */
function bodyTooLarge(): Error {
  return Object.assign(new Error('Request body is too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });
}

/** Passes the body through until `limit` bytes, then fails it as too large (bodies without Content-Length). */
function capBody(payload: Readable, limit: number): Readable {
  let n = 0;
  const capped = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      cb(n > limit ? bodyTooLarge() : null, n > limit ? undefined : chunk);
    },
  });
  payload.on('error', (err) => capped.destroy(err));
  return payload.pipe(capped);
}

function bodyOf(req: FastifyRequest): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

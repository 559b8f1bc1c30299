/**
 * Assembles and starts the HTTP server: embedded (in-process queue, engine here) by default, or a scaled
 * gateway (BullMQ on Redis, no engine) when Redis is configured.
 */
import type { FastifyInstance } from 'fastify';
import { mkdir } from 'node:fs/promises';
import pino, { type Logger } from 'pino';
import { Redis } from 'ioredis';
import { checkRedisForQueue } from './redis-check.js';
import { buildApp } from '../gateway/app.js';
import { registerProgressRoutes } from '../gateway/progress.js';
import { fileKeyBackend, openKeyStore, RedisKeyBackend, startKeyReload } from '../gateway/keys.js';
import { registerPlayground } from '../gateway/playground.js';
import { registerOpenAiRoutes } from '../gateway/openai.js';
import { createRouteCollector, registerDocs } from '../gateway/docs.js';
import { REGISTRY, type ModelDefaults } from '../engine/registry.js';
import { MemoryLimiter, RedisLimiter, type Limiter } from '../gateway/limits.js';
import { createMetrics } from '../gateway/metrics.js';
import { serveImage } from '../storage/serve.js';
import type { Config } from './config.js';
import { createRuntime, type Runtime } from './create.js';

export interface RunningServer {
  app: FastifyInstance;
  runtime: Runtime;
  url: string;
  /** Stops accepting, finishes in-flight requests, unloads the engine. */
  close(): Promise<void>;
}

const withDefaults = (d: ModelDefaults | undefined): { defaults?: ModelDefaults } => (d ? { defaults: d } : {});

export function createLogger(cfg: Pick<Config, 'server'>): Logger {
  return pino({ level: cfg.server.logLevel, base: { service: 'mengtu' } });
}

export interface ServerOptions {
  now?: () => Date;
  /** Per-key limits; default: counted in Redis when scaled, else in this process's memory. */
  limiter?: Limiter;
}

export async function startServer(cfg: Config, logger: Logger = createLogger(cfg), opts: ServerOptions = {}): Promise<RunningServer> {
  await mkdir(cfg.server.dataDir, { recursive: true });
  // Scaled mode keeps keys, limits and tasks in Redis so every gateway sees the same ones.
  const redis = cfg.queue.redisUrl ? new Redis(cfg.queue.redisUrl, { maxRetriesPerRequest: 3 }) : null;
  if (redis) for (const f of await checkRedisForQueue(redis)) logger[f.level](f.message);
  const keyBackend = redis ? new RedisKeyBackend(redis, cfg.queue.prefix) : fileKeyBackend(cfg.server.dataDir, { keysFile: cfg.auth.keysFile });
  const { store: keys, generated } = await openKeyStore(keyBackend, cfg.auth.accessKeys);
  const stopKeyReload = startKeyReload(keys, keyBackend, cfg.auth.accessKeys, {
    intervalMs: cfg.auth.keysReloadMs,
    onError: (err) => logger.warn({ err, keys: keyBackend.where }, 'key reload failed; keeping the previous keys'),
  });
  if (generated) {
    // Printed once, on the first start: the secret is only stored in the data dir afterwards.
    process.stderr.write(
      `\nmengtu: generated an access key pair (stored in ${keyBackend.where})\n` +
        `  AccessKeyId:     ${generated.accessKeyId}\n  SecretAccessKey: ${generated.secretAccessKey}\n\n`,
    );
  }
  if (!cfg.auth.enabled) logger.warn('authentication is OFF (--no-auth / MENGTU_AUTH=0): anyone who can reach this port can generate');

  const metrics = createMetrics();
  const runtime = await createRuntime(cfg, {
    log: logger,
    hosting: true,
    sweep: true,
    durableTasks: true,
    generate: {
      // Step previews for the progress stream (throttled and encoded small by the job processor).
      previews: true,
      onTimings: (t) => {
        metrics.engineSeconds.observe({ phase: 'text_encoder' }, t.textEncoderMs / 1000);
        metrics.engineSeconds.observe({ phase: 'unet' }, t.unetMs / 1000);
        metrics.engineSeconds.observe({ phase: 'vae' }, t.vaeMs / 1000);
        metrics.engineSeconds.observe({ phase: 'total' }, t.totalMs / 1000);
      },
    },
    observeStage: (stage, ms) => metrics.stageSeconds.observe({ stage }, ms / 1000),
  });
  const { host, hosting } = runtime;
  const limitConfig = { qps: cfg.limits.qps, concurrency: cfg.limits.concurrency, ...(cfg.limits.burst > 0 ? { burst: cfg.limits.burst } : {}) };
  const limiter: Limiter = opts.limiter ?? (redis ? new RedisLimiter(redis, limitConfig, { prefix: cfg.queue.prefix }) : new MemoryLimiter(limitConfig));
  const routes = createRouteCollector();
  const app = buildApp({
    onRoute: (r) => routes.onRoute(r),
    jobs: runtime.jobs,
    readiness: () => runtime.readiness(),
    keys,
    metrics,
    logger,
    limiter,
    auth: cfg.auth.enabled,
    region: cfg.auth.region,
    service: cfg.auth.service,
    maxSkewMs: cfg.auth.maxSkewSeconds * 1000,
    bodyLimitBytes: cfg.server.bodyLimitBytes,
    imageBodyLimitBytes: cfg.server.imageBodyLimitBytes,
    timeouts: { requestTimeoutMs: cfg.server.requestTimeoutMs, headersTimeoutMs: cfg.server.headersTimeoutMs, keepAliveTimeoutMs: cfg.server.keepAliveTimeoutMs },
    ...(opts.now ? { now: opts.now } : {}),
    register: (app) => {
      void app.register(async (scope) => registerDocs(scope, routes));
      void app.register(async (scope) =>
        registerPlayground(scope, {
          region: cfg.auth.region,
          service: cfg.auth.service,
          auth: cfg.auth.enabled,
          model: { name: cfg.engine.model, ...withDefaults(REGISTRY.find((e) => e.name === cfg.engine.model)?.defaults) },
        }),
      );
      registerOpenAiRoutes(app, {
        process: (request, meta) => runtime.jobs.process(request, meta),
        secretFor: (ak) => keys.secretFor(ak),
        acquire: (ak) => limiter.acquire(ak),
        publish: async (requestId, index, bytes, format) => {
          if (!hosting) throw new Error('no image hosting');
          return (await hosting.publish(requestId, index, bytes, new Date(), format)).url;
        },
        auth: cfg.auth.enabled,
        model: cfg.engine.model,
        imageBodyLimitBytes: Math.max(cfg.server.bodyLimitBytes, cfg.server.imageBodyLimitBytes),
      });
      registerProgressRoutes(app, {
        jobs: runtime.jobs,
        auth: {
          enabled: cfg.auth.enabled,
          region: cfg.auth.region,
          service: cfg.auth.service,
          maxSkewMs: cfg.auth.maxSkewSeconds * 1000,
          lookupSecret: (ak) => keys.secretFor(ak),
          ...(opts.now ? { now: opts.now } : {}),
        },
      });
      const signer = hosting?.signer;
      if (!hosting || !signer) return; // S3 URLs point at the bucket
      app.get('/images/*', async (req, reply) => {
        const rawKey = (req.raw.url ?? '').split('?')[0]!.replace(/^\/images\//, '');
        const res = await serveImage(hosting.store, signer, rawKey, req.query as Record<string, unknown>, new Date(), req.headers);
        return reply.code(res.status).headers(res.headers).send(res.body);
      });
    },
  });
  const address = await app.listen({ host: cfg.server.host, port: cfg.server.port });
  logger.info({ url: address, model: cfg.engine.model, dataDir: cfg.server.dataDir, role: runtime.role }, 'mengtu listening');
  // Loading runs in the background so /healthz answers at once and /readyz reports progress. A scaled
  // gateway has no engine: its workers do.
  if (runtime.role === 'embedded') host.load().catch(() => undefined);

  return {
    app,
    runtime,
    url: address,
    async close() {
      await app.close();
      await runtime.close();
      await limiter.close();
      stopKeyReload();
      await keyBackend.close();
      redis?.disconnect();
    },
  };
}

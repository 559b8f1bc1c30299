/** Assembles and starts the server on embedded defaults: local files, in-process queue. */
import type { FastifyInstance } from 'fastify';
import { mkdir } from 'node:fs/promises';
import pino, { type Logger } from 'pino';
import { buildApp } from '../gateway/app.js';
import { fileKeyBackend, openKeyStore, RedisKeyBackend, startKeyReload } from '../gateway/keys.js';
import { registerPlayground } from '../gateway/playground.js';
import { registerOpenAiRoutes } from '../gateway/openai.js';
import { createRouteCollector, registerDocs } from '../gateway/docs.js';
import { REGISTRY, type ModelDefaults } from '../engine/registry.js';
import { createMetrics } from '../gateway/metrics.js';
import { MemoryLimiter, RedisLimiter, type Limiter } from '../gateway/limits.js';
import { Redis } from 'ioredis';
import { serveImage } from '../storage/serve.js';
import { startSweeper } from '../storage/sweeper.js';
import type { Config } from './config.js';
import { EngineHost } from './engine-host.js';
import { Generator, inlineOrUrls } from './generator.js';
import { createPipelineServices } from './services.js';
import { LocalImageStore } from '../storage/local.js';
import { AsyncTasks } from '../tasks/tasks.js';
import { TaskStore } from '../tasks/store.js';

export interface RunningServer {
  app: FastifyInstance;
  host: EngineHost;
  generator: Generator;
  url: string;
  /** Stops accepting, finishes in-flight requests, unloads the engine. */
  close(): Promise<void>;
}

const withDefaults = (d: ModelDefaults | undefined): { defaults?: ModelDefaults } => (d ? { defaults: d } : {});

export function createLogger(cfg: Pick<Config, 'server'>): Logger {
  return pino({ level: cfg.server.logLevel, base: { service: 'mengtu' } });
}

export async function startServer(cfg: Config, logger: Logger = createLogger(cfg), opts: { now?: () => Date } = {}): Promise<RunningServer> {
  await mkdir(cfg.server.dataDir, { recursive: true });
  // Scaled mode keeps keys, limits and tasks in Redis so every gateway sees the same ones.
  const redis = cfg.queue.redisUrl ? new Redis(cfg.queue.redisUrl, { maxRetriesPerRequest: 3 }) : null;
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
  const limitConfig = { qps: cfg.limits.qps, concurrency: cfg.limits.concurrency, ...(cfg.limits.burst > 0 ? { burst: cfg.limits.burst } : {}) };
  const limiter: Limiter = redis ? new RedisLimiter(redis, limitConfig, { prefix: cfg.queue.prefix }) : new MemoryLimiter(limitConfig);
  const host = new EngineHost({
    model: cfg.engine.model,
    pull: cfg.engine.pullOnStart,
    threads: cfg.engine.threads,
    executionProvider: cfg.engine.executionProvider,
    decoder: cfg.engine.vae,
    log: logger,
  });
  const services = await createPipelineServices(cfg, logger, {
    hosting: true,
    generate: {
      onTimings: (t) => {
        metrics.engineSeconds.observe({ phase: 'text_encoder' }, t.textEncoderMs / 1000);
        metrics.engineSeconds.observe({ phase: 'unet' }, t.unetMs / 1000);
        metrics.engineSeconds.observe({ phase: 'vae' }, t.vaeMs / 1000);
        metrics.engineSeconds.observe({ phase: 'total' }, t.totalMs / 1000);
      },
    },
  });
  const hosting = services.deps.hosting!;
  const stopSweeper = startSweeper(hosting.store, 60_000, {
    onSwept: (n) => (n > 0 ? logger.info({ deleted: n }, 'expired images deleted') : undefined),
    onError: (err) => logger.warn({ err }, 'image sweep failed'),
  });
  const generator = new Generator({
    host,
    stages: services.stages,
    workers: cfg.engine.workers,
    maxQueue: cfg.engine.maxQueue,
    log: logger,
    srUpscaler: () => services.deps.sr.method,
    observeStage: (stage, ms) => metrics.stageSeconds.observe({ stage }, ms / 1000),
    deliver: inlineOrUrls,
  });
  const taskStore = new TaskStore(LocalImageStore.inDataDir(cfg.server.dataDir, { subdir: 'tasks' }), { ttlMs: cfg.tasks.ttlHours * 3_600_000 });
  const tasks = new AsyncTasks({ generator, store: taskStore, stages: services.stages, log: logger });
  const stopTaskSweeper = startSweeper({ sweep: () => taskStore.sweep() }, 60_000, {
    onSwept: (n) => (n > 0 ? logger.info({ forgotten: n }, 'old async tasks forgotten') : undefined),
    onError: (err) => logger.warn({ err }, 'task sweep failed'),
  });
  const routes = createRouteCollector();
  const app = buildApp({
    onRoute: (r) => routes.onRoute(r),
    generator,
    tasks,
    host,
    keys,
    metrics,
    logger,
    auth: cfg.auth.enabled,
    region: cfg.auth.region,
    service: cfg.auth.service,
    maxSkewMs: cfg.auth.maxSkewSeconds * 1000,
    bodyLimitBytes: cfg.server.bodyLimitBytes,
    timeouts: { requestTimeoutMs: cfg.server.requestTimeoutMs, headersTimeoutMs: cfg.server.headersTimeoutMs, keepAliveTimeoutMs: cfg.server.keepAliveTimeoutMs },
    limits: limitConfig,
    limiter,
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
        process: (request, meta) => generator.submit(request, meta),
        secretFor: (ak) => keys.secretFor(ak),
        acquire: (ak) => limiter.acquire(ak),
        publish: async (requestId, index, bytes, format) => (await hosting.publish(requestId, index, bytes, new Date(), format)).url,
        auth: cfg.auth.enabled,
        model: cfg.engine.model,
      });
      const signer = hosting.signer;
      if (!signer) return; // S3 URLs point at the bucket
      app.get('/images/*', async (req, reply) => {
        const rawKey = (req.raw.url ?? '').split('?')[0]!.replace(/^\/images\//, '');
        const res = await serveImage(hosting.store, signer, rawKey, req.query as Record<string, unknown>, new Date(), req.headers);
        return reply.code(res.status).headers(res.headers).send(res.body);
      });
    },
  });
  const address = await app.listen({ host: cfg.server.host, port: cfg.server.port });
  logger.info({ url: address, model: cfg.engine.model, dataDir: cfg.server.dataDir }, 'mengtu listening');
  // Loading runs in the background so /healthz answers at once and /readyz reports progress.
  host.load().catch(() => undefined);

  return {
    app,
    host,
    generator,
    url: address,
    async close() {
      stopSweeper();
      stopTaskSweeper();
      await app.close();
      await generator.drain();
      await host.close();
      await services.close();
      await limiter.close();
      stopKeyReload();
      await keyBackend.close();
      redis?.disconnect();
    },
  };
}

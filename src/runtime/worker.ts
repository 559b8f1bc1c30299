/**
 * The `mengtu worker` role: loads the engine, then pulls jobs from BullMQ on Redis and runs the
 * picture-making stages. It answers no API; gateways (`mengtu serve` with the same Redis) do.
 */
import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createRuntime, type Runtime } from './create.js';
import { Redis } from 'ioredis';
import { buildStatusApp } from '../gateway/status.js';
import { checkRedisForQueue } from './redis-check.js';
import { createMetrics, observeBullWorker } from '../gateway/metrics.js';

export interface RunningWorker {
  runtime: Runtime;
  /** Finishes the running job, takes no new one, unloads the engine (SIGTERM). */
  close(): Promise<void>;
}

export async function startWorker(cfg: Config, logger: Logger): Promise<RunningWorker> {
  if (!cfg.queue.redisUrl) throw new Error('mengtu worker needs Redis: --redis redis://host:6379 or MENGTU_REDIS_URL');
  await mkdir(cfg.server.dataDir, { recursive: true });
  const probe = new Redis(cfg.queue.redisUrl, { maxRetriesPerRequest: 2 });
  try {
    for (const f of await checkRedisForQueue(probe)) logger[f.level](f.message);
  } finally {
    probe.disconnect();
  }
  const metrics = createMetrics();
  const runtime = await createRuntime(cfg, { log: logger, hosting: false, role: 'worker', sweep: true, generate: { previews: true }, observeStage: (stage, ms) => metrics.stageSeconds.observe({ stage }, ms / 1000) });
  observeBullWorker(runtime.worker!.worker, metrics);
  // The status port answers while the model loads, so an orchestrator sees "not ready" rather than nothing.
  const status = cfg.queue.statusPort === undefined ? null : buildStatusApp({ metrics, readiness: () => runtime.readiness() });
  if (status) {
    const url = await status.listen({ host: cfg.server.host, port: cfg.queue.statusPort! });
    logger.info({ url }, 'worker status: /healthz /readyz /metrics');
  }
  await runtime.host.load();
  await runtime.worker!.start();
  logger.info({ model: cfg.engine.model, redis: redactUrl(cfg.queue.redisUrl), concurrency: cfg.engine.workers, queue: cfg.queue.name }, 'mengtu worker ready');
  return {
    runtime,
    async close() {
      await runtime.close();
      await status?.close();
    },
  };
}

/** The URL without its password, for logs. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis';
  }
}

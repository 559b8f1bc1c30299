/**
 * The worker role's small HTTP side: /healthz, /readyz (ready once the model is loaded) and /metrics (jobs by
 * outcome, time waited in the queue, retried and stalled jobs, engine and stage timings). It answers no API.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';

export interface StatusAppOptions {
  metrics: Metrics;
  readiness: () => Promise<{ ready: boolean } & Record<string, unknown>>;
}

export function buildStatusApp(opts: StatusAppOptions): FastifyInstance {
  const app = Fastify({ logger: false, return503OnClosing: true });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const { ready, ...rest } = await opts.readiness();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', ...rest });
  });
  app.get('/metrics', async (_req, reply) => reply.header('Content-Type', opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics()));
  return app;
}

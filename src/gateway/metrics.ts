/** Prometheus metrics (prom-client), one registry per app so tests and multiple servers don't collide. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  requests: Counter<'action' | 'code'>;
  latency: Histogram<'action'>;
  queueDepth: Gauge;
  inFlight: Gauge;
  engineSeconds: Histogram<'phase'>;
  stageSeconds: Histogram<'stage'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mengtu_' });
  const secondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
  return {
    registry,
    requests: new Counter({
      name: 'mengtu_requests_total',
      help: 'API requests by Action and response code (Volcengine CV code, or the OpenAPI error Code)',
      labelNames: ['action', 'code'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'mengtu_request_duration_seconds',
      help: 'API request latency by Action',
      labelNames: ['action'],
      buckets: secondsBuckets,
      registers: [registry],
    }),
    queueDepth: new Gauge({ name: 'mengtu_queue_depth', help: 'Jobs waiting for the engine', registers: [registry] }),
    inFlight: new Gauge({ name: 'mengtu_jobs_running', help: 'Jobs running on the engine', registers: [registry] }),
    engineSeconds: new Histogram({
      name: 'mengtu_engine_seconds',
      help: 'Engine time by phase (text_encoder, unet, vae, total)',
      labelNames: ['phase'],
      buckets: secondsBuckets,
      registers: [registry],
    }),
    stageSeconds: new Histogram({
      name: 'mengtu_stage_seconds',
      help: 'Pipeline stage time by stage',
      labelNames: ['stage'],
      buckets: secondsBuckets,
      registers: [registry],
    }),
  };
}

/**
 * Prometheus metrics (prom-client), one registry per process role so tests and multiple servers don't
 * collide. Gateways report requests, queue depth and live workers (from Redis, the same for every gateway);
 * workers report what they ran: jobs by outcome, time waited in the queue, retried and stalled jobs.
 */
import type { Worker } from 'bullmq';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CANCELLED_REASON, errorFromReason } from '../jobs/bullmq.js';

export interface Metrics {
  registry: Registry;
  requests: Counter<'action' | 'code'>;
  latency: Histogram<'action'>;
  queueDepth: Gauge;
  inFlight: Gauge;
  engineSeconds: Histogram<'phase'>;
  stageSeconds: Histogram<'stage'>;
  /** Jobs this worker finished, by outcome: done, refused (a business refusal), failed, cancelled. */
  jobs: Counter<'outcome'>;
  /** Time from enqueue to a worker starting the job. */
  jobWaitSeconds: Histogram;
  /** Jobs started again after a failure (BullMQ retry with backoff). */
  jobsRetried: Counter;
  /** Jobs whose worker stopped renewing their lock (died), moved back to the queue. */
  jobsStalled: Counter;
  /** Workers with a live heartbeat (gateways, scaled mode). */
  workers: Gauge;
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
    jobs: new Counter({ name: 'mengtu_jobs_total', help: 'Jobs finished by this worker, by outcome', labelNames: ['outcome'], registers: [registry] }),
    jobWaitSeconds: new Histogram({
      name: 'mengtu_job_wait_seconds',
      help: 'Time a job waited in the queue before a worker started it',
      buckets: secondsBuckets,
      registers: [registry],
    }),
    jobsRetried: new Counter({ name: 'mengtu_jobs_retried_total', help: 'Job attempts after a failed one (retries with backoff)', registers: [registry] }),
    jobsStalled: new Counter({ name: 'mengtu_jobs_stalled_total', help: 'Jobs found stalled (their worker died) and moved back to the queue', registers: [registry] }),
    workers: new Gauge({ name: 'mengtu_workers', help: 'Workers with a live heartbeat', registers: [registry] }),
  };
}

/** A failed job's outcome from the reason its worker gave (`cv:<code>:…`, or CANCELLED_REASON). */
function outcomeOf(failedReason: string): 'refused' | 'failed' | 'cancelled' {
  if (failedReason === CANCELLED_REASON) return 'cancelled';
  return errorFromReason(failedReason).internal ? 'failed' : 'refused';
}

/** Counts a BullMQ worker's jobs into `metrics` (the worker role's /metrics). */
export function observeBullWorker(worker: Worker, metrics: Metrics): void {
  worker.on('active', (job) => {
    const started = job.processedOn ?? Date.now();
    metrics.jobWaitSeconds.observe(Math.max(0, started - job.timestamp) / 1000);
    if (job.attemptsMade > 0) metrics.jobsRetried.inc();
  });
  worker.on('completed', () => metrics.jobs.inc({ outcome: 'done' }));
  worker.on('failed', (job, err) => {
    // A failure that will be retried is not an outcome yet.
    if (job && job.attemptsMade < (job.opts.attempts ?? 1) && !err.name.includes('Unrecoverable')) return;
    metrics.jobs.inc({ outcome: outcomeOf(job?.failedReason ?? err.message) });
  });
  worker.on('stalled', () => metrics.jobsStalled.inc());
}

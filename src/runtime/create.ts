/**
 * The one assembly every entry point uses (`mengtu serve`, `mengtu generate`, the benches): the pipeline's
 * dependencies (risk lists, the NSFW model, the SR model, image hosting) built once and logged, so nothing
 * falls back silently; the engine host; the job queue, the task store and the job service over them.
 */
import type { Logger } from 'pino';
import { BullJobQueue } from '../jobs/bullmq.js';
import { createBullWorker, type RunningBullWorker } from '../jobs/bullmq-worker.js';
import { EngineHost } from '../jobs/engine-host.js';
import { InProcessQueue } from '../jobs/local-queue.js';
import { createJobProcessor } from '../jobs/processor.js';
import { RedisTaskStore } from '../jobs/redis-task-store.js';
import { JobService } from '../jobs/service.js';
import { MemoryTaskStore } from '../jobs/task-store.js';
import { INTERRUPTED, SqliteTaskStore } from '../jobs/sqlite-task-store.js';
import type { JobQueue, TaskStore } from '../jobs/types.js';
import { findEntry } from '../engine/registry.js';
import { startCpuPool } from '../pipeline/offload/pool.js';
import { startSuperResolverThread } from '../pipeline/offload/sr-thread.js';
import { warmCedict } from '../pipeline/rewrite/cedict.js';
import { createPromptRewriter } from '../pipeline/rewrite/rewriter.js';
import { warmSegmenter } from '../pipeline/rewrite/segment.js';
import type { StageObserver } from '../pipeline/runner.js';
import { createStages, type GenerateStageOptions, type StageDeps } from '../pipeline/stages/index.js';
import { createSuperResolver } from '../pipeline/sr/index.js';
import type { Stage } from '../pipeline/types.js';
import { imageRiskCheckerFrom, resolveThreshold } from '../safety/image-risk.js';
import { createTextRiskChecker } from '../safety/text-risk.js';
import { createImageHosting, type ImageHosting } from '../storage/hosting.js';
import { LocalImageStore } from '../storage/local.js';
import { S3ImageStore } from '../storage/s3.js';
import { startSweeper } from '../storage/sweeper.js';
import type { ImageStore } from '../storage/types.js';
import { llmOptions, reqKeyModels, s3Options, type Config } from './config.js';

/**
 * embedded: one process, in-process queue, engine here (no Redis configured);
 * gateway: scaled, enqueues to BullMQ, holds no engine and no task state;
 * worker: scaled, pulls jobs and runs the engine.
 */
export type Role = 'embedded' | 'gateway' | 'worker';

export interface RuntimeOptions {
  log: Logger;
  /** Default: 'gateway' when Redis is configured, else 'embedded'. */
  role?: Role;
  /** Publish return_url images (the server); `mengtu generate` returns bytes only. */
  hosting: boolean;
  /** Background sweeps of expired images and tasks (long-running processes only). */
  sweep?: boolean;
  /**
   * Embedded mode: keep async task records in SQLite under the data dir, so a restart forgets no task
   * (the server). Default false: `mengtu generate` and the benches keep them in memory.
   */
  durableTasks?: boolean;
  generate?: GenerateStageOptions;
  /** A one-shot CLI run: a failed model pull is reported at once (no retry loop) and no log line speaks of a server. */
  oneShot?: boolean;
  observeStage?: StageObserver;
}

export interface Runtime {
  config: Config;
  log: Logger;
  role: Role;
  /** The engine (embedded and worker roles); a scaled gateway has none. */
  host: EngineHost;
  deps: StageDeps;
  stages: Stage[];
  hosting: ImageHosting | null;
  queue: JobQueue;
  tasks: TaskStore;
  jobs: JobService;
  /** The BullMQ worker (worker role only); start() it once the engine is loaded. */
  worker: RunningBullWorker | null;
  /** Whether this process can do its work now (/readyz). */
  readiness(): Promise<{ ready: boolean } & Record<string, unknown>>;
  /** Finishes queued and running jobs, unloads the engine, releases what the services hold. */
  close(): Promise<void>;
}

export async function createRuntime(cfg: Config, opts: RuntimeOptions): Promise<Runtime> {
  const { log } = opts;
  const role: Role = opts.role ?? (cfg.queue.redisUrl ? 'gateway' : 'embedded');
  // A scaled gateway runs only the submit checks and the delivery stages: the models the picture-making
  // stages need (SR, the NSFW classifier) stay on the workers.
  const makesPictures = role !== 'gateway';
  const textRisk = createTextRiskChecker({ dirs: cfg.safety.riskListsDir, copyright: cfg.safety.riskCopyright });
  const rewriter = createPromptRewriter({ log, llm: llmOptions(cfg), encoderReadsChinese: findEntry(cfg.engine.model)?.textEncoderReadsChinese === true });
  const [sr, hosting] = await Promise.all([
    // Super-resolution (model inference and its pixel loops) runs on a worker thread of its own.
    makesPictures ? startSuperResolverThread({ mode: cfg.sr.mode, ...(cfg.sr.modelDir ? { modelDir: cfg.sr.modelDir } : {}) }) : createSuperResolver({ mode: 'lanczos' }),
    opts.hosting
      ? createImageHosting({
          dataDir: cfg.server.dataDir,
          publicBaseUrl: cfg.hosting.publicBaseUrl ?? '',
          ttlSeconds: cfg.hosting.urlTtlSeconds,
          urlSecret: cfg.hosting.urlSecret,
          s3: s3Options(cfg),
        })
      : Promise.resolve(null),
  ]);
  // Typography drawing and the NSFW classifier run on worker threads, never on the event loop; only where
  // pictures are made. The classifier thread loads its model in the background from now on: start-up does
  // not wait for it, /readyz says 'loading' until it is done, and a request that needs it waits for the load.
  const classifies = cfg.safety.imageRisk && makesPictures;
  const cpuPool = makesPictures ? startCpuPool({ size: cfg.server.cpuPoolSize, classifier: classifies }) : null;
  // The translator's jieba and CC-CEDICT tables (~1–2 s of CPU on the event loop) load now, while the classifier
  // thread loads its model and before the server listens, instead of stalling every request while the first
  // Chinese prompt is rewritten. A one-shot CLI run has no other request to stall: its prompt loads what it
  // needs (nothing, for an English prompt).
  if (makesPictures && !opts.oneShot) {
    warmSegmenter();
    warmCedict();
  }
  const imageRisk = classifies && cpuPool ? imageRiskCheckerFrom(resolveThreshold(cfg.safety.imageRiskThreshold), (image) => cpuPool.classify(image)) : null;
  if (makesPictures) {
    log.info(sr.status);
    log.info(imageRisk ? `image risk: NSFW classifier on, threshold ${imageRisk.threshold} (own worker thread, loading)` : 'image risk: OFF (MENGTU_IMAGE_RISK=0)');
  }
  if (hosting) log.info(hosting.status);
  if (cpuPool) log.info(`typography drawing on ${cpuPool.size} worker thread(s) (MENGTU_CPU_POOL_SIZE)`);
  if (imageRisk && cpuPool) {
    void cpuPool.classifierSettled().then(() => {
      const s = cpuPool.classifierStatus;
      if (s.state === 'ready') log.info({ load_ms: Math.round(s.loadMs ?? 0) }, 'image risk: NSFW classifier loaded');
      else if (s.state === 'failed') log.error(`image risk: ${s.detail}; every picture is refused (50500) until a retry loads it`);
    });
  }
  const deps: StageDeps = {
    textRisk,
    rewriter,
    sr,
    imageRisk,
    hosting,
    producer: cfg.label.producer,
    aiLabel: cfg.label.aiLabel,
    ...(cfg.safety.imageUrlsPrivate ? { allowPrivateImageUrls: true } : {}),
    ...(cpuPool ? { cpuPool } : {}),
    ...(opts.generate ? { generate: opts.generate } : {}),
  };
  const stages = createStages(deps);
  const redis = cfg.queue.redisUrl ? { redisUrl: cfg.queue.redisUrl, prefix: cfg.queue.prefix, queueName: cfg.queue.name } : null;
  if (role !== 'embedded' && !redis) throw new Error(`the ${role} role needs Redis (--redis or MENGTU_REDIS_URL)`);
  const host = new EngineHost({ model: cfg.engine.model, models: reqKeyModels(cfg), pull: cfg.engine.pullOnStart, threads: cfg.engine.threads, executionProvider: cfg.engine.executionProvider, decoder: cfg.engine.vae, lowMemory: cfg.engine.lowMemory, home: cfg.engine.home, hubEndpoint: cfg.engine.hubEndpoint, hubToken: cfg.engine.hubToken, log, ...(opts.oneShot ? { retry: false, role: 'cli' } as const : {}) });
  const pictures = pictureStore(cfg, redis !== null);
  const ttlMs = cfg.tasks.ttlHours * 3_600_000;
  const tasks: TaskStore = redis
    ? new RedisTaskStore(pictures, { ...redis, ttlMs })
    : opts.durableTasks
      ? await openDurableTasks(cfg, pictures, ttlMs, log)
      : new MemoryTaskStore(pictures, { ttlMs });
  const processJob = createJobProcessor({ host, stages, tasks, log, ...(opts.observeStage ? { observeStage: opts.observeStage } : {}) });
  const bull = redis && role === 'gateway' ? new BullJobQueue({ ...redis, maxQueue: cfg.engine.maxQueue, tasks, pictures, log }) : null;
  const queue: JobQueue = bull ?? new InProcessQueue({ host, process: processJob, tasks, workers: cfg.engine.workers, maxQueue: cfg.engine.maxQueue, log });
  const jobs = new JobService({ queue, tasks, stages, model: cfg.engine.model, modelFor: (reqKey) => host.modelFor(reqKey), log, ...(opts.observeStage ? { observeStage: opts.observeStage } : {}) });
  const worker =
    redis && role === 'worker'
      ? createBullWorker({ ...redis, process: processJob, tasks, pictures, log, concurrency: cfg.engine.workers, model: cfg.engine.model, lockDurationMs: cfg.queue.jobLockMs, stalledIntervalMs: cfg.queue.stalledCheckMs })
      : null;
  const readiness = async (): Promise<{ ready: boolean } & Record<string, unknown>> => {
    if (bull) {
      const workers = await bull.workers().catch(() => -1);
      return { ready: workers > 0, role, workers, ...(workers < 0 ? { detail: 'Redis does not answer' } : {}) };
    }
    const classifier = cpuPool?.classifierStatus ?? { state: 'off' };
    const imageRiskInfo = classifier.state === 'off' ? {} : { image_risk: classifier.state };
    if (classifier.state === 'loading' || classifier.state === 'failed') {
      const detail = classifier.state === 'failed' ? classifier.detail : 'the NSFW classifier is loading';
      return { ready: false, role, engine: host.state, ...imageRiskInfo, detail: host.ready ? detail : `${host.detail}; ${detail}` };
    }
    return { ready: host.ready, role, engine: host.state, ...imageRiskInfo, detail: host.detail };
  };

  const stops: Array<() => void> = [];
  if (opts.sweep) {
    if (hosting) {
      stops.push(
        startSweeper(hosting.store, 60_000, {
          onSwept: (n) => (n > 0 ? log.info({ deleted: n }, 'expired images deleted') : undefined),
          onError: (err) => log.warn({ err }, 'image sweep failed'),
        }),
      );
    }
    stops.push(
      startSweeper({ sweep: () => tasks.sweep() }, 60_000, {
        onSwept: (n) => (n > 0 ? log.info({ forgotten: n }, 'old async tasks forgotten') : undefined),
        onError: (err) => log.warn({ err }, 'task sweep failed'),
      }),
    );
  }

  return {
    config: cfg,
    log,
    host,
    deps,
    stages,
    hosting,
    role,
    queue,
    tasks,
    jobs,
    worker,
    readiness,
    async close() {
      for (const stop of stops) stop();
      await worker?.close();
      await queue.close();
      await host.close();
      await tasks.close();
      await sr.close();
      await cpuPool?.close();
    },
  };
}

/** SQLite task records; answers the tasks an earlier process left unfinished (its sweep removes torn files). */
async function openDurableTasks(cfg: Config, pictures: ImageStore, ttlMs: number, log: Logger): Promise<TaskStore> {
  const tasks = SqliteTaskStore.inDataDir(cfg.server.dataDir, pictures, { ttlMs });
  if (tasks.interrupted > 0) log.warn({ tasks: tasks.interrupted, code: INTERRUPTED.code }, 'tasks interrupted by a restart answered as failed');
  return tasks;
}

/**
 * Where task pictures (and CVProcess pictures in transit from a worker) live: the S3 bucket when one is
 * configured in scaled mode, else `<dataDir>/tasks` — which scaled deployments without a bucket put on a
 * folder every process shares.
 */
function pictureStore(cfg: Config, scaled: boolean): ImageStore {
  const s3 = scaled ? s3Options(cfg) : null;
  if (s3) return new S3ImageStore({ ...s3, prefix: `${s3.prefix ?? ''}tasks/` });
  return LocalImageStore.inDataDir(cfg.server.dataDir, { subdir: 'tasks' });
}

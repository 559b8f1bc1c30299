/** `mengtu worker`: the engine role of a scaled deployment; SIGTERM finishes the current job first. */
import { closeOnSignal } from './shutdown.js';
import type { Command } from 'commander';
import { loadConfig } from '../runtime/config.js';
import { createLogger } from '../runtime/server.js';
import { startWorker } from '../runtime/worker.js';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run jobs from the Redis queue on this machine\'s engine (scaled mode; gateways are `mengtu serve --redis`)')
    .option('--redis <url>', 'Redis URL shared with the gateways (env MENGTU_REDIS_URL), e.g. redis://10.0.0.5:6379')
    .option('--data-dir <dir>', 'state and, without a bucket, the picture folder every process shares (env MENGTU_DATA_DIR)')
    .option('--model <name>', 'model name, hub repo or directory (env MENGTU_MODEL, default sd-turbo; "tiny" needs no download)')
    .option('--threads <n>', 'ONNX Runtime intra-op threads (env MENGTU_THREADS, default: all cores)')
    .option('--concurrency <n>', 'jobs at once on this engine (env MENGTU_WORKERS, default 1)')
    .option('--vae <decoder>', 'decoder for final images: vae or taesd (env MENGTU_VAE, default vae)')
    .option('--low-memory', 'less resident memory for slower requests (env MENGTU_LOW_MEMORY)')
    .option('--status-port <port>', 'serve /healthz, /readyz and /metrics on this port (env MENGTU_STATUS_PORT; default none)')
    .option('--no-pull', 'do not download the model when it is missing')
    .addHelpText('after', '\nEvery option is also settable by environment variable; see docs/configuration.md.')
    .action(async (o: { redis?: string; dataDir?: string; model?: string; threads?: string; concurrency?: string; vae?: string; lowMemory?: boolean; statusPort?: string; pull: boolean }) => {
      const cfg = loadConfig({
        server: { dataDir: o.dataDir },
        queue: { redisUrl: o.redis, statusPort: o.statusPort },
        engine: { model: o.model, threads: o.threads, vae: o.vae, lowMemory: o.lowMemory, workers: o.concurrency, pullOnStart: o.pull === false ? false : undefined },
      });
      const logger = createLogger(cfg);
      const worker = await startWorker(cfg, logger);
      await closeOnSignal(logger, { delayMs: 600_000, stopping: 'stopping: finishing the running job, taking no new one' }, () => worker.close());
    });
}

/** `mengtu serve`: the HTTP server, with graceful shutdown on SIGTERM/SIGINT. */
import type { Command } from 'commander';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('start the Jimeng-compatible HTTP server')
    .option('--host <host>', 'address to bind (env MENGTU_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port (env MENGTU_PORT, default 8080)')
    .option('--data-dir <dir>', 'keys, images and state (env MENGTU_DATA_DIR, default ./data)')
    .option('--model <name>', 'model name, hub repo or directory (env MENGTU_MODEL, default sd-turbo; "tiny" needs no download)')
    .option('--threads <n>', 'ONNX Runtime intra-op threads (env MENGTU_THREADS, default: all cores)')
    .option('--vae <decoder>', 'decoder for final images: vae or taesd (env MENGTU_VAE, default vae)')
    .option('--low-memory', 'less resident memory for slower requests (env MENGTU_LOW_MEMORY)')
    .option('--no-pull', 'do not download the model when it is missing')
    .option('--redis <url>', 'scaled mode: enqueue to this Redis for `mengtu worker` processes, hold no engine (env MENGTU_REDIS_URL)')
    .option('--no-auth', 'turn signature verification OFF (logs a warning; for local experiments only)')
    .addHelpText('after', '\nEvery option is also settable by environment variable; see docs/configuration.md.')
    .action(async (o: { host?: string; port?: string; dataDir?: string; model?: string; threads?: string; vae?: string; lowMemory?: boolean; pull: boolean; auth: boolean; redis?: string }) => {
      // The server's modules load only when it starts, so `mengtu --help` stays fast.
      const [{ closeOnSignal }, { loadConfig }, { createLogger, startServer }] = await Promise.all([
        import('./shutdown.js'),
        import('../runtime/config.js'),
        import('../runtime/server.js'),
      ]);
      const cfg = loadConfig({
        server: { host: o.host, port: o.port, dataDir: o.dataDir },
        engine: { model: o.model, threads: o.threads, vae: o.vae, lowMemory: o.lowMemory, pullOnStart: o.pull === false ? false : undefined },
        auth: { enabled: o.auth === false ? false : undefined },
        queue: { redisUrl: o.redis },
      });
      const logger = createLogger(cfg);
      const server = await startServer(cfg, logger);
      await closeOnSignal(logger, { delayMs: 120_000, stopping: 'shutting down: finishing in-flight requests' }, () => server.close());
    });
}

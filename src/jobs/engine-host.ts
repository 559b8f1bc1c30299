/**
 * Owns the loaded model: resolves (and on first start pulls) it, loads it once, and reports readiness for
 * /readyz. Requests before the engine is ready get 50501 rather than waiting without bound.
 */
import type { Logger } from 'pino';
import { CvError } from '../contract/errors.js';
import { retryPassingFailures, type RetryPolicy } from '../engine/download/retry.js';
import { loadEngine } from '../engine/index.js';
import { resolveModel } from '../engine/registry.js';
import type { Engine } from '../engine/types.js';

export type EngineState = 'idle' | 'pulling' | 'loading' | 'ready' | 'failed' | 'closed';

export interface EngineHostOptions {
  model: string;
  pull: boolean;
  threads: number;
  executionProvider: 'cpu' | 'cuda';
  /** Decoder for final images (MENGTU_VAE); default the model's VAE. */
  decoder?: 'vae' | 'taesd';
  log: Logger;
  /** Retry a pull that failed for a passing reason (network, hub 5xx) with backoff; false = fail at once (CLI). */
  retry?: RetryPolicy | false;
  /** Who hosts the engine, for the hints in its log lines: a server stays up unready, a CLI run stops. */
  role?: 'server' | 'cli';
}

export class EngineHost {
  state: EngineState = 'idle';
  detail = '';
  private loaded: Engine | null = null;
  private loading: Promise<Engine> | null = null;
  private readonly stopRetrying = new AbortController();

  constructor(private readonly opts: EngineHostOptions) {}

  get ready(): boolean {
    return this.state === 'ready';
  }

  /** Starts loading (idempotent); resolves when ready, rejects when it failed. */
  load(): Promise<Engine> {
    this.loading ??= this.doLoad();
    return this.loading;
  }

  private async doLoad(): Promise<Engine> {
    const { log } = this.opts;
    try {
      this.state = 'pulling';
      this.detail = `resolving model ${this.opts.model}`;
      const pull = (): ReturnType<typeof resolveModel> =>
        resolveModel(this.opts.model, {
          pull: this.opts.pull,
          log: (msg: string) => log.info({ model: this.opts.model }, msg),
        });
      const model =
        this.opts.retry === false
          ? await pull()
          : await retryPassingFailures(pull, {
              ...(this.opts.retry ? { policy: this.opts.retry } : {}),
              signal: this.stopRetrying.signal,
              onRetry: ({ attempt, delayMs, reason }) => {
                this.detail = `model pull failed (${reason}); retry ${attempt} in ${Math.round(delayMs / 1000)} s`;
                log.warn({ model: this.opts.model, attempt, delay_ms: delayMs, reason }, `model pull failed (${reason}); retrying in ${Math.round(delayMs / 1000)} s`);
              },
            });
      this.state = 'loading';
      this.detail = `loading ${model.dir}`;
      const t0 = performance.now();
      const engine = await loadEngine(model.dir, {
        name: model.name,
        threads: this.opts.threads,
        executionProvider: this.opts.executionProvider,
        defaults: model.defaults,
        ...(this.opts.decoder ? { decoder: this.opts.decoder } : {}),
      });
      log.info({ model: model.name, dir: model.dir, ms: Math.round(performance.now() - t0) }, 'engine ready');
      this.loaded = engine;
      this.state = 'ready';
      this.detail = model.name;
      return engine;
    } catch (err) {
      this.state = 'failed';
      this.detail = err instanceof Error ? err.message : String(err);
      log.error({ err, model: this.opts.model }, `engine failed to load: ${this.detail}`);
      if (this.opts.model !== 'tiny' && this.opts.role !== 'cli') {
        log.error('the server stays up but not ready (/readyz 503); to smoke-test without any download, start it with --model tiny');
      }
      throw err;
    }
  }

  /** The engine, or 50501 while it is not ready. */
  engine(): Engine {
    if (this.loaded && this.state === 'ready') return this.loaded;
    throw new CvError(50501, undefined, { logDetail: `engine not ready (${this.state}: ${this.detail})` });
  }

  async close(): Promise<void> {
    this.stopRetrying.abort();
    this.state = 'closed';
    const e = this.loaded;
    this.loaded = null;
    if (e) await e.close();
  }
}

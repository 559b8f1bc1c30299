/**
 * Owns the loaded models: resolves (and on first start pulls) each, loads it once, and reports readiness
 * for /readyz. Requests before the engine is ready get 50501 rather than waiting without bound. The default
 * model serves every req_key unless `models` names another for it (MENGTU_MODEL_<REQ_KEY>); each distinct
 * model is loaded once, by a host of its own.
 */
import type { Logger } from 'pino';
import { REQ_KEY_I2I_V30 } from '../contract/cvprocess.js';
import { CvError } from '../contract/errors.js';
import { retryPassingFailures, type RetryPolicy } from '../engine/download/retry.js';
import { resolveModel } from '../engine/registry.js';
import type { Engine } from '../engine/types.js';
import { loadEngineThread } from '../pipeline/offload/engine-thread.js';

export type EngineState = 'idle' | 'pulling' | 'loading' | 'ready' | 'failed' | 'closed';

export interface EngineHostOptions {
  model: string;
  /** req_key → model, for req_keys served by another model than `model`. */
  models?: Readonly<Record<string, string>>;
  pull: boolean;
  threads: number;
  executionProvider: 'cpu' | 'cuda';
  /** Decoder for final images (MENGTU_VAE); default the model's VAE. */
  decoder?: 'vae' | 'taesd';
  /** MENGTU_LOW_MEMORY: the engine's lowMemory (less resident memory, slower requests). */
  lowMemory?: boolean;
  log: Logger;
  /** Retry a pull that failed for a passing reason (network, hub 5xx) with backoff; false = fail at once (CLI). */
  retry?: RetryPolicy | false;
  /** The models' home and the hub to pull from (cfg.engine.home / hubEndpoint / hubToken). */
  home?: string | undefined;
  hubEndpoint?: string | undefined;
  hubToken?: string | undefined;
  /** Who hosts the engine, for the hints in its log lines: a server stays up unready, a CLI run stops. */
  role?: 'server' | 'cli';
}

export class EngineHost {
  private ownState: EngineState = 'idle';
  private ownDetail = '';
  private loaded: Engine | null = null;
  private loading: Promise<Engine> | null = null;
  private readonly stopRetrying = new AbortController();
  /** Hosts of the other models req_keys are mapped to, by model name. */
  private readonly others = new Map<string, EngineHost>();

  constructor(private readonly opts: EngineHostOptions) {
    for (const m of new Set(Object.values(opts.models ?? {}))) {
      if (m !== opts.model) this.others.set(m, new EngineHost({ ...opts, model: m, models: {} }));
    }
  }

  /** The model that serves `reqKey`. */
  modelFor(reqKey: string): string {
    return this.opts.models?.[reqKey] ?? this.opts.model;
  }

  /** The first host (default model first) that is not ready, for state and detail. */
  private notReady(): EngineHost | undefined {
    if (this.ownState !== 'ready') return undefined;
    return [...this.others.values()].find((h) => !h.ready);
  }

  get state(): EngineState {
    return this.notReady()?.state ?? this.ownState;
  }

  get detail(): string {
    const other = this.notReady();
    return other ? `${other.opts.model}: ${other.detail}` : this.ownDetail;
  }

  get ready(): boolean {
    return this.ownState === 'ready' && [...this.others.values()].every((h) => h.ready);
  }

  /** Starts loading every model (idempotent); resolves with the default one when all are ready, rejects when one failed. */
  load(): Promise<Engine> {
    this.loading ??= this.doLoad();
    const others = [...this.others.values()].map((h) => h.load());
    return Promise.all([this.loading, ...others]).then(([own]) => {
      this.warnIfNoEncoder();
      return own;
    });
  }

  private warnedNoEncoder = false;

  /** Image-to-image needs a vae_encoder: say at load time when the model serving it has none. */
  private warnIfNoEncoder(): void {
    const model = this.modelFor(REQ_KEY_I2I_V30);
    if (this.warnedNoEncoder || this.engine(model).img2img) return;
    this.warnedNoEncoder = true;
    this.opts.log.warn(
      { model },
      `model ${model} has no vae_encoder/, so ${REQ_KEY_I2I_V30} and /v1/images/edits requests will fail (50501); set MENGTU_MODEL_JIMENG_I2I_V30 to a model that has one`,
    );
  }

  private async doLoad(): Promise<Engine> {
    const { log } = this.opts;
    try {
      this.ownState = 'pulling';
      this.ownDetail = `resolving model ${this.opts.model}`;
      const pull = (): ReturnType<typeof resolveModel> =>
        resolveModel(this.opts.model, {
          pull: this.opts.pull,
          ...(this.opts.home !== undefined ? { home: this.opts.home } : {}),
          ...(this.opts.hubEndpoint !== undefined ? { endpoint: this.opts.hubEndpoint } : {}),
          ...(this.opts.hubToken !== undefined ? { token: this.opts.hubToken } : {}),
          log: (msg: string) => log.info({ model: this.opts.model }, msg),
        });
      const model =
        this.opts.retry === false
          ? await pull()
          : await retryPassingFailures(pull, {
              ...(this.opts.retry ? { policy: this.opts.retry } : {}),
              signal: this.stopRetrying.signal,
              onRetry: ({ attempt, delayMs, reason }) => {
                this.ownDetail = `model pull failed (${reason}); retry ${attempt} in ${Math.round(delayMs / 1000)} s`;
                log.warn({ model: this.opts.model, attempt, delay_ms: delayMs, reason }, `model pull failed (${reason}); retrying in ${Math.round(delayMs / 1000)} s`);
              },
            });
      this.ownState = 'loading';
      this.ownDetail = `loading ${model.dir}`;
      const t0 = performance.now();
      // On a thread of its own: onnxruntime computes on the calling thread, which must not be the event loop.
      const engine = await loadEngineThread(model.dir, {
        name: model.name,
        threads: this.opts.threads,
        executionProvider: this.opts.executionProvider,
        defaults: model.defaults,
        ...(this.opts.decoder ? { decoder: this.opts.decoder } : {}),
        ...(this.opts.lowMemory ? { lowMemory: true } : {}),
        ...(this.opts.home !== undefined ? { home: this.opts.home } : {}),
      });
      log.info({ model: model.name, dir: model.dir, ms: Math.round(performance.now() - t0) }, 'engine ready');
      this.loaded = engine;
      this.ownState = 'ready';
      this.ownDetail = model.name;
      return engine;
    } catch (err) {
      this.ownState = 'failed';
      this.ownDetail = err instanceof Error ? err.message : String(err);
      log.error({ err, model: this.opts.model }, `engine failed to load: ${this.detail}`);
      if (this.opts.model !== 'tiny' && this.opts.role !== 'cli') {
        log.error('the server stays up but not ready (/readyz 503); to smoke-test without any download, start it with --model tiny');
      }
      throw err;
    }
  }

  /** The engine of `model` (default: the default model), or 50501 while it is not ready. */
  engine(model?: string): Engine {
    if (model !== undefined && model !== this.opts.model) {
      const other = this.others.get(model);
      if (!other) throw new CvError(50501, undefined, { logDetail: `no engine is configured for model ${model}` });
      return other.engine();
    }
    if (this.loaded && this.ownState === 'ready') return this.loaded;
    throw new CvError(50501, undefined, { logDetail: `engine not ready (${this.ownState}: ${this.ownDetail})` });
  }

  async close(): Promise<void> {
    await Promise.all([...this.others.values()].map((h) => h.close()));
    this.stopRetrying.abort();
    this.ownState = 'closed';
    const e = this.loaded;
    this.loaded = null;
    if (e) await e.close();
  }
}

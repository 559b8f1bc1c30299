/**
 * Server configuration: CLI flags over environment variables over defaults. Every setting is documented in
 * docs/configuration.md; the names here are the env names.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const boolEnv = z
  .string()
  .transform((s) => !['0', 'false', 'no', 'off', ''].includes(s.trim().toLowerCase()));
const intEnv = (min: number) => z.coerce.number().int().min(min);

export const ConfigSchema = z.object({
  host: z.string().default('127.0.0.1'),
  port: intEnv(0).max(65535).default(8080),
  dataDir: z.string().default('./data'),
  model: z.string().default('sd-turbo'),
  /** Pull the model on start when it is missing. */
  pullOnStart: z.boolean().default(true),
  threads: intEnv(0).default(0),
  executionProvider: z.enum(['cpu', 'cuda']).default('cpu'),
  auth: z.boolean().default(true),
  region: z.string().default('cn-north-1'),
  service: z.string().default('cv'),
  maxSkewSeconds: intEnv(1).default(900),
  bodyLimitBytes: intEnv(1024).default(1024 * 1024),
  qps: z.coerce.number().min(0).default(2),
  burst: intEnv(0).default(0),
  concurrency: intEnv(0).default(2),
  /** Jobs running at once on the engine (each uses all intra-op threads). */
  workers: intEnv(1).default(1),
  /** Jobs allowed to wait for the engine; beyond that requests get 50430. */
  maxQueue: intEnv(0).default(16),
  /** Hours an async task's result can be fetched (contract §7: 12); then `expired` as long again. */
  taskTtlHours: z.coerce.number().positive().default(12),
  publicBaseUrl: z.string().optional(),
  /** auto: a model in srModelDir, else the built-in ESRGAN-slim, else Lanczos; lanczos: never a model. */
  srMode: z.enum(['auto', 'model', 'lanczos']).default('auto'),
  srModelDir: z.string().optional(),
  /** Classify every output image (50511 above MENGTU_IMAGE_RISK_THRESHOLD). */
  imageRisk: z.boolean().default(true),
  /** ContentProducer written into every image's implicit AI label. */
  producer: z.string().default('mengtu'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof ConfigSchema>;

const ENV_MAP: Record<string, keyof Config> = {
  MENGTU_HOST: 'host',
  MENGTU_PORT: 'port',
  MENGTU_DATA_DIR: 'dataDir',
  MENGTU_MODEL: 'model',
  MENGTU_THREADS: 'threads',
  MENGTU_EXECUTION_PROVIDER: 'executionProvider',
  MENGTU_REGION: 'region',
  MENGTU_SERVICE: 'service',
  MENGTU_MAX_SKEW_SECONDS: 'maxSkewSeconds',
  MENGTU_BODY_LIMIT_BYTES: 'bodyLimitBytes',
  MENGTU_QPS: 'qps',
  MENGTU_BURST: 'burst',
  MENGTU_CONCURRENCY: 'concurrency',
  MENGTU_WORKERS: 'workers',
  MENGTU_MAX_QUEUE: 'maxQueue',
  MENGTU_TASK_TTL_HOURS: 'taskTtlHours',
  MENGTU_PUBLIC_BASE_URL: 'publicBaseUrl',
  MENGTU_LOG_LEVEL: 'logLevel',
  MENGTU_SR_MODE: 'srMode',
  MENGTU_SR_MODEL_DIR: 'srModelDir',
  MENGTU_PRODUCER: 'producer',
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Builds the config; `overrides` are CLI flags (undefined = not given). */
export function loadConfig(overrides: Partial<Record<keyof Config, unknown>> = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV_MAP)) {
    const v = env[name];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  if (env.MENGTU_AUTH !== undefined) raw.auth = boolEnv.parse(env.MENGTU_AUTH);
  if (env.MENGTU_IMAGE_RISK !== undefined) raw.imageRisk = boolEnv.parse(env.MENGTU_IMAGE_RISK);
  if (env.MENGTU_PULL_ON_START !== undefined) raw.pullOnStart = boolEnv.parse(env.MENGTU_PULL_ON_START);
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) raw[k] = v;
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${issues}`);
  }
  const cfg = parsed.data;
  return { ...cfg, dataDir: path.resolve(cfg.dataDir), threads: cfg.threads || os.availableParallelism() };
}

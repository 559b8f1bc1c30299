/**
 * The one configuration of a mengtu process: a schema with sections, read in one place (CLI flags over
 * environment variables over defaults) and passed down to each factory as plain options. No module below the
 * runtime reads `process.env`. docs/configuration.md's tables are generated from this schema
 * (`npm run docs:config`) and a test fails when they drift.
 *
 * One rule for every setting: an empty environment variable counts as unset (the default applies).
 * Booleans: `1`, `true`, `yes`, `on` are true; `0`, `false`, `no`, `off` are false (any case); anything
 * else stops the start with a message naming the variable.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { REQ_KEY_I2I_V30, REQ_KEY_T2I_V30, REQ_KEY_T2I_V31, REQ_KEY_V21 } from '../contract/cvprocess.js';
import type { LlmConfig } from '../pipeline/rewrite/llm.js';
import type { S3StoreConfig } from '../storage/s3.js';

interface Setting<T> {
  env: string;
  /** The `mengtu serve` / `mengtu worker` flag, when there is one (documentation only; commander parses it). */
  flag?: string;
  schema: z.ZodType<T>;
  default: T | undefined;
  /** How the default reads in the docs when it is computed (e.g. "all cores"). */
  defaultDoc?: string;
  doc: string;
}

type Extra = { flag?: string; defaultDoc?: string };

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** The boolean rule (see the file comment); also accepts real booleans from flags and tests. */
export function parseBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  return undefined;
}

const boolSchema = z.custom<boolean>((v) => parseBool(v) !== undefined, 'expected 1/true/yes/on or 0/false/no/off').transform((v) => parseBool(v)!);

function setting<T>(env: string, schema: z.ZodType<T>, def: T | undefined, doc: string, extra: Extra = {}): Setting<T> {
  return { env, schema, default: def, doc, ...extra };
}
const str = (env: string, def: string, doc: string, extra?: Extra) => setting(env, z.string().min(1), def, doc, extra);
const optStr = (env: string, doc: string, extra?: Extra) => setting<string | undefined>(env, z.string().min(1).optional(), undefined, doc, extra);
const int = (env: string, def: number | undefined, min: number, max: number, doc: string, extra?: Extra) =>
  setting<number>(env, z.coerce.number().int().min(min).max(max), def, doc, extra);
const num = (env: string, def: number, min: number, max: number, doc: string, extra?: Extra) =>
  setting<number>(env, z.coerce.number().min(min).max(max), def, doc, extra);
const bool = (env: string, def: boolean | undefined, doc: string, extra?: Extra) => setting<boolean>(env, boolSchema, def, doc, extra);
const oneOf = <const V extends readonly [string, ...string[]]>(env: string, values: V, def: V[number], doc: string, extra?: Extra) =>
  setting<V[number]>(env, z.enum(values), def, doc, extra);
const list = (env: string, doc: string, extra?: Extra) =>
  setting<string[]>(
    env,
    z.union([z.array(z.string()), z.string()]).transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0)),
    [],
    doc,
    extra,
  );

const MAX = Number.MAX_SAFE_INTEGER;

export const CONFIG_SCHEMA = {
  server: {
    host: str('MENGTU_HOST', '127.0.0.1', 'address to bind. Use `0.0.0.0` only behind a firewall or proxy.', { flag: '--host' }),
    port: int('MENGTU_PORT', 8080, 0, 65535, 'port (`0` = any free port; the log says which)', { flag: '--port' }),
    dataDir: str('MENGTU_DATA_DIR', './data', 'keys file, task records, stored images, URL-signing secret', { flag: '--data-dir' }),
    logLevel: oneOf('MENGTU_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info', 'log level'),
    bodyLimitBytes: int('MENGTU_BODY_LIMIT_BYTES', 1024 * 1024, 1024, MAX, 'larger request bodies get 413 / 50213'),
    imageBodyLimitBytes: int('MENGTU_IMAGE_BODY_LIMIT_BYTES', 8 * 1024 * 1024, 1024, MAX, 'the body limit of the calls that carry a picture (`CVSync2AsyncSubmitTask`, for `jimeng_i2i_v30`\'s ≤ 4.7 MB image in base64, and `/v1/images/edits`); the other calls keep `MENGTU_BODY_LIMIT_BYTES`'),
    requestTimeoutMs: int('MENGTU_REQUEST_TIMEOUT_MS', 30_000, 0, MAX, 'the whole request (headers and body) must arrive within this, else 408 and the connection closes (a body trickled at 1 byte/s is cut); `0` = no limit. The answer may take longer'),
    headersTimeoutMs: int('MENGTU_HEADERS_TIMEOUT_MS', 10_000, 1, MAX, 'the request headers must arrive within this, else 408'),
    keepAliveTimeoutMs: int('MENGTU_KEEP_ALIVE_TIMEOUT_MS', 72_000, 1, MAX, 'an idle keep-alive connection is closed after this'),
    cpuPoolSize: int('MENGTU_CPU_POOL_SIZE', 0, 0, 256, 'worker threads for typography drawing and the PNG encode (with its AI label), so neither holds the event loop (the NSFW classifier has one more thread of its own when image risk is on)', { defaultDoc: 'cores − 1, at least 1' }),
  },
  auth: {
    enabled: bool('MENGTU_AUTH', true, 'signature verification; turning it off logs a warning at start', { flag: '--no-auth' }),
    region: str('MENGTU_REGION', 'cn-north-1', 'the credential scope region requests must be signed for'),
    service: str('MENGTU_SERVICE', 'cv', 'the credential scope service requests must be signed for'),
    maxSkewSeconds: int('MENGTU_MAX_SKEW_SECONDS', 900, 1, MAX, 'allowed difference between `X-Date` and the server clock'),
    accessKeys: optStr('MENGTU_ACCESS_KEYS', '`AK1:SK1,AK2:SK2`, added to the keys file\'s keys (cannot be revoked at run time)'),
    keysFile: optStr('MENGTU_KEYS_FILE', 'the keys file (`mengtu keys create|revoke|enable` writes it, mode 0600)', { defaultDoc: '`<data>/keys.json`' }),
    keysReloadMs: int('MENGTU_KEYS_RELOAD_MS', 2000, 100, MAX, 'how often a running gateway re-reads the key store (besides watching the keys file)'),
  },
  limits: {
    qps: num('MENGTU_QPS', 0, 0, MAX, 'sustained requests per second per access key (token bucket); `0` = off. Beyond → 50429. Off by default: a client that waits for each answer can send cheap calls faster than any fixed rate, and the engine is already guarded by the concurrency and queue limits'),
    burst: int('MENGTU_BURST', 0, 0, MAX, 'token bucket size; `0` = `max(1, QPS)`'),
    concurrency: int('MENGTU_CONCURRENCY', 4, 0, MAX, 'requests in flight per access key; `0` = off. Beyond → 50430 at once (a client that waits for each answer has one in flight)'),
  },
  engine: {
    model: str('MENGTU_MODEL', 'sd-turbo', 'registry name (`mengtu models list`), `owner/repo` on the hub, a local directory in the diffusers ONNX layout, or `tiny`', { flag: '--model' }),
    modelV21: optStr('MENGTU_MODEL_JIMENG_HIGH_AES_GENERAL_V21_L', 'the model for `jimeng_high_aes_general_v21_L` (same forms as `MENGTU_MODEL`); each distinct model is loaded once', { defaultDoc: '`MENGTU_MODEL`' }),
    modelT2iV30: optStr('MENGTU_MODEL_JIMENG_T2I_V30', 'the model for `jimeng_t2i_v30` (1328² by default: an SDXL-class model fits it)', { defaultDoc: '`MENGTU_MODEL`' }),
    modelT2iV31: optStr('MENGTU_MODEL_JIMENG_T2I_V31', 'the model for `jimeng_t2i_v31`', { defaultDoc: '`MENGTU_MODEL`' }),
    modelI2iV30: optStr('MENGTU_MODEL_JIMENG_I2I_V30', 'the model for `jimeng_i2i_v30` and `/v1/images/edits` (needs a `vae_encoder/`)', { defaultDoc: '`MENGTU_MODEL`' }),
    pullOnStart: bool('MENGTU_PULL_ON_START', true, 'download the model on start when it is missing', { flag: '--no-pull' }),
    threads: int('MENGTU_THREADS', 0, 0, 1024, 'ONNX Runtime intra-op threads', { flag: '--threads', defaultDoc: 'all cores' }),
    executionProvider: oneOf('MENGTU_EXECUTION_PROVIDER', ['cpu', 'cuda'] as const, 'cpu', '`cpu` or `cuda` (needs an onnxruntime-node build with CUDA; a clear error otherwise)'),
    vae: oneOf('MENGTU_VAE', ['vae', 'taesd'] as const, 'vae', 'decoder for final images: the model\'s own VAE, or `taesd` (TAESD/TAESDXL after `mengtu models pull taesd|taesdxl`: several times faster, slightly softer detail). An installed TAESD always draws the step previews', { flag: '--vae' }),
    lowMemory: bool('MENGTU_LOW_MEMORY', false, 'trade speed for peak memory: one big graph in memory at a time (the text encoder is unloaded once the prompt is encoded, the UNet after the last step, the decoder after the picture, each reloaded from the optimized-graph cache when next needed) and no graph keeps activation buffers between runs. Costs three graph reloads a request (SD-Turbo-class: 0.6–1.3 s); peak RSS at 512² fp32 7.3 → 4.2 GB, int8 3.3 → 1.7 GB (docs/benchmarks.md)', { flag: '--low-memory' }),
    workers: int('MENGTU_WORKERS', 1, 1, 64, 'jobs on the engine at once in this process (each already uses every core)'),
    maxQueue: int('MENGTU_MAX_QUEUE', 16, 0, MAX, 'jobs allowed to wait for the engine (sync requests and async tasks together); beyond that → 50430'),
    home: optStr('MENGTU_HOME', 'model cache (`models/<name>`), passed to the model registry and the engine (TAESD lookup)', { defaultDoc: '`~/.cache/mengtu`' }),
    hubEndpoint: optStr('HF_ENDPOINT', 'hub or mirror to pull models from, passed to the model registry', { defaultDoc: '`https://huggingface.co`' }),
    hubToken: optStr('HF_TOKEN', 'bearer token for gated or private repos, passed to the model registry'),
  },
  sr: {
    mode: oneOf('MENGTU_SR_MODE', ['auto', 'model', 'lanczos'] as const, 'auto', '`auto`: a model in the SR model dir, else the built-in ESRGAN-slim, else Lanczos; `model`: a model or fail; `lanczos`: never a model'),
    modelDir: optStr('MENGTU_SR_MODEL_DIR', 'directory with an ONNX super-resolution model'),
  },
  queue: {
    redisUrl: optStr('MENGTU_REDIS_URL', 'Redis for the scaled mode (`redis://host:6379/0`): job queue, task records, limits and keys shared by every gateway and worker. Unset = embedded mode (in-process queue, SQLite task records)', { flag: '--redis' }),
    name: str('MENGTU_QUEUE_NAME', 'generate', 'BullMQ queue name (gateways and workers of one deployment must agree)'),
    prefix: str('MENGTU_REDIS_PREFIX', 'mengtu', 'prefix of every Redis key this deployment writes (several deployments can share one Redis)'),
    jobLockMs: int('MENGTU_JOB_LOCK_MS', 30_000, 1000, MAX, 'worker: a job\'s lock lasts this long unrenewed (renewed every half); a dead worker\'s job is taken by another worker after it'),
    stalledCheckMs: int('MENGTU_STALLED_CHECK_MS', 30_000, 500, MAX, 'worker: how often it looks for jobs whose worker died'),
    statusPort: int('MENGTU_STATUS_PORT', undefined, 0, 65535, 'worker: port of its `/healthz`, `/readyz` (ready once the model and, with image risk on, the NSFW classifier are loaded) and `/metrics`, bound to `MENGTU_HOST`; unset = none', { flag: '--status-port' }),
  },
  tasks: {
    ttlHours: num('MENGTU_TASK_TTL_HOURS', 12, 0.001, 24 * 365, 'how long an async task\'s result can be fetched (`CVSync2AsyncGetResult`); after that `expired` for as long again, then `not_found`'),
  },
  s3: {
    bucket: optStr('MENGTU_S3_BUCKET', 'S3-compatible bucket for images (URL images and task pictures); unset = local files under the data dir'),
    region: str('MENGTU_S3_REGION', 'us-east-1', 'bucket region'),
    endpoint: optStr('MENGTU_S3_ENDPOINT', 'endpoint of a non-AWS S3 (MinIO, R2, TOS …)'),
    accessKeyId: optStr('MENGTU_S3_ACCESS_KEY_ID', 'bucket credentials (else the AWS SDK\'s default chain)'),
    secretAccessKey: optStr('MENGTU_S3_SECRET_ACCESS_KEY', 'bucket credentials (else the AWS SDK\'s default chain)'),
    prefix: optStr('MENGTU_S3_PREFIX', 'object key prefix, e.g. `mengtu/`'),
    forcePathStyle: bool('MENGTU_S3_FORCE_PATH_STYLE', undefined, 'path-style addressing', { defaultDoc: 'on when an endpoint is set' }),
  },
  hosting: {
    publicBaseUrl: optStr('MENGTU_PUBLIC_BASE_URL', 'base of image URLs when `return_url` is true (where clients reach the gateway)', { defaultDoc: 'the listen URL' }),
    urlTtlSeconds: int('MENGTU_URL_TTL_SECONDS', 3600, 1, 7 * 24 * 3600, 'lifetime of image URLs (S3 caps presigned URLs at 7 days)'),
    urlSecret: optStr('MENGTU_URL_SECRET', 'HMAC secret for local image URLs (≥ 16 characters; every gateway of a deployment needs the same one)', { defaultDoc: 'generated, `<data>/url-signing.key`' }),
  },
  rewrite: {
    llmBaseUrl: optStr('MENGTU_LLM_BASE_URL', 'OpenAI-compatible endpoint for LLM prompt expansion (`…/v1`); unset = rules only'),
    llmModel: str('MENGTU_LLM_MODEL', 'gpt-4o-mini', 'model name sent to the LLM endpoint'),
    llmApiKey: optStr('MENGTU_LLM_API_KEY', 'bearer token for the LLM endpoint'),
    llmTimeoutMs: int('MENGTU_LLM_TIMEOUT_MS', 8000, 1, MAX, 'LLM answer deadline; on timeout the rules rewrite the prompt'),
  },
  safety: {
    imageRisk: bool('MENGTU_IMAGE_RISK', true, 'classify every output image (50511 above the threshold)'),
    imageRiskThreshold: num('MENGTU_IMAGE_RISK_THRESHOLD', 0.8, 0, 1, 'unsafe score above which an image is refused'),
    riskListsDir: list('MENGTU_RISK_LISTS_DIR', 'comma-separated directories of operator risk lists (`*.txt`), added to the shipped lists'),
    riskCopyright: bool('MENGTU_RISK_COPYRIGHT', true, 'include the shipped `[copyright]` list'),
    imageUrlsPrivate: bool('MENGTU_IMAGE_URLS_PRIVATE', false, 'let `jimeng_i2i_v30` `image_urls` point at loopback and private networks (a closed deployment); off, such URLs get 50200 so callers cannot make the server fetch internal addresses'),
  },
  label: {
    aiLabel: bool('MENGTU_AI_LABEL', true, 'write the implicit AI-generated label (GB 45438-2025 AIGC + IPTC XMP) into every PNG'),
    producer: str('MENGTU_PRODUCER', 'mengtu', 'ContentProducer written into every image\'s AI label'),
  },
} as const;

type Schema = typeof CONFIG_SCHEMA;
type ValueOf<S> = S extends Setting<infer T> ? T : never;
/** Settings with neither a default nor a value are undefined (optional). */
export type Config = { [Sec in keyof Schema]: { [K in keyof Schema[Sec]]: ValueOf<Schema[Sec][K]> } };
/** Flags and test overrides: any subset; strings are parsed like the environment, undefined = not given. */
export type ConfigOverrides = { [Sec in keyof Schema]?: { [K in keyof Schema[Sec]]?: unknown } };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Every setting with its section and key, in schema order (docs, tests). */
export function configSettings(): Array<{ section: string; key: string; setting: Setting<unknown> }> {
  const out: Array<{ section: string; key: string; setting: Setting<unknown> }> = [];
  for (const [section, entries] of Object.entries(CONFIG_SCHEMA)) {
    for (const [key, setting] of Object.entries(entries)) out.push({ section, key, setting: setting as Setting<unknown> });
  }
  return out;
}

/**
 * Builds the config: `overrides` (CLI flags) over `env` over `defaults` (an entry point's own, e.g. a quieter
 * log for `mengtu generate`) over the schema's defaults. Throws ConfigError naming the variable.
 */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env, defaults: ConfigOverrides = {}): Config {
  const out: Record<string, Record<string, unknown>> = {};
  const problems: string[] = [];
  for (const { section, key, setting } of configSettings()) {
    const given = (overrides as Record<string, Record<string, unknown> | undefined>)[section]?.[key];
    const ownDefault = (defaults as Record<string, Record<string, unknown> | undefined>)[section]?.[key];
    const fromEnv = env[setting.env];
    const raw = given !== undefined ? given : fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv : ownDefault;
    let value: unknown = setting.default;
    if (raw !== undefined) {
      const parsed = setting.schema.safeParse(raw);
      if (parsed.success) value = parsed.data;
      else problems.push(`${setting.env} (${section}.${key}): ${parsed.error.issues.map((i) => i.message).join(', ')} (got ${JSON.stringify(raw)})`);
    }
    (out[section] ??= {})[key] = value;
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  const cfg = out as Config;
  return {
    ...cfg,
    server: { ...cfg.server, dataDir: path.resolve(cfg.server.dataDir), cpuPoolSize: cfg.server.cpuPoolSize || Math.max(1, os.availableParallelism() - 1) },
    engine: { ...cfg.engine, threads: cfg.engine.threads || os.availableParallelism() },
  };
}

function docDefault(s: Setting<unknown>): string {
  if (s.defaultDoc) return s.defaultDoc;
  if (s.default === undefined) return '';
  if (typeof s.default === 'boolean') return s.default ? '`on`' : '`off`';
  if (Array.isArray(s.default)) return s.default.length === 0 ? '' : `\`${s.default.join(',')}\``;
  return `\`${String(s.default)}\``;
}

const SECTION_TITLES: Record<keyof Schema, string> = {
  server: 'Server',
  auth: 'Authentication and keys',
  limits: 'Per-key limits',
  engine: 'Engine and model',
  sr: 'Super-resolution',
  queue: 'Queue and Redis (scaled mode)',
  tasks: 'Async tasks',
  s3: 'Image storage (S3)',
  hosting: 'Image URLs',
  rewrite: 'Prompt rewrite (LLM)',
  safety: 'Safety',
  label: 'AI label',
};

/** The Markdown tables docs/configuration.md carries between its generated-section markers. */
export function renderConfigDocs(): string {
  const parts: string[] = [];
  for (const [section, entries] of Object.entries(CONFIG_SCHEMA)) {
    parts.push(`### ${SECTION_TITLES[section as keyof Schema]} (\`${section}\`)`, '', '| env | flag | default | meaning |', '|---|---|---|---|');
    for (const s of Object.values(entries) as Array<Setting<unknown>>) {
      parts.push(`| \`${s.env}\` | ${s.flag ? `\`${s.flag}\`` : ''} | ${docDefault(s)} | ${s.doc.replace(/\|/g, '\\|')} |`);
    }
    parts.push('');
  }
  return parts.join('\n');
}

/** req_key → model for the req_keys configured apart from MENGTU_MODEL (the others use it). */
export function reqKeyModels(cfg: Pick<Config, 'engine'>): Record<string, string> {
  const e = cfg.engine;
  const out: Record<string, string> = {};
  for (const [key, model] of [
    [REQ_KEY_V21, e.modelV21],
    [REQ_KEY_T2I_V30, e.modelT2iV30],
    [REQ_KEY_T2I_V31, e.modelT2iV31],
    [REQ_KEY_I2I_V30, e.modelI2iV30],
  ] as const) {
    if (model) out[key] = model;
  }
  return out;
}

/** The bucket settings for the image stores, or null when no bucket is configured. */
export function s3Options(cfg: Pick<Config, 's3'>): S3StoreConfig | null {
  const s = cfg.s3;
  if (!s.bucket) return null;
  return {
    bucket: s.bucket,
    region: s.region,
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    ...(s.accessKeyId ? { accessKeyId: s.accessKeyId } : {}),
    ...(s.secretAccessKey ? { secretAccessKey: s.secretAccessKey } : {}),
    ...(s.prefix ? { prefix: s.prefix } : {}),
    ...(s.forcePathStyle !== undefined ? { forcePathStyle: s.forcePathStyle } : {}),
  };
}

/** The LLM endpoint for prompt expansion, or null (rules only). */
export function llmOptions(cfg: Pick<Config, 'rewrite'>): LlmConfig | null {
  const r = cfg.rewrite;
  if (!r.llmBaseUrl) return null;
  return { baseUrl: r.llmBaseUrl, model: r.llmModel, timeoutMs: r.llmTimeoutMs, ...(r.llmApiKey ? { apiKey: r.llmApiKey } : {}) };
}

/** docs/configuration.md carries renderConfigDocs()' output between these markers. */
export const CONFIG_DOCS_BEGIN = '<!-- generated from src/runtime/config.ts by `npm run docs:config`; do not edit by hand -->';
export const CONFIG_DOCS_END = '<!-- end of generated settings -->';

/** The one configuration: precedence, the boolean rule, errors that name the variable, and docs that match. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import {
  CONFIG_DOCS_BEGIN,
  CONFIG_DOCS_END,
  ConfigError,
  configSettings,
  llmOptions,
  loadConfig,
  parseBool,
  renderConfigDocs,
  s3Options,
} from '../src/runtime/config.js';

const root = new URL('..', import.meta.url);

test('flags over environment over defaults, per section', () => {
  const d = loadConfig({}, {});
  assert.equal(d.server.port, 8080);
  assert.equal(d.engine.model, 'sd-turbo');
  assert.equal(d.queue.redisUrl, undefined);
  const e = loadConfig({}, { MENGTU_PORT: '9000', MENGTU_MODEL: 'tiny', MENGTU_REDIS_URL: 'redis://r:6379/0' });
  assert.equal(e.server.port, 9000);
  assert.equal(e.engine.model, 'tiny');
  assert.equal(e.queue.redisUrl, 'redis://r:6379/0');
  const f = loadConfig({ server: { port: '9100' }, engine: { model: undefined } }, { MENGTU_PORT: '9000', MENGTU_MODEL: 'tiny' });
  assert.equal(f.server.port, 9100, 'a flag (string, as commander gives it) beats the environment');
  assert.equal(f.engine.model, 'tiny', 'an undefined flag means not given');
  const own = loadConfig({}, {}, { server: { logLevel: 'warn' } });
  assert.equal(own.server.logLevel, 'warn', "an entry point's own default");
  assert.equal(loadConfig({}, { MENGTU_LOG_LEVEL: 'debug' }, { server: { logLevel: 'warn' } }).server.logLevel, 'debug');
});

test('one boolean rule; an empty variable is unset', () => {
  for (const t of ['1', 'true', 'TRUE', 'yes', 'on', ' On ']) assert.equal(parseBool(t), true, t);
  for (const f of ['0', 'false', 'no', 'off', 'OFF']) assert.equal(parseBool(f), false, f);
  assert.equal(parseBool('maybe'), undefined);
  assert.equal(loadConfig({}, { MENGTU_AUTH: '' }).auth.enabled, true, "'' keeps the default (auth stays on)");
  assert.equal(loadConfig({}, { MENGTU_AUTH: 'off' }).auth.enabled, false);
  assert.equal(loadConfig({}, { MENGTU_AI_LABEL: 'no' }).label.aiLabel, false);
  assert.equal(loadConfig({}, { MENGTU_RISK_COPYRIGHT: 'false' }).safety.riskCopyright, false);
  assert.equal(loadConfig({}, { MENGTU_S3_FORCE_PATH_STYLE: '' }).s3.forcePathStyle, undefined);
  assert.equal(loadConfig({}, { MENGTU_QPS: '' }).limits.qps, 0);
  assert.throws(() => loadConfig({}, { MENGTU_IMAGE_RISK: 'sometimes' }), /MENGTU_IMAGE_RISK \(safety\.imageRisk\)/);
});

test('invalid values stop the start with every offending variable named', () => {
  assert.throws(
    () => loadConfig({}, { MENGTU_PORT: '70000', MENGTU_IMAGE_RISK_THRESHOLD: 'high', MENGTU_EXECUTION_PROVIDER: 'tpu' }),
    (e: unknown) =>
      e instanceof ConfigError && /MENGTU_PORT/.test(e.message) && /MENGTU_IMAGE_RISK_THRESHOLD/.test(e.message) && /MENGTU_EXECUTION_PROVIDER/.test(e.message),
  );
});

test('sections become factory options: S3, LLM, risk lists', () => {
  assert.equal(s3Options(loadConfig({}, {})), null);
  assert.deepEqual(s3Options(loadConfig({}, { MENGTU_S3_BUCKET: 'b', MENGTU_S3_ENDPOINT: 'http://m:9000', MENGTU_S3_FORCE_PATH_STYLE: '0' })), {
    bucket: 'b',
    region: 'us-east-1',
    endpoint: 'http://m:9000',
    forcePathStyle: false,
  });
  assert.equal(llmOptions(loadConfig({}, {})), null);
  assert.deepEqual(llmOptions(loadConfig({}, { MENGTU_LLM_BASE_URL: 'http://l/v1' })), { baseUrl: 'http://l/v1', model: 'gpt-4o-mini', timeoutMs: 8000 });
  assert.deepEqual(loadConfig({}, { MENGTU_RISK_LISTS_DIR: '/a, /b,' }).safety.riskListsDir, ['/a', '/b']);
});

test('default limits never refuse a client that waits for each answer', () => {
  const { limits } = loadConfig({}, {});
  assert.equal(limits.qps, 0, 'no rate a sequential client could exceed');
  assert.ok(limits.concurrency >= 2, 'a sync call and a GetResult poll may overlap');
});

test('docs/configuration.md carries exactly the schema’s tables', () => {
  const doc = readFileSync(new URL('docs/configuration.md', root), 'utf8');
  const start = doc.indexOf(CONFIG_DOCS_BEGIN);
  const end = doc.indexOf(CONFIG_DOCS_END);
  assert.ok(start >= 0 && end > start, 'markers present');
  assert.equal(doc.slice(start + CONFIG_DOCS_BEGIN.length, end).trim(), renderConfigDocs().trim(), 'run `npm run docs:config`');
});

test('no env name is documented that the schema lacks, and src reads no environment below the runtime', () => {
  const names = new Set(configSettings().map((s) => s.setting.env));
  assert.equal(names.size, configSettings().length, 'env names are unique');
  const notServer = new Set(['MENGTU_BENCH_MODEL', 'MENGTU_SPEC_DIR', 'MENGTU_FUZZ_SEED', 'MENGTU_FUZZ_COUNT']);
  const docs = ['README.md', ...readdirSync(new URL('docs', root)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  for (const f of docs) {
    const text = readFileSync(new URL(f, root), 'utf8');
    for (const m of text.matchAll(/\b(MENGTU_[A-Z0-9_]*[A-Z0-9]|HF_ENDPOINT|HF_TOKEN)\b/g)) {
      if (!notServer.has(m[1]!)) assert.ok(names.has(m[1]!), `${f} documents ${m[1]}, which the schema lacks`);
    }
  }
});

test('no module in the request path reads process.env (configuration is passed down)', () => {
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(new URL(dir, root), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.ts') && /process\.env\b/.test(readFileSync(new URL(rel, root), 'utf8'))) offenders.push(rel);
    }
  };
  // The engine's model cache (MENGTU_HOME, HF_*) is shared with `mengtu models`, which has no server config.
  for (const d of ['gateway', 'contract', 'jobs', 'tasks', 'pipeline', 'safety', 'storage']) {
    try {
      walk(`src/${d}`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  assert.deepEqual(offenders, []);
});

/**
 * The models' home is configuration (cfg.engine.home, read from MENGTU_HOME in src/runtime/config.ts) passed
 * down: the registry, the engine's TAESD lookup and the engine host use the home they are given, not the
 * process's MENGTU_HOME.
 */
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { listModels, resolveModel } from '../src/engine/registry.js';
import { withHome } from '../src/engine/home.js';
import { loadEngine } from '../src/engine/sampler.js';
import { buildTinyTaesd } from '../src/engine/tiny/build.js';
import { EngineHost } from '../src/jobs/engine-host.js';
import { loadConfig } from '../src/runtime/config.js';

let root: string;
let configured: string;
let ambient: string;
const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mengtu-home-'));
  configured = path.join(root, 'configured');
  ambient = path.join(root, 'ambient');
  await mkdir(path.join(ambient, 'models'), { recursive: true });
});
after(async () => rm(root, { recursive: true, force: true }));

describe('the configured models home', () => {
  it('is read from MENGTU_HOME, HF_ENDPOINT and HF_TOKEN by the configuration', () => {
    const cfg = loadConfig({}, { MENGTU_HOME: configured, HF_ENDPOINT: 'http://127.0.0.1:9/hub', HF_TOKEN: 'hf_x' });
    assert.deepEqual([cfg.engine.home, cfg.engine.hubEndpoint, cfg.engine.hubToken], [configured, 'http://127.0.0.1:9/hub', 'hf_x']);
  });

  it('decides where the registry builds, finds and lists models, whatever the environment says', async () => {
    const env = { MENGTU_HOME: ambient };
    const m = await resolveModel('tiny', { home: configured, env });
    assert.equal(m.dir, path.join(configured, 'models', 'tiny'));
    assert.ok(await exists(path.join(configured, 'models', 'tiny', 'unet', 'model.onnx')));
    assert.equal(await exists(path.join(ambient, 'models', 'tiny')), false);
    assert.equal((await resolveModel('tiny', { home: configured, env, pull: false })).dir, m.dir);
    await assert.rejects(resolveModel('tiny', { env, pull: false }), /not built yet/);
    const listed = (await listModels(withHome(configured, env))).find((x) => x.name === 'tiny')!;
    assert.deepEqual([listed.installed, listed.dir], [true, m.dir]);
    assert.equal((await listModels(env)).find((x) => x.name === 'tiny')!.installed, false);
  });

  it('is where the engine looks for an installed TAESD', async () => {
    await mkdir(path.join(configured, 'models'), { recursive: true });
    await buildTinyTaesd(path.join(configured, 'models', 'taesd'), { channels: 4 });
    const model = path.join(configured, 'models', 'tiny');
    const saved = process.env.MENGTU_HOME;
    process.env.MENGTU_HOME = ambient; // the default lookup would find nothing here
    try {
      const withTaesd = await loadEngine(model, { threads: 1, graphCache: false, home: configured, decoder: 'taesd' });
      await withTaesd.close();
      await assert.rejects(loadEngine(model, { threads: 1, graphCache: false, decoder: 'taesd' }), /no TAESD model is installed/);
    } finally {
      if (saved === undefined) delete process.env.MENGTU_HOME;
      else process.env.MENGTU_HOME = saved;
    }
  });

  it('is what the engine host resolves its model in (as createRuntime passes cfg.engine.home)', async () => {
    const saved = process.env.MENGTU_HOME;
    process.env.MENGTU_HOME = ambient;
    const host = new EngineHost({ model: 'tiny', pull: false, threads: 1, executionProvider: 'cpu', home: configured, log: pino({ level: 'silent' }), retry: false, role: 'cli' });
    try {
      const engine = await host.load();
      assert.equal(host.state, 'ready');
      assert.equal(engine.modelName, 'tiny');
    } finally {
      await host.close();
      if (saved === undefined) delete process.env.MENGTU_HOME;
      else process.env.MENGTU_HOME = saved;
    }
  });
});

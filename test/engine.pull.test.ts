import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { pullRepo, DownloadError, type ProgressEvent } from '../src/engine/download/index.js';
import { listModels, removeModel, resolveModel, pullModel } from '../src/engine/registry.js';

const REPO = 'acme/fake-sd-onnx';

/** A small model in the diffusers ONNX layout, plus files a pull must skip. */
const FILES: Record<string, Buffer> = {
  'model_index.json': Buffer.from(JSON.stringify({ _class_name: 'OnnxStableDiffusionPipeline' })),
  'text_encoder/model.onnx': randomBytes(20_000),
  'unet/model.onnx': randomBytes(300_000),
  'unet/weights.pb': randomBytes(200_000),
  'vae_decoder/model.onnx': randomBytes(50_000),
  'tokenizer/vocab.json': Buffer.from('{"a":0}'),
  'tokenizer/merges.txt': Buffer.from('#version: 0.2\n'),
  'scheduler/scheduler_config.json': Buffer.from(JSON.stringify({ _class_name: 'LCMScheduler' })),
  // Not needed by the engine:
  'unet/diffusion_pytorch_model.safetensors': randomBytes(1000),
  'vae_encoder/model.onnx': randomBytes(1000),
  'README.md': Buffer.from('# fake'),
};
const NEEDED = Object.keys(FILES).filter((f) => !/safetensors|README/.test(f));
const isLfs = (f: string): boolean => /\.(onnx|pb)$/.test(f);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Seen {
  method: string;
  url: string;
  range: string | undefined;
  auth: string | undefined;
}

const hub = {
  seen: [] as Seen[],
  dropOnce: new Set<string>(),
  corrupt: new Set<string>(),
  requireToken: undefined as string | undefined,
  apiDown: false,
  port: 0,
};

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  hub.seen.push({ method: req.method ?? '', url: url.pathname, range: req.headers.range, auth: req.headers.authorization });
  if (hub.requireToken && req.headers.authorization !== `Bearer ${hub.requireToken}`) {
    res.writeHead(401).end('unauthorized');
    return;
  }
  const api = new RegExp(`^/api/models/${REPO}/revision/([^/]+)$`).exec(url.pathname);
  if (api) {
    if (hub.apiDown) return void res.writeHead(404).end();
    const siblings = Object.entries(FILES).map(([rfilename, b]) =>
      isLfs(rfilename) ? { rfilename, size: b.length, lfs: { sha256: sha(b), size: b.length } } : { rfilename, size: b.length },
    );
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: REPO, siblings }));
    return;
  }
  const m = new RegExp(`^/${REPO}/resolve/main/(.+)$`).exec(url.pathname);
  const name = m ? decodeURIComponent(m[1]!) : '';
  let body = FILES[name];
  if (!body) return void res.writeHead(404).end('not found');
  const headers: Record<string, string | number> = { etag: `"${createHash('sha1').update(body).digest('hex')}"` };
  if (isLfs(name)) Object.assign(headers, { 'x-linked-size': body.length, 'x-linked-etag': `"${sha(body)}"` });
  if (req.method === 'HEAD') return void res.writeHead(200, { ...headers, 'content-length': body.length }).end();
  if (hub.corrupt.has(name)) {
    body = Buffer.from(body);
    body[body.length >> 1] = body[body.length >> 1]! ^ 0xff;
  }
  let start = 0;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (range) start = Number(range[1]);
  const chunk = body.subarray(start);
  res.writeHead(range ? 206 : 200, {
    ...headers,
    'content-length': chunk.length,
    ...(range ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
  });
  if (hub.dropOnce.has(name)) {
    hub.dropOnce.delete(name);
    // Send part of the body, then cut the connection.
    res.write(chunk.subarray(0, chunk.length >> 1), () => setTimeout(() => res.destroy(), 20));
    return;
  }
  res.end(chunk);
});

let home: string;
const savedEnv = { ...process.env };

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hub.port = (server.address() as AddressInfo).port;
});
after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  process.env = savedEnv;
});
beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'mengtu-pull-'));
  process.env.MENGTU_HOME = home;
  process.env.HF_ENDPOINT = `http://127.0.0.1:${hub.port}`;
  delete process.env.HF_TOKEN;
  delete process.env.HUGGING_FACE_HUB_TOKEN;
  hub.seen = [];
  hub.dropOnce.clear();
  hub.corrupt.clear();
  hub.requireToken = undefined;
  hub.apiDown = false;
});

async function assertInstalled(dir: string): Promise<void> {
  for (const f of NEEDED) assert.deepEqual(await fs.readFile(path.join(dir, f)), FILES[f], f);
  for (const f of ['unet/diffusion_pytorch_model.safetensors', 'README.md']) {
    await assert.rejects(fs.stat(path.join(dir, f)), `${f} should not be downloaded`);
  }
}

test('full pull of an owner/repo through HF_ENDPOINT; second resolve is offline', async () => {
  const events: ProgressEvent[] = [];
  const m = await resolveModel(REPO, { onProgress: (e) => events.push(e) });
  assert.equal(m.dir, path.join(home, 'models', 'acme--fake-sd-onnx'));
  await assertInstalled(m.dir);
  // LCM scheduler config → LCM defaults.
  assert.deepEqual(m.defaults, { steps: 4, guidanceScale: 1, scheduler: 'lcm', size: 512 });
  const total = NEEDED.reduce((s, f) => s + FILES[f]!.length, 0);
  const last = events[events.length - 1]!;
  assert.equal(last.total, total);
  assert.equal(last.totalBytes, total);
  assert.ok(events.some((e) => e.phase === 'data' && e.file === 'unet/model.onnx'));
  assert.ok(hub.seen.some((s) => s.url.startsWith('/api/models/')));
  const before = hub.seen.length;
  const again = await resolveModel(REPO, { pull: false });
  assert.equal(again.dir, m.dir);
  assert.equal(hub.seen.length, before, 'no network for an installed model');
});

test('a dropped connection is resumed with Range and the file is byte-identical', async () => {
  hub.dropOnce.add('unet/model.onnx');
  const m = await pullModel(REPO, { retryDelayMs: 0 });
  await assertInstalled(m.dir);
  const gets = hub.seen.filter((s) => s.method === 'GET' && s.url.endsWith('/unet/model.onnx'));
  assert.equal(gets.length, 2);
  assert.equal(gets[0]!.range, undefined);
  const offset = Number(/^bytes=(\d+)-$/.exec(gets[1]!.range ?? '')?.[1]);
  assert.ok(offset > 0 && offset < FILES['unet/model.onnx']!.length, `resumed at ${gets[1]!.range}`);
});

test('an interrupted pull leaves .incomplete; the next run resumes from it', async () => {
  const dir = path.join(home, 'models', 'manual');
  hub.dropOnce.add('unet/weights.pb');
  await assert.rejects(
    pullRepo({ repo: REPO, revision: 'main' }, dir, { retries: 0 }),
    (e: unknown) => e instanceof DownloadError && e.kind === 'network' && /unet\/weights\.pb/.test(e.message),
  );
  const partial = await fs.stat(path.join(dir, 'unet', 'weights.pb.incomplete'));
  assert.ok(partial.size > 0 && partial.size < FILES['unet/weights.pb']!.length);
  await assert.rejects(fs.stat(path.join(dir, 'unet', 'weights.pb')));
  hub.seen = [];
  await pullRepo({ repo: REPO, revision: 'main' }, dir, { retries: 0 });
  await assertInstalled(dir);
  const get = hub.seen.find((s) => s.method === 'GET' && s.url.endsWith('/unet/weights.pb'));
  assert.equal(get?.range, `bytes=${partial.size}-`);
  // Files finished in the first run are not fetched again.
  assert.ok(!hub.seen.some((s) => s.url.endsWith('/text_encoder/model.onnx')));
});

test('corrupted bytes fail the SHA-256 check, name the file and leave nothing behind', async () => {
  hub.corrupt.add('unet/model.onnx');
  const dir = path.join(home, 'models', 'acme--fake-sd-onnx');
  await assert.rejects(resolveModel(REPO), (e: unknown) => e instanceof DownloadError && e.kind === 'integrity' && /unet\/model\.onnx/.test(e.message) && /SHA-256/.test(e.message));
  await assert.rejects(fs.stat(path.join(dir, 'unet', 'model.onnx')));
  await assert.rejects(fs.stat(path.join(dir, 'unet', 'model.onnx.incomplete')));
  await assert.rejects(resolveModel(REPO, { pull: false }), /not installed.*mengtu models pull acme\/fake-sd-onnx/);
});

test('without the file-list API: standard layout via HEAD (X-Linked-Etag still verified)', async () => {
  hub.apiDown = true;
  const m = await pullModel(REPO);
  const got = await fs.readdir(path.join(m.dir, 'unet'));
  assert.deepEqual(got.sort(), ['model.onnx']); // weights.pb is not in the static list
  assert.ok(hub.seen.some((s) => s.method === 'HEAD'));
  await removeModel(REPO);
  hub.corrupt.add('vae_decoder/model.onnx');
  await assert.rejects(pullModel(REPO), (e: unknown) => e instanceof DownloadError && e.kind === 'integrity' && e.file === 'vae_decoder/model.onnx');
});

test('offline (closed port): a clear error naming the endpoint and HF_ENDPOINT', async () => {
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  process.env.HF_ENDPOINT = `http://127.0.0.1:${closedPort}`;
  await assert.rejects(resolveModel('sd-turbo'), (e: unknown) => {
    assert.ok(e instanceof DownloadError && e.kind === 'network');
    assert.match(e.message, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${closedPort}: ECONNREFUSED`));
    assert.match(e.message, /HF_ENDPOINT/);
    assert.match(e.message, new RegExp(path.join(home, 'models', 'sd-turbo').replace(/[.\\]/g, '\\$&')));
    return true;
  });
});

test('HF_TOKEN is sent as a Bearer token; without it a 401 explains HF_TOKEN', async () => {
  hub.requireToken = 'hf_secret';
  await assert.rejects(pullModel(REPO), (e: unknown) => e instanceof DownloadError && e.kind === 'auth' && /HF_TOKEN/.test(e.message));
  hub.seen = [];
  process.env.HF_TOKEN = 'hf_secret';
  const m = await pullModel(REPO);
  await assertInstalled(m.dir);
  assert.ok(hub.seen.length > 0 && hub.seen.every((s) => s.auth === 'Bearer hf_secret'));
});

test('a repo without the ONNX layout is refused with the missing files named', async () => {
  await assert.rejects(pullRepo({ repo: REPO, revision: 'main', subfolder: 'tokenizer' }, path.join(home, 'x')), /not a diffusers ONNX model: missing text_encoder\/model\.onnx/);
});

test('list shows registry entries and installed models with sizes; rm deletes', async () => {
  await pullModel(REPO);
  const list = await listModels();
  for (const n of ['sd-turbo', 'lcm-dreamshaper-v7', 'sd15', 'tiny']) assert.ok(list.some((m) => m.name === n && m.inRegistry), n);
  const turbo = list.find((m) => m.name === 'sd-turbo')!;
  assert.equal(turbo.installed, false);
  assert.deepEqual(turbo.defaults, { steps: 1, guidanceScale: 0, scheduler: 'euler', size: 512 });
  const mine = list.find((m) => m.repo === REPO)!;
  assert.equal(mine.installed, true);
  const payload = NEEDED.reduce((s, f) => s + FILES[f]!.length, 0);
  assert.ok(mine.sizeBytes >= payload && mine.sizeBytes < payload + 4096, `size ${mine.sizeBytes}`);
  const removed = await removeModel(REPO);
  assert.equal(removed, path.join(home, 'models', 'acme--fake-sd-onnx'));
  await assert.rejects(fs.stat(removed));
  assert.ok(!(await listModels()).some((m) => m.repo === REPO));
  await assert.rejects(removeModel(REPO), /not installed/);
  await assert.rejects(removeModel('../etc'), /unknown model/);
});

test('a local model directory is used as-is; a non-model directory is refused', async () => {
  const dir = path.join(home, 'mine');
  await pullRepo({ repo: REPO, revision: 'main' }, dir);
  hub.seen = [];
  const m = await resolveModel(dir);
  assert.equal(m.dir, dir);
  assert.equal(m.defaults.scheduler, 'lcm');
  assert.equal(hub.seen.length, 0);
  await assert.rejects(resolveModel(home), /not a model directory/);
  await assert.rejects(resolveModel('no-such-model'), /unknown model "no-such-model": not a registry name \(sd-turbo, /);
  await assert.rejects(resolveModel('./nowhere'), /not a model directory/);
});

test('tiny is built locally, never downloaded', async () => {
  const m = await resolveModel('tiny');
  assert.equal(m.dir, path.join(home, 'models', 'tiny'));
  await fs.stat(path.join(m.dir, 'unet', 'model.onnx'));
  assert.equal(hub.seen.length, 0);
  const list = await listModels();
  const tiny = list.find((x) => x.name === 'tiny')!;
  assert.ok(tiny.installed && tiny.sizeBytes > 0);
  assert.equal((await resolveModel('tiny', { pull: false })).dir, m.dir);
});

test('a decoder-layout repo (TAESD: vae_decoder/ only) pulls with the decoder layout and is refused as a pipeline', async () => {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'mengtu-pull-decoder-'));
  try {
    // The fake repo has vae_decoder/model.onnx: enough for the decoder layout, not for a pipeline without it.
    const m = await pullRepo({ repo: REPO, revision: 'main', layout: 'decoder' }, path.join(home, 'taesd'), { endpoint: `http://127.0.0.1:${hub.port}` });
    assert.ok(m.files.some((f) => f.path === 'vae_decoder/model.onnx'));
    await assert.rejects(resolveModel('taesd', { env: { MENGTU_HOME: home }, pull: false }), /latent decoder/);
  } finally {
    await fs.rm(home, { recursive: true, force: true });
  }
});

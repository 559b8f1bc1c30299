/**
 * The server's engine runs on a worker thread of its own (onnxruntime computes on the calling thread). It must
 * be the same engine seen from outside: the same pixels for the same request, every step reported in order
 * before the result, previews asked per step, an abort that stops the request, the error classes kept.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EngineError } from '../src/contract/errors.js';
import { loadEngine, type Engine, type StepInfo } from '../src/engine/index.js';
import { buildTinyModel } from '../src/engine/tiny/build.js';
import { loadEngineThread, type ThreadedEngine } from '../src/pipeline/offload/engine-thread.js';

let dir: string;
let local: Engine;
let threaded: ThreadedEngine;
before(async () => {
  dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'mengtu-engine-thread-')), 'tiny');
  await buildTinyModel(dir);
  local = await loadEngine(dir, { name: 'tiny', threads: 1 });
  threaded = await loadEngineThread(dir, { name: 'tiny', threads: 1 });
});
after(async () => {
  await local?.close();
  await threaded?.close();
});

test('engine thread: the same picture and record as in-process, steps in order before the result', async () => {
  assert.equal(threaded.modelName, local.modelName);
  assert.equal(threaded.img2img, local.img2img);
  assert.equal(threaded.nativeSize, local.nativeSize);
  const req = { prompt: 'a lighthouse at dawn', negativePrompt: 'blurry', width: 136, height: 96, seed: 7, steps: 4 };
  const a = await local.generate(req);
  const steps: StepInfo[] = [];
  const asked: Array<[number, number]> = [];
  const b = await threaded.generate({
    ...req,
    onStep: (s) => steps.push(s),
    // Previews on even steps only: asked synchronously by the sampler before it decodes one.
    previews: (step, total) => (asked.push([step, total]), step % 2 === 0),
  });
  assert.deepEqual([b.image.width, b.image.height], [136, 96]);
  assert.deepEqual(Buffer.from(b.image.data), Buffer.from(a.image.data), 'same pixels');
  assert.deepEqual({ ...b, image: null, timings: null }, { ...a, image: null, timings: null });
  assert.deepEqual(steps.map((s) => s.step), [1, 2, 3, 4], 'every step, in order, before the result');
  assert.ok(steps.every((s) => s.totalSteps === 4 && s.latents.data.length === 4 * 12 * 17));
  assert.deepEqual(asked, [[1, 4], [2, 4], [3, 4]], 'asked before each step but the last');
  assert.deepEqual(steps.map((s) => s.preview !== undefined), [false, true, false, false]);
  assert.equal(threaded.completed, 1);
});

test('engine thread: an abort stops the request with the caller\'s reason; errors keep their class', async () => {
  const ac = new AbortController();
  const reason = new Error('client went away');
  let last = 0;
  // Aborted while the thread waits for the preview answer of step 2, so the abort is there before step 3 runs.
  const p = threaded.generate({ prompt: 'x', width: 64, height: 64, seed: 1, steps: 50, signal: ac.signal, onStep: (s) => void (last = s.step), previews: (step) => {
    if (step === 2) ac.abort(reason);
    return false;
  } });
  await assert.rejects(p, (e: unknown) => e === reason);
  assert.ok(last < 10, `stopped soon after the abort (last step ${last})`);
  // A request the engine refuses: the same EngineError (code 50501) the in-process engine throws.
  await assert.rejects(threaded.generate({ prompt: 'x', width: 5000, height: 64, seed: 1 }), (e: unknown) => e instanceof EngineError && /width must be an integer/.test(e.message));
  // The thread still serves after both.
  assert.equal((await threaded.generate({ prompt: 'x', width: 64, height: 64, seed: 2, steps: 2 })).image.width, 64);
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EngineError } from '../src/contract/errors.js';
import { loadEngine } from '../src/engine/sampler.js';
import { buildTinyModel, ensureTinyModel } from '../src/engine/tiny/build.js';
import type { Engine, GenerateRequest, RawImage, SchedulerName, StepInfo } from '../src/engine/types.js';

let root: string;
let engine: Engine;
let fp16: Engine;
let unbatched: Engine;
let lcm: Engine;
let fp16FloatTs: Engine;

const base: GenerateRequest = { prompt: 'a photo of a cat in a garden', width: 64, height: 64, seed: 1234, steps: 3, guidanceScale: 5 };

function maxDiff(a: RawImage, b: RawImage): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

function sameBytes(a: RawImage, b: RawImage): boolean {
  return Buffer.from(a.data.buffer, a.data.byteOffset, a.data.length).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.length));
}

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mengtu-pipeline-'));
  process.env.MENGTU_HOME = root;
  const tiny = await ensureTinyModel();
  const fp16Dir = path.join(root, 'fp16');
  const fixedDir = path.join(root, 'fixed-batch');
  await buildTinyModel(fp16Dir, { fp16: true, timestep: 'int64' });
  await buildTinyModel(fixedDir, { fixedBatch: true });
  await buildTinyModel(path.join(root, 'lcm'), { timestepCondDim: 256 });
  await buildTinyModel(path.join(root, 'fp16-float-ts'), { fp16: true, timestep: 'float' });
  lcm = await loadEngine(path.join(root, 'lcm'), { threads: 2, defaults: { steps: 4, guidanceScale: 8, scheduler: 'lcm' } });
  fp16FloatTs = await loadEngine(path.join(root, 'fp16-float-ts'), { threads: 2 });
  engine = await loadEngine(tiny, { name: 'tiny', threads: 2, defaults: { steps: 2, guidanceScale: 0, scheduler: 'euler' } });
  fp16 = await loadEngine(fp16Dir, { threads: 2 });
  unbatched = await loadEngine(fixedDir, { threads: 2 });
});

after(async () => {
  await Promise.all([engine.close(), fp16.close(), unbatched.close(), lcm.close(), fp16FloatTs.close()]);
  await rm(root, { recursive: true, force: true });
});

describe('generate on the tiny model', () => {
  it('renders 256×256 RGBA with opaque alpha', async () => {
    const out = await engine.generate({ ...base, width: 256, height: 256 });
    assert.equal(out.image.width, 256);
    assert.equal(out.image.height, 256);
    assert.equal(out.image.data.length, 256 * 256 * 4);
    for (let i = 3; i < out.image.data.length; i += 4) assert.equal(out.image.data[i], 255);
    assert.ok(new Set(out.image.data).size > 50, 'not a flat image');
    assert.equal(engine.modelName, 'tiny');
  });

  it('sizes that are not multiples of 8 come out at exactly the requested size', async () => {
    for (const [w, h] of [
      [320, 200],
      [100, 75],
      [17, 9],
    ] as const) {
      const out = await engine.generate({ ...base, width: w, height: h });
      assert.deepEqual([out.image.width, out.image.height, out.image.data.length], [w, h, w * h * 4]);
    }
  });

  it('is deterministic: same seed, prompt and parameters give byte-identical pixels', async () => {
    const a = await engine.generate(base);
    const b = await engine.generate(base);
    assert.ok(sameBytes(a.image, b.image));
  });

  it('different seeds, prompts and negative prompts give different pixels', async () => {
    const a = await engine.generate(base);
    assert.ok(!sameBytes(a.image, (await engine.generate({ ...base, seed: 1235 })).image), 'seed');
    assert.ok(!sameBytes(a.image, (await engine.generate({ ...base, prompt: 'a red car at night' })).image), 'prompt');
    assert.ok(!sameBytes(a.image, (await engine.generate({ ...base, negativePrompt: 'blurry, dark' })).image), 'negative prompt');
  });

  it('guidance ≤ 1 skips the unconditional pass, so the negative prompt has no effect', async () => {
    const a = await engine.generate({ ...base, guidanceScale: 1, negativePrompt: 'blurry' });
    const b = await engine.generate({ ...base, guidanceScale: 1, negativePrompt: 'something else entirely' });
    assert.ok(sameBytes(a.image, b.image));
    // Were guidance 0 applied as CFG it would give the unconditional (negative-prompt) prediction.
    const zero = await engine.generate({ ...base, guidanceScale: 0, negativePrompt: 'blurry' });
    assert.ok(sameBytes(a.image, zero.image));
    const c = await engine.generate({ ...base, guidanceScale: 7, negativePrompt: 'blurry' });
    assert.ok(!sameBytes(a.image, c.image));
  });

  it('runs every scheduler, reporting each step', async () => {
    const images: RawImage[] = [];
    for (const scheduler of ['euler', 'euler_a', 'ddim', 'lcm'] as SchedulerName[]) {
      const steps: StepInfo[] = [];
      const out = await engine.generate({ ...base, steps: 4, scheduler, onStep: (s) => steps.push(s) });
      assert.equal(out.scheduler, scheduler);
      assert.equal(out.steps, 4);
      assert.deepEqual(
        steps.map((s) => [s.step, s.totalSteps]),
        [1, 2, 3, 4].map((i) => [i, 4]),
      );
      assert.ok(steps.every((s, i) => i === 0 || s.elapsedMs >= steps[i - 1]!.elapsedMs));
      images.push(out.image);
    }
    for (let i = 1; i < images.length; i++) assert.ok(!sameBytes(images[0]!, images[i]!), `scheduler ${i} differs from euler`);
  });

  it('uses the load-time defaults when the request leaves steps/guidance/scheduler out', async () => {
    const out = await engine.generate({ prompt: 'x', width: 32, height: 32, seed: 7 });
    assert.equal(out.steps, 2);
    assert.equal(out.guidanceScale, 0);
    assert.equal(out.scheduler, 'euler');
    assert.equal(out.negativePrompt, '');
    assert.equal(out.seed, 7);
  });

  it('reports timings', async () => {
    const out = await engine.generate({ ...base, steps: 2 });
    const t = out.timings;
    assert.ok(t.textEncoderMs > 0 && t.unetMs > 0 && t.vaeMs > 0);
    assert.ok(Math.abs(t.unetMsPerStep - t.unetMs / 2) < 1e-9);
    assert.ok(t.totalMs >= t.textEncoderMs + t.unetMs + t.vaeMs);
  });

  it('honours an AbortSignal between steps', async () => {
    const ac = new AbortController();
    let seen = 0;
    await assert.rejects(
      engine.generate({
        ...base,
        steps: 5,
        signal: ac.signal,
        onStep: () => {
          seen++;
          ac.abort();
        },
      }),
      (err: unknown) => err instanceof Error && err.name === 'AbortError',
    );
    assert.equal(seen, 1);
    const pre = AbortSignal.abort();
    await assert.rejects(engine.generate({ ...base, signal: pre }), (err: unknown) => err instanceof Error && err.name === 'AbortError');
  });

  it('rejects sizes it cannot render with an EngineError', async () => {
    await assert.rejects(engine.generate({ ...base, width: 0 }), EngineError);
    await assert.rejects(engine.generate({ ...base, height: 10.5 }), EngineError);
  });

  it('runs concurrent requests on the shared sessions with the same results as serial ones', async () => {
    const reqs = [1, 2, 3].map((seed) => ({ ...base, seed }));
    const serial: RawImage[] = [];
    for (const r of reqs) serial.push((await engine.generate(r)).image);
    const parallel = await Promise.all(reqs.map((r) => engine.generate(r)));
    parallel.forEach((p, i) => assert.ok(sameBytes(p.image, serial[i]!)));
  });
});

describe('graph variants', () => {
  it('an fp16 model (float16 I/O, int64 timestep) gives nearly the fp32 picture', async () => {
    const req = { ...base, width: 96, height: 80 };
    const a = await engine.generate(req);
    const b = await fp16.generate(req);
    assert.equal(b.image.data.length, 96 * 80 * 4);
    const d = maxDiff(a.image, b.image);
    assert.ok(d <= 6, `max channel difference ${d}`);
    assert.ok(sameBytes(b.image, (await fp16.generate(req)).image), 'fp16 path is deterministic too');
  });

  it('an fp16 model with a float16 [batch] timestep works too', async () => {
    const req = { ...base, width: 48, height: 40 };
    const d = maxDiff((await engine.generate(req)).image, (await fp16FloatTs.generate(req)).image);
    assert.ok(d <= 6, `max channel difference ${d}`);
  });

  it('an LCM UNet (timestep_cond) gets guidance as an embedding and no unconditional pass', async () => {
    const a = await lcm.generate({ ...base, guidanceScale: 8, negativePrompt: 'one thing' });
    const b = await lcm.generate({ ...base, guidanceScale: 8, negativePrompt: 'another thing' });
    assert.ok(sameBytes(a.image, b.image), 'negative prompt unused');
    const c = await lcm.generate({ ...base, guidanceScale: 2, negativePrompt: 'one thing' });
    assert.ok(!sameBytes(a.image, c.image), 'guidance reaches the UNet through timestep_cond');
  });

  it('a fixed batch-1 UNet runs guidance as two passes with the same result as one batch-2 pass', async () => {
    const a = await engine.generate(base);
    const b = await unbatched.generate(base);
    assert.ok(maxDiff(a.image, b.image) <= 1, `max channel difference ${maxDiff(a.image, b.image)}`);
  });

  it('close() lets running requests finish, then refuses work', async () => {
    const tmp = await loadEngine(await ensureTinyModel(), { threads: 1 });
    const running = tmp.generate({ ...base, steps: 6 });
    await tmp.close();
    assert.equal((await running).image.data.length, 64 * 64 * 4);
    await assert.rejects(tmp.generate(base), EngineError);
  });
});

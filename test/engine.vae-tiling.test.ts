import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadEngine } from '../src/engine/sampler.js';
import { buildTinyModel } from '../src/engine/tiny/build.js';
import { createRng } from '../src/engine/rng.js';
import { decodeTiled, needsTiling, tileOrigins } from '../src/engine/vae-tiling.js';

/** A pointwise "decoder": each latent pixel becomes an f×f block; RGB = linear mixes of the channels. */
function pointwise(f: number) {
  return async (tile: Float32Array, h: number, w: number): Promise<Float32Array> => {
    const H = h * f;
    const W = w * f;
    const out = new Float32Array(3 * H * W);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const i = Math.floor(y / f) * w + Math.floor(x / f);
          out[(c * H + y) * W + x] = tile[i]! * (c + 1) - tile[h * w + i]!;
        }
      }
    }
    return out;
  };
}

describe('tileOrigins', () => {
  it('covers the whole side with equal tiles, the last ending at the border, each overlap at least the asked one', () => {
    for (const [size, tile, overlap] of [
      [128, 64, 16],
      [100, 64, 16],
      [256, 64, 16],
      [65, 64, 8],
    ] as const) {
      const o = tileOrigins(size, tile, overlap);
      assert.equal(o[0], 0);
      assert.equal(o.at(-1)! + tile, size);
      for (let i = 1; i < o.length; i++) assert.ok(o[i - 1]! + tile - o[i]! >= overlap, `${size}: overlap at ${i}`);
    }
    assert.deepEqual(tileOrigins(40, 64, 16), [0]);
  });

  it('tiles only latents larger than a tile', () => {
    assert.equal(needsTiling(64, 64, { tile: 64, overlap: 16 }), false);
    assert.equal(needsTiling(64, 65, { tile: 64, overlap: 16 }), true);
  });
});

describe('decodeTiled', () => {
  it('reproduces a pointwise decoder exactly (blending weights sum to one everywhere)', async () => {
    const h = 40;
    const w = 56;
    const lat = createRng(3).normal(4 * h * w);
    const whole = await pointwise(8)(lat, h, w);
    const tiled = await decodeTiled(lat, 4, h, w, pointwise(8), { tile: 16, overlap: 4 });
    assert.equal(tiled.height, h * 8);
    assert.equal(tiled.width, w * 8);
    let max = 0;
    for (let i = 0; i < whole.length; i++) max = Math.max(max, Math.abs(whole[i]! - tiled.data[i]!));
    assert.ok(max < 1e-5, `max difference ${max}`);
  });

  it('feeds each tile its own window of the latents', async () => {
    const h = 24;
    const w = 24;
    const lat = new Float32Array(4 * h * w);
    for (let i = 0; i < lat.length; i++) lat[i] = i;
    const seen: number[] = [];
    await decodeTiled(lat, 4, h, w, async (t, th, tw) => {
      assert.deepEqual([th, tw], [16, 16]);
      seen.push(t[0]!);
      return new Float32Array(3 * th * tw);
    }, { tile: 16, overlap: 8 });
    // Origins 0 and 8 on both axes: top-left latent of each tile.
    assert.deepEqual(seen, [0, 8, 8 * w, 8 * w + 8]);
  });

  it('rejects an overlap as large as the tile', async () => {
    await assert.rejects(decodeTiled(new Float32Array(4 * 64), 4, 8, 8, pointwise(1), { tile: 4, overlap: 4 }), RangeError);
  });
});

describe('tiled decoding on the tiny model', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'mengtu-tiles-'));
    await buildTinyModel(root);
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('agrees with the whole-image decode within 16/255 per channel and 0.3/255 on average (32-latent tiles, ¼ overlap)', async () => {
    const tiled = await loadEngine(root, { threads: 1, graphCache: false, vaeTiling: { tile: 32, overlap: 8 } });
    const whole = await loadEngine(root, { threads: 1, graphCache: false, vaeTiling: false });
    try {
      for (const [width, height] of [
        [384, 384],
        [520, 264],
      ] as const) {
        const req = { prompt: 'a lighthouse at dusk', width, height, seed: 11, steps: 2, guidanceScale: 0 };
        const a = (await tiled.generate(req)).image;
        const b = (await whole.generate(req)).image;
        assert.deepEqual([a.width, a.height], [width, height]);
        let max = 0;
        let sum = 0;
        for (let i = 0; i < a.data.length; i++) {
          const d = Math.abs(a.data[i]! - b.data[i]!);
          max = Math.max(max, d);
          sum += d;
        }
        assert.ok(max <= 16, `${width}×${height}: max difference ${max}`);
        assert.ok(sum / a.data.length <= 0.3, `${width}×${height}: mean difference ${sum / a.data.length}`);
        assert.ok(sum > 0, 'tiles really were decoded separately');
      }
    } finally {
      await Promise.all([tiled.close(), whole.close()]);
    }
  });
});

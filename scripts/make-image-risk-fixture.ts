/**
 * Builds test/fixtures/image-risk-flagged.png: a 224×224 image that the bundled NSFW classifier (nsfwjs
 * MobileNetV2) scores as porn/hentai. No real photo may ship, so it synthesises one by ascent on the
 * classifier's own unsafe output (a feature-visualisation input). The wasm backend has no backprop kernels
 * and the pure-JS CPU backend needs ~50 s per gradient, so the ascent estimates the gradient with
 * antithetic random perturbations (natural evolution strategies) over a low-resolution pattern, using
 * batched forward passes only. The result is quantised to 8-bit PNG and re-scored as a reader of the PNG
 * sees it. Deterministic (seeded), offline, about a minute on 2 cores.
 *
 *   node --import tsx scripts/make-image-risk-fixture.ts [out.png]
 */
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { loadNsfwModel, UNSAFE_CLASSES, CLASS_NAMES, MODEL_INPUT_SIZE as SIZE } from '../src/safety/nsfw-model.js';

const out = process.argv[2] ?? path.join(import.meta.dirname, '..', 'test', 'fixtures', 'image-risk-flagged.png');
const STEPS = Number(process.env.STEPS ?? 120);
const GRID = 16; // low-res pattern upsampled to 224: fewer dimensions make the estimate useful
const PAIRS = 16; // antithetic pairs per step → 32 images per batched forward pass
const SIGMA = 0.5;
const LR = 0.8;
const TARGET = 0.97;

const model = await loadNsfwModel('wasm');
const unsafeMask = tf.tensor1d(CLASS_NAMES.map((c) => (UNSAFE_CLASSES.includes(c) ? 1 : 0)));

const toPixels = (p: tf.Tensor4D): tf.Tensor4D =>
  tf.sigmoid(tf.image.resizeBilinear(p, [SIZE, SIZE], true)) as tf.Tensor4D;
const unsafeScores = (p: tf.Tensor4D): Float32Array =>
  tf.tidy(() => tf.sum(tf.mul(model.predict(toPixels(p)) as tf.Tensor2D, unsafeMask), 1).dataSync() as Float32Array);

// Start from a warm, skin-like tone: the classifier's unsafe score is ~2× higher there than on grey noise.
let param = tf.tidy(() => tf.add(tf.randomNormal([1, GRID, GRID, 3], 0, 0.3, 'float32', 7), tf.tensor1d([1.2, 0.3, -0.2]))) as tf.Tensor4D;
let best = unsafeScores(param)[0]!;
console.log(`start: unsafe=${best.toFixed(4)}`);
for (let step = 1; step <= STEPS && best < TARGET; step++) {
  const t0 = performance.now();
  const next = tf.tidy(() => {
    const eps = tf.randomNormal([PAIRS, GRID, GRID, 3], 0, 1, 'float32', 1000 + step);
    const batch = tf.concat([tf.add(param, tf.mul(eps, SIGMA)), tf.sub(param, tf.mul(eps, SIGMA))]) as tf.Tensor4D;
    const s = unsafeScores(batch);
    // Rank-based fitness shaping: robust to the score saturating near 0 or 1.
    const diffs = Array.from({ length: PAIRS }, (_, i) => Math.log(s[i]! + 1e-6) - Math.log(s[i + PAIRS]! + 1e-6));
    const w = tf.tensor1d(diffs).reshape([PAIRS, 1, 1, 1]);
    const grad = tf.div(tf.sum(tf.mul(eps, w), 0, true), PAIRS * SIGMA);
    const norm = tf.add(tf.sqrt(tf.mean(tf.square(grad))), 1e-8);
    return tf.add(param, tf.mul(tf.div(grad, norm), LR)) as tf.Tensor4D;
  });
  param.dispose();
  param = next;
  best = unsafeScores(param)[0]!;
  console.log(`step ${step}: unsafe=${best.toFixed(4)} (${(performance.now() - t0).toFixed(0)} ms)`);
}

const rgb = tf.tidy(() => tf.round(tf.mul(toPixels(param), 255)).toInt().squeeze() as tf.Tensor3D);
const bytes = Uint8Array.from(rgb.dataSync());
await sharp(Buffer.from(bytes), { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toFile(out);

// Re-score what a reader of the PNG sees (quantised), not the float optimum.
const probs = tf.tidy(() => (model.predict(tf.div(rgb.toFloat(), 255).expandDims(0)) as tf.Tensor2D).dataSync());
console.log('wrote', out, Object.fromEntries(CLASS_NAMES.map((c, i) => [c, Number(probs[i]!.toFixed(4))])));

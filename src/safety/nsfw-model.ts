/**
 * Loads the NSFW classifier that ships inside the `nsfwjs` npm package (MobileNetV2, 224×224 RGB in [0,1],
 * softmax over five classes) straight from node_modules — no network — onto TensorFlow.js' WebAssembly
 * backend, whose .wasm binaries also ship in their package. The pure-JS CPU backend is ~15× slower.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { CvError } from '../contract/errors.js';
import type { RawImage } from '../engine/types.js';
import type { ImageRiskScores } from './image-risk.js';

/** Output order of the bundled model. */
export const CLASS_NAMES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'] as const;
export type NsfwClass = (typeof CLASS_NAMES)[number];
/** The classes whose probabilities add up to the "unsafe" score. */
export const UNSAFE_CLASSES: readonly NsfwClass[] = ['Porn', 'Hentai'];
export const MODEL_INPUT_SIZE = 224;

export type TfBackend = 'wasm' | 'cpu';

const require = createRequire(import.meta.url);
/**
 * The package's model files: browserify bundles (model.min.js, group1-shard*.min.js) that export the model JSON
 * and the base64 weights. They are required directly: through the package's own loaders (`import()`, or the
 * CommonJS build's `__importStar`) the 3.5 MB weight string is copied property by property, one per character,
 * which took 20–50 s (the classifier thread waited that long at start); a plain `require` takes 0.2–0.6 s.
 */
function modelDir(): string {
  // …/nsfwjs/dist/cjs/models/mobilenet_v2.js → …/nsfwjs/dist/models/mobilenet_v2/
  return path.join(path.dirname(require.resolve('nsfwjs/models/mobilenet_v2')), '..', '..', 'models', 'mobilenet_v2');
}
// Production mode: skips debug checks and the "install tfjs-node" banner (tfjs-node needs a native
// download at install time, which this deployment does not allow).
tf.env().set('PROD', true);
let backendReady: Promise<void> | undefined;
let backendName: TfBackend | undefined;

/** Selects the tfjs backend once per process (tfjs keeps it global). */
export function initBackend(backend: TfBackend = 'wasm'): Promise<void> {
  if (backendReady) {
    if (backendName !== backend) return backendReady.then(() => selectBackend(backend));
    return backendReady;
  }
  backendName = backend;
  backendReady = selectBackend(backend);
  return backendReady;
}

async function selectBackend(backend: TfBackend): Promise<void> {
  if (backend === 'wasm') {
    const dir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    setWasmPaths(dir);
  }
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`tfjs backend "${backend}" failed to initialise`);
  await tf.ready();
  backendName = backend;
}

interface NsfwModelJson {
  modelTopology: {};
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: tf.io.WeightsManifestConfig;
}

/** An in-memory IOHandler over the package's bundled model JSON and base64 weight shards. */
async function bundledArtifacts(): Promise<tf.io.ModelArtifacts> {
  const dir = modelDir();
  const json = require(path.join(dir, 'model.min.js')) as NsfwModelJson;
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const file = path.join(dir, `${p}.min.js`);
      const base64: unknown = require(file);
      delete require.cache[file]; // the decoded bytes are all that is kept
      if (typeof base64 !== 'string') throw new Error(`nsfw model: weight shard ${p} is not a base64 string`);
      parts.push(Buffer.from(base64, 'base64'));
    }
    specs.push(...group.weights);
  }
  const total = parts.reduce((n, b) => n + b.length, 0);
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const b of parts) {
    weightData.set(b, off);
    off += b.length;
  }
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    weightSpecs: specs,
    weightData: weightData.buffer,
  };
}

/** Loads the classifier; `predict([N,224,224,3] in [0,1]) → [N,5]` probabilities in CLASS_NAMES order. */
export async function loadNsfwModel(backend: TfBackend = 'wasm'): Promise<tf.LayersModel> {
  await initBackend(backend);
  const artifacts = await bundledArtifacts();
  const model = await tf.loadLayersModel({ load: async () => artifacts });
  tf.tidy(() => model.predict(tf.zeros([1, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3])));
  return model;
}

let modelPromise: Promise<tf.LayersModel> | undefined;

/** RGBA bytes → [1, 224, 224, 3] floats in [0, 1] (bilinear, as nsfwjs feeds the classifier). */
function toInput(image: RawImage): tf.Tensor4D {
  const { width, height, data } = image;
  const rgb = new Float32Array(width * height * 3);
  for (let i = 0, j = 0; i < data.length; i += 4, j += 3) {
    rgb[j] = data[i]! / 255;
    rgb[j + 1] = data[i + 1]! / 255;
    rgb[j + 2] = data[i + 2]! / 255;
  }
  return tf.tidy(() => {
    const t = tf.tensor4d(rgb, [1, height, width, 3]);
    return width === MODEL_INPUT_SIZE && height === MODEL_INPUT_SIZE
      ? t
      : tf.image.resizeBilinear(t, [MODEL_INPUT_SIZE, MODEL_INPUT_SIZE], true);
  });
}

/** The classifier in this thread (one model per thread: tfjs state is global and the weights read-only). */
export async function loadNsfwClassifier(backend: TfBackend = 'wasm'): Promise<(image: RawImage) => Promise<ImageRiskScores>> {
  modelPromise ??= loadNsfwModel(backend);
  let model: tf.LayersModel;
  try {
    model = await modelPromise;
  } catch (err) {
    modelPromise = undefined;
    throw err;
  }
  return async (image) => {
    if (image.data.length !== image.width * image.height * 4) {
      throw new CvError(50500, undefined, { logDetail: `image risk: RGBA buffer size mismatch ${image.width}x${image.height}` });
    }
    const t0 = performance.now();
    const out = tf.tidy(() => model.predict(toInput(image)) as tf.Tensor2D);
    const probs = await out.data();
    out.dispose();
    const scores: Record<string, number> = {};
    CLASS_NAMES.forEach((c, i) => (scores[c] = probs[i]!));
    const unsafeScore = UNSAFE_CLASSES.reduce((s, c) => s + scores[c]!, 0);
    return { scores, unsafeScore, ms: performance.now() - t0 };
  };
}

/**
 * Loads the NSFW classifier that ships inside the `nsfwjs` npm package (MobileNetV2, 224×224 RGB in [0,1],
 * softmax over five classes) straight from node_modules — no network — onto TensorFlow.js' WebAssembly
 * backend, whose .wasm binaries also ship in their package. The pure-JS CPU backend is ~15× slower.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { MobileNetV2Model } from 'nsfwjs/models/mobilenet_v2';

/** Output order of the bundled model. */
export const CLASS_NAMES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'] as const;
export type NsfwClass = (typeof CLASS_NAMES)[number];
/** The classes whose probabilities add up to the "unsafe" score. */
export const UNSAFE_CLASSES: readonly NsfwClass[] = ['Porn', 'Hentai'];
export const MODEL_INPUT_SIZE = 224;

export type TfBackend = 'wasm' | 'cpu';

const require = createRequire(import.meta.url);
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

/** nsfwjs 4.3's declaration files import '../core' without an extension, so under NodeNext its types are lost. */
type WeightBundle = () => Promise<{ default: string }>;

/** An in-memory IOHandler over the package's bundled model JSON and base64 weight shards. */
async function bundledArtifacts(): Promise<tf.io.ModelArtifacts> {
  const json = (await MobileNetV2Model.modelJson()).default;
  const shards = await Promise.all(MobileNetV2Model.weightBundles.map(async (load: WeightBundle) => (await load()).default));
  const byName = new Map<string, Uint8Array>();
  MobileNetV2Model.weightBundles.forEach((_: WeightBundle, i: number) => {
    byName.set(`group1-shard${i + 1}of${MobileNetV2Model.numOfWeightBundles}`, Buffer.from(shards[i]!, 'base64'));
  });
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const data = byName.get(p);
      if (!data) throw new Error(`nsfw model: missing weight shard ${p}`);
      parts.push(data);
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

/**
 * Writes a tiny random-weight Stable Diffusion model (diffusers ONNX layout) for tests and benchmarks.
 *   npm run tiny-model -- <dir> [--fp16] [--int64-timestep] [--fixed-batch] [--external-data] [--sd1-pad] [--lcm] [--no-vae-encoder]
 *   npm run tiny-model -- <dir> --sdxl [--fp16] [--int64-timestep] [--fixed-batch] [--external-data]   (SDXL signatures)
 *   npm run tiny-model -- --kind sd-turbo-class <dir>   the real SD 2.1 / SD-Turbo graphs with random weights
 *                                                       (865.9 M-parameter UNet, 4.9 GB; src/engine/tiny/sd-turbo-class.ts)
 * Without <dir>: builds (once) into <MENGTU_HOME>/models/tiny (or tiny-sdxl with --sdxl).
 */
import { parseArgs } from 'node:util';
import { buildSdTurboClassModel, buildTinyModel, buildTinySdxlModel, ensureTinyModel } from '../src/engine/tiny/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    fp16: { type: 'boolean', default: false },
    'int64-timestep': { type: 'boolean', default: false },
    'fixed-batch': { type: 'boolean', default: false },
    'external-data': { type: 'boolean', default: false },
    'sd1-pad': { type: 'boolean', default: false },
    lcm: { type: 'boolean', default: false },
    'no-vae-encoder': { type: 'boolean', default: false },
    sdxl: { type: 'boolean', default: false },
    kind: { type: 'string', default: 'tiny' },
  },
});

const dir = positionals[0];
if (values.kind !== 'tiny' && values.kind !== 'sd-turbo-class') throw new Error(`--kind must be tiny or sd-turbo-class, got ${values.kind}`);
if (values.kind === 'sd-turbo-class') {
  if (dir === undefined) throw new Error('--kind sd-turbo-class needs a folder to write (about 4.9 GB)');
  const t0 = performance.now();
  await buildSdTurboClassModel(dir, undefined, (line) => console.log(line));
  console.log(`${dir} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
} else if (dir === undefined) {
  console.log(await ensureTinyModel(process.env, values.sdxl ? 'tiny-sdxl' : 'tiny'));
} else if (values.sdxl) {
  await buildTinySdxlModel(dir, {
    fp16: values.fp16,
    timestep: values['int64-timestep'] ? 'int64' : 'float',
    fixedBatch: values['fixed-batch'],
    externalUnetData: values['external-data'],
  });
  console.log(dir);
} else {
  await buildTinyModel(dir, {
    fp16: values.fp16,
    timestep: values['int64-timestep'] ? 'int64' : 'float',
    fixedBatch: values['fixed-batch'],
    externalUnetData: values['external-data'],
    padToken: values['sd1-pad'] ? '<|endoftext|>' : '!',
    ...(values.lcm ? { timestepCondDim: 256 } : {}),
    noVaeEncoder: values['no-vae-encoder'],
  });
  console.log(dir);
}

/**
 * An ×2 SR graph on onnxruntime-node: NCHW float 0…1 RGB in, ×2 out (the Real-ESRGAN export convention).
 * Input/output names and any fixed input size are read from the session, not assumed.
 */
import * as ort from 'onnxruntime-node';
import type { RawImage } from '../../engine/types.js';
import { upscaleTiled, type RunPlanes } from './tiled.js';
import { SuperResolutionError } from './types.js';

export interface OnnxUpscalerOptions {
  tile: number;
  overlap: number;
  intraOpNumThreads?: number;
}

export interface OnnxUpscaler {
  readonly inputName: string;
  readonly outputName: string;
  readonly fixedInput: { w: number; h: number } | undefined;
  upscale(img: RawImage, scale: number): Promise<RawImage>;
  close(): Promise<void>;
}

function fixedSize(meta: ort.InferenceSession.ValueMetadata | undefined): { w: number; h: number } | undefined {
  if (!meta || !meta.isTensor || meta.shape.length !== 4) return undefined;
  const [, , h, w] = meta.shape;
  return typeof h === 'number' && typeof w === 'number' && h > 0 && w > 0 ? { w, h } : undefined;
}

export async function loadOnnxUpscaler(model: string | Uint8Array, opts: OnnxUpscalerOptions): Promise<OnnxUpscaler> {
  const sessionOpts: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: opts.intraOpNumThreads ?? 0,
    interOpNumThreads: 1,
    // Spinning worker threads would keep both cores busy after each tile, slowing the JS stages that follow.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  let session: ort.InferenceSession;
  try {
    session =
      typeof model === 'string'
        ? await ort.InferenceSession.create(model, sessionOpts)
        : await ort.InferenceSession.create(model, sessionOpts);
  } catch (cause) {
    throw new SuperResolutionError(`cannot load SR graph: ${(cause as Error).message}`, { cause });
  }
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  if (!inputName || !outputName) throw new SuperResolutionError('SR graph has no input or no output');
  const fixedInput = fixedSize(session.inputMetadata[0]);

  const run: RunPlanes = async (planes, w, h) => {
    const feeds = { [inputName]: new ort.Tensor('float32', planes, [1, 3, h, w]) };
    const result = await session.run(feeds);
    const t = result[outputName];
    if (!t || t.dims.length !== 4 || t.dims[1] !== 3 || !(t.data instanceof Float32Array)) {
      throw new SuperResolutionError(`SR graph output '${outputName}' is not a float [1,3,H,W] tensor`);
    }
    return { data: t.data, w: t.dims[3]!, h: t.dims[2]! };
  };

  return {
    inputName,
    outputName,
    fixedInput,
    upscale: (img, scale) =>
      upscaleTiled(img, scale, run, { tile: opts.tile, overlap: opts.overlap, ...(fixedInput ? { fixedInput } : {}) }),
    close: () => session.release(),
  };
}

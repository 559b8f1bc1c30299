/**
 * Picks the super-resolution method at start-up: a user ONNX model (`<dir>/model.onnx`) when given, else the
 * ESRGAN-slim ×2 model shipped in the @upscalerjs/esrgan-slim npm package, else a Lanczos-3 resize.
 * The choice is never silent: `method` names what runs and `status` is the line to log at start.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RawImage } from '../../engine/types.js';
import { convertLayersModel, esrganSlimX2Dir } from './keras-to-onnx.js';
import { lanczosUpscale } from './lanczos.js';
import { loadOnnxUpscaler, type OnnxUpscaler } from './onnx-upscaler.js';
import { SuperResolutionError, type SrMode, type SuperResolver } from './types.js';

export { SR_STRENGTH, SuperResolutionError, type SrMode, type SuperResolver } from './types.js';
export { buildTinySrGraph } from './tiny-graph.js';
export { resizeRaw, type ResizeKernel } from './lanczos.js';
export { upscaleSeparable, type UpscaleKernel } from './resample.js';
export { psnr } from './psnr.js';

export interface SuperResolverOptions {
  /** A directory holding `model.onnx` (e.g. `<MENGTU_HOME>/models/<name>`): an ×2 graph, NCHW float 0…1. */
  modelDir?: string;
  /** 'auto' (default): best available; 'model': fail unless a learned model loads; 'lanczos': never load one. */
  mode?: SrMode;
  /** Core tile edge in input pixels (default 128 for user models, 256 for the built-in one). */
  tile?: number;
  /** Context pixels on each side of a tile (default 16 for user models; 12 ≥ the built-in's receptive radius). */
  overlap?: number;
  /** Skip the built-in ESRGAN-slim model (e.g. to save its ~3 s per 512² image on small machines). */
  builtin?: boolean;
}

function resolverFromOnnx(u: OnnxUpscaler, method: string, status: string): SuperResolver {
  return {
    method,
    status,
    async upscale(image: RawImage, scale: 2) {
      return u.upscale(image, scale);
    },
    close: () => u.close(),
  };
}

function lanczosResolver(status: string): SuperResolver {
  return {
    method: 'lanczos',
    status,
    upscale: (image, scale) => lanczosUpscale(image, scale),
    close: async () => {},
  };
}

export async function createSuperResolver(opts: SuperResolverOptions = {}): Promise<SuperResolver> {
  const mode = opts.mode ?? 'auto';
  if (mode === 'lanczos') return lanczosResolver('super-resolution: Lanczos-3 ×2 resize (configured; no SR model loaded)');
  const reasons: string[] = [];

  if (opts.modelDir) {
    const file = path.join(opts.modelDir, 'model.onnx');
    if (existsSync(file)) {
      const u = await loadOnnxUpscaler(file, { tile: opts.tile ?? 128, overlap: opts.overlap ?? 16 });
      const name = path.basename(path.resolve(opts.modelDir));
      const fixed = u.fixedInput ? `, fixed input ${u.fixedInput.w}×${u.fixedInput.h}` : '';
      return resolverFromOnnx(u, `onnx:${name}`, `super-resolution: ONNX model ${file} (input '${u.inputName}'${fixed})`);
    }
    reasons.push(`${file} not found`);
  }

  if (opts.builtin !== false) {
    const dir = esrganSlimX2Dir();
    if (dir && existsSync(path.join(dir, 'model.json'))) {
      const u = await loadOnnxUpscaler(convertLayersModel(dir), { tile: opts.tile ?? 256, overlap: opts.overlap ?? 12 });
      return resolverFromOnnx(u, 'esrgan-slim', 'super-resolution: ESRGAN-slim ×2 (built in, from @upscalerjs/esrgan-slim) on onnxruntime');
    }
    reasons.push('@upscalerjs/esrgan-slim is not installed');
  } else {
    reasons.push('built-in ESRGAN-slim disabled');
  }

  if (mode === 'model') throw new SuperResolutionError(`no super-resolution model available: ${reasons.join('; ')}`);
  return lanczosResolver(`super-resolution: no SR model available (${reasons.join('; ')}); falling back to Lanczos-3 ×2 resize`);
}

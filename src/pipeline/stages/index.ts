/** The pipeline in request order (DESIGN.md). Each stage's dependencies are closed over here. */
import sharp from 'sharp';
import type { Stage } from '../types.js';
import { generateStage, type GenerateStageOptions } from './generate.js';
import { seedStage } from './seed.js';

export interface StageDeps {
  generate?: GenerateStageOptions;
}

const upscaleStage: Stage = {
  name: 'super_resolution',
  async run(job) {
    const img = job.image;
    if (!img || !job.request.use_sr) return job;
    const w = img.width * 2;
    const h = img.height * 2;
    const out = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
      raw: { width: img.width, height: img.height, channels: 4 },
    })
      .resize(w, h, { kernel: 'lanczos3' })
      .raw()
      .toBuffer();
    job.image = { width: w, height: h, data: new Uint8ClampedArray(out.buffer, out.byteOffset, out.byteLength) };
    return job;
  },
};

const encodeStage: Stage = {
  name: 'encode',
  async run(job) {
    const img = job.image;
    if (!img) throw new Error('encode: no image');
    const png = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
      raw: { width: img.width, height: img.height, channels: 4 },
    })
      .png()
      .toBuffer();
    job.encoded = [png];
    return job;
  },
};

export function createStages(deps: StageDeps = {}): Stage[] {
  return [seedStage, generateStage(deps.generate), upscaleStage, encodeStage];
}

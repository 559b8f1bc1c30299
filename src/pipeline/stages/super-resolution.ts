/**
 * The use_sr stage: ×2 by the configured resolver, then exact delivered size; records which method ran. A 3.x
 * request (no use_sr) drawn below its delivered size (renderSize in generate.ts) is brought up the same way.
 */
import { resizeRaw } from '../sr/lanczos.js';
import type { SuperResolver } from '../sr/types.js';
import type { Stage } from '../types.js';

export function superResolutionStage(sr: SuperResolver): Stage {
  return {
    name: 'super_resolution',
    async run(job) {
      const img = job.image;
      if (!img) return job;
      // Already the delivered size: drawn so (an SDXL-class model, see renderSize in generate.ts), or no use_sr.
      if (img.width === job.outputWidth && img.height === job.outputHeight) return job;
      let out = await sr.upscale(img, 2);
      // The engine may hand back a multiple-of-8 render; the contract delivers exactly 2 × the request.
      if (out.width !== job.outputWidth || out.height !== job.outputHeight) {
        out = await resizeRaw(out, job.outputWidth, job.outputHeight, 'lanczos3');
      }
      job.image = out;
      job.srMethod = sr.method;
      return job;
    },
  };
}

/** The logo_info stage: a visible mark when add_logo is true. */
import type { Stage } from '../types.js';
import { applyWatermark } from './watermark.js';

export const watermarkStage: Stage = {
  name: 'watermark',
  run(job) {
    const logo = job.request.logo_info;
    if (!job.image || !logo?.add_logo) return job;
    job.image = applyWatermark(job.image, logo);
    return job;
  },
};

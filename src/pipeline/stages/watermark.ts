/** The logo_info stage: a visible mark when the delivery asks for one (add_logo). */
import type { Stage } from '../types.js';
import { applyWatermark } from '../watermark/watermark.js';

export const watermarkStage: Stage = {
  name: 'watermark',
  run(job) {
    const logo = job.delivery.logo;
    if (!job.image || !logo?.add_logo) return job;
    job.image = applyWatermark(job.image, logo);
    return job;
  },
};

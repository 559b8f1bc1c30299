/** The return_url stage: publishes the encoded images and leaves their URLs in job.imageUrls. */
import type { ImageHosting } from '../../storage/hosting.js';
import type { Stage } from '../types.js';

export function storeStage(hosting: ImageHosting): Stage {
  return {
    name: 'store',
    async run(job) {
      if (!job.delivery.returnUrl) return job;
      const urls: string[] = [];
      for (let i = 0; i < job.encoded.length; i++) {
        urls.push((await hosting.publish(job.requestId, i, job.encoded[i]!)).url);
      }
      job.imageUrls = urls;
      return job;
    },
  };
}

/** The return_url stage: publishes the encoded images and leaves their URLs in job.extras.imageUrls. */
import type { Stage } from '../pipeline/types.js';
import type { ImageHosting } from './hosting.js';

export function storeStage(hosting: ImageHosting): Stage {
  return {
    name: 'store',
    async run(job) {
      if (!job.request.return_url) return job;
      const urls: string[] = [];
      for (let i = 0; i < job.encoded.length; i++) {
        urls.push((await hosting.publish(job.requestId, i, job.encoded[i]!)).url);
      }
      job.extras.imageUrls = urls;
      return job;
    },
  };
}

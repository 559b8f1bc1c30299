/** Pipeline stages for text risk (input prompt) and image risk (output image). */
import type { ImageRiskChecker } from '../../safety/image-risk.js';
import type { TextRiskChecker } from '../../safety/text-risk.js';
import type { Stage } from '../types.js';

/** Screens the request prompt: CvError 50412 (prohibited) or 50413 (copyright) stops the request. */
export function textRiskStage(checker: TextRiskChecker): Stage {
  return {
    name: 'text_risk',
    run(job) {
      checker.assertTextSafe(job.request.prompt, 'input');
      return job;
    },
  };
}

/** Classifies the output image: CvError 50511 above the threshold. Scores go to `job.imageRisk`. */
export function imageRiskStage(checker: ImageRiskChecker): Stage {
  return {
    name: 'image_risk',
    async run(job) {
      if (!job.image) return job;
      job.imageRisk = await checker.assertImageSafe(job.image);
      return job;
    },
  };
}

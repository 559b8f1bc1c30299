/** The encode stage: PNG with the implicit AI label (producer = the configured service name). */
import type { Stage } from '../types.js';
import { encodePng } from './encode-png.js';

export interface EncodeStageOptions {
  /** ContentProducer in the label, e.g. `mengtu@example.com` or the operator's name. Default 'mengtu'. */
  producer?: string;
  /** Default true. */
  aiLabel?: boolean;
}

export function encodeStage(opts: EncodeStageOptions = {}): Stage {
  return {
    name: 'encode',
    async run(job, ctx) {
      if (!job.image) throw new Error('encode: no image');
      // The prompt is not written into the file: images travel further than logs do.
      const png = await encodePng(
        job.image,
        {
          requestId: job.aigcMeta?.producer_id || job.requestId,
          producer: job.aigcMeta?.content_producer || (opts.producer ?? 'mengtu'),
          propagator: job.aigcMeta?.content_propagator ?? '',
          propagateId: job.aigcMeta?.propagate_id ?? '',
          seed: job.seed,
          model: ctx.engine.modelName,
        },
        { aiLabel: opts.aiLabel ?? true },
      );
      job.encoded = [png];
      return job;
    },
  };
}

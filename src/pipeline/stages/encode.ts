/** The encode stage: PNG with the implicit AI label (producer = the configured service name). */
import type { Stage } from '../types.js';
import { encodePng } from '../encode/encode-png.js';
import type { CpuPool } from '../offload/pool.js';

export interface EncodeStageOptions {
  /** ContentProducer in the label, e.g. `mengtu@example.com` or the operator's name. Default 'mengtu'. */
  producer?: string;
  /** Default true. */
  aiLabel?: boolean;
  /** Encode on a drawing thread (the label's copy of a 1024² file held the event loop ~15–35 ms); else in-process. */
  pool?: Pick<CpuPool, 'encodePng'>;
}

export function encodeStage(opts: EncodeStageOptions = {}): Stage {
  const encode = opts.pool ? opts.pool.encodePng.bind(opts.pool) : encodePng;
  return {
    name: 'encode',
    async run(job) {
      if (!job.image) throw new Error('encode: no image');
      const meta = job.delivery.aigcMeta;
      // The prompt is not written into the file: images travel further than logs do.
      const png = await encode(
        job.image,
        {
          requestId: meta?.producer_id || job.requestId,
          producer: meta?.content_producer || (opts.producer ?? 'mengtu'),
          propagator: meta?.content_propagator ?? '',
          propagateId: meta?.propagate_id ?? '',
          seed: job.seed,
          // Recorded on the job, so a gateway with no engine loaded can deliver.
          model: job.model,
        },
        { aiLabel: opts.aiLabel ?? true },
      );
      job.encoded = [png];
      return job;
    },
  };
}

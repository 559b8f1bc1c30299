/** Resolves `seed: -1` to the concrete seed that is used and echoed. */
import { resolveSeed } from '../../engine/rng.js';
import type { Stage } from '../types.js';

export const seedStage: Stage = {
  name: 'seed',
  run(job) {
    job.seed = resolveSeed(job.request.seed);
    return job;
  },
};

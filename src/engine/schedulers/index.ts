/** Picks and builds a scheduler from the model's scheduler_config.json. */
import type { SchedulerName } from '../types.js';
import { createDdimScheduler } from './ddim.js';
import { createEulerAncestralScheduler } from './euler-ancestral.js';
import { createEulerScheduler } from './euler.js';
import { createLcmScheduler } from './lcm.js';
import type { Scheduler } from './types.js';

export type { Scheduler, SigmaScheduler } from './types.js';
export { SchedulerConfigError, parseSchedulerConfig, type SchedulerConfig } from './config.js';
export { guidanceScaleEmbedding, lcmBoundaryScalings, lcmTimesteps } from './lcm.js';

const BY_CLASS: Record<string, SchedulerName> = {
  EulerDiscreteScheduler: 'euler',
  EulerAncestralDiscreteScheduler: 'euler_a',
  DDIMScheduler: 'ddim',
  LCMScheduler: 'lcm',
};

/**
 * The scheduler a config's `_class_name` asks for. Classes we do not implement (PNDM, LMS, DPM-Solver…)
 * fall back to Euler, which works with any ε/v model; `note` says so for the log.
 */
export function schedulerForClass(className: string | undefined): { name: SchedulerName; note?: string } {
  const known = className === undefined ? undefined : BY_CLASS[className];
  if (known) return { name: known };
  return { name: 'euler', note: `scheduler class ${className ?? '(none)'} is not implemented; using euler` };
}

export function createScheduler(name: SchedulerName | undefined, config: Record<string, unknown>, steps: number): Scheduler {
  const chosen = name ?? schedulerForClass(typeof config._class_name === 'string' ? config._class_name : undefined).name;
  switch (chosen) {
    case 'euler':
      return createEulerScheduler(config, steps);
    case 'euler_a':
      return createEulerAncestralScheduler(config, steps);
    case 'ddim':
      return createDdimScheduler(config, steps);
    case 'lcm':
      return createLcmScheduler(config, steps);
  }
}

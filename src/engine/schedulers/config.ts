/**
 * `scheduler/scheduler_config.json` as diffusers reads it: field names, meanings and defaults are
 * diffusers' own so a config written for diffusers behaves the same here.
 */
import { z } from 'zod';

export class SchedulerConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SchedulerConfigError';
  }
}

const betaSchedule = z.enum(['linear', 'scaled_linear', 'squaredcos_cap_v2']);
const predictionType = z.enum(['epsilon', 'v_prediction', 'sample']);
const timestepSpacing = z.enum(['leading', 'trailing', 'linspace']);

/** Every field optional: per-scheduler defaults are applied afterwards (they differ, e.g. timestep_spacing). */
const rawSchema = z.looseObject({
  _class_name: z.string().optional(),
  num_train_timesteps: z.number().int().positive().optional(),
  beta_start: z.number().positive().optional(),
  beta_end: z.number().positive().optional(),
  beta_schedule: betaSchedule.optional(),
  trained_betas: z.array(z.number()).optional(),
  prediction_type: predictionType.optional(),
  timestep_spacing: timestepSpacing.optional(),
  steps_offset: z.number().int().nonnegative().optional(),
  set_alpha_to_one: z.boolean().optional(),
  clip_sample: z.boolean().optional(),
  clip_sample_range: z.number().positive().optional(),
  interpolation_type: z.enum(['linear', 'log_linear']).optional(),
  use_karras_sigmas: z.boolean().optional(),
  final_sigmas_type: z.enum(['zero', 'sigma_min']).optional(),
  rescale_betas_zero_snr: z.boolean().optional(),
  original_inference_steps: z.number().int().positive().optional(),
  timestep_scaling: z.number().positive().optional(),
});

export type BetaSchedule = z.infer<typeof betaSchedule>;
export type PredictionType = z.infer<typeof predictionType>;
export type TimestepSpacing = z.infer<typeof timestepSpacing>;

export interface SchedulerConfig {
  className: string | undefined;
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  trainedBetas: number[] | undefined;
  predictionType: PredictionType;
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
  setAlphaToOne: boolean;
  clipSample: boolean;
  clipSampleRange: number;
  interpolationType: 'linear' | 'log_linear';
  useKarrasSigmas: boolean;
  finalSigmasType: 'zero' | 'sigma_min';
  rescaleBetasZeroSnr: boolean;
  originalInferenceSteps: number;
  timestepScaling: number;
}

/** The diffusers defaults that differ between scheduler classes. */
export interface SchedulerDefaults {
  timestepSpacing: TimestepSpacing;
  setAlphaToOne: boolean;
  clipSample: boolean;
}

export const EULER_DEFAULTS: SchedulerDefaults = { timestepSpacing: 'linspace', setAlphaToOne: false, clipSample: false };
export const DDIM_DEFAULTS: SchedulerDefaults = { timestepSpacing: 'leading', setAlphaToOne: true, clipSample: true };
export const LCM_DEFAULTS: SchedulerDefaults = { timestepSpacing: 'leading', setAlphaToOne: true, clipSample: false };

/** Parses a raw JSON object. `null` fields (diffusers writes `"trained_betas": null`) mean "use the default". */
export function parseSchedulerConfig(raw: Record<string, unknown>, defaults: SchedulerDefaults): SchedulerConfig {
  const cleaned: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (v !== null) cleaned[k] = v;
  const parsed = rawSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new SchedulerConfigError(`invalid scheduler_config.json: ${issues}`);
  }
  const c = parsed.data;
  const cfg: SchedulerConfig = {
    className: c._class_name,
    numTrainTimesteps: c.num_train_timesteps ?? 1000,
    betaStart: c.beta_start ?? 0.0001,
    betaEnd: c.beta_end ?? 0.02,
    betaSchedule: c.beta_schedule ?? 'linear',
    trainedBetas: c.trained_betas,
    predictionType: c.prediction_type ?? 'epsilon',
    timestepSpacing: c.timestep_spacing ?? defaults.timestepSpacing,
    stepsOffset: c.steps_offset ?? 0,
    setAlphaToOne: c.set_alpha_to_one ?? defaults.setAlphaToOne,
    clipSample: c.clip_sample ?? defaults.clipSample,
    clipSampleRange: c.clip_sample_range ?? 1,
    interpolationType: c.interpolation_type ?? 'linear',
    useKarrasSigmas: c.use_karras_sigmas ?? false,
    finalSigmasType: c.final_sigmas_type ?? 'zero',
    rescaleBetasZeroSnr: c.rescale_betas_zero_snr ?? false,
    originalInferenceSteps: c.original_inference_steps ?? 50,
    timestepScaling: c.timestep_scaling ?? 10,
  };
  if (cfg.trainedBetas !== undefined && cfg.trainedBetas.length !== cfg.numTrainTimesteps) {
    throw new SchedulerConfigError(
      `invalid scheduler_config.json: trained_betas has ${cfg.trainedBetas.length} entries, num_train_timesteps is ${cfg.numTrainTimesteps}`,
    );
  }
  if (cfg.betaEnd < cfg.betaStart && cfg.trainedBetas === undefined) {
    throw new SchedulerConfigError(`invalid scheduler_config.json: beta_end ${cfg.betaEnd} < beta_start ${cfg.betaStart}`);
  }
  return cfg;
}

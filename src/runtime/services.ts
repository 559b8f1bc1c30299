/**
 * Builds the pipeline's dependencies once per process (risk lists, the NSFW model, the SR model, image
 * hosting) and logs what each one is, so nothing falls back silently.
 */
import type { Logger } from 'pino';
import { createStages, type StageDeps } from '../pipeline/stages/index.js';
import type { GenerateStageOptions } from '../pipeline/stages/generate.js';
import type { Stage } from '../pipeline/types.js';
import { createPromptRewriter } from '../pipeline/rewrite/rewriter.js';
import { createSuperResolver } from '../pipeline/sr/index.js';
import { createImageRiskChecker } from '../safety/image-risk.js';
import { createTextRiskChecker } from '../safety/text-risk.js';
import { createImageHosting } from '../storage/hosting.js';
import { llmOptions, s3Options, type Config } from './config.js';

export interface PipelineServices {
  deps: StageDeps;
  stages: Stage[];
  close(): Promise<void>;
}

export async function createPipelineServices(
  cfg: Config,
  log: Logger,
  opts: { hosting: boolean; publicBaseUrl?: string; generate?: GenerateStageOptions },
): Promise<PipelineServices> {
  const textRisk = createTextRiskChecker({ dirs: cfg.safety.riskListsDir, copyright: cfg.safety.riskCopyright });
  const rewriter = createPromptRewriter({ log, llm: llmOptions(cfg) });
  const [sr, imageRisk, hosting] = await Promise.all([
    createSuperResolver({ mode: cfg.sr.mode, ...(cfg.sr.modelDir ? { modelDir: cfg.sr.modelDir } : {}) }),
    cfg.safety.imageRisk ? createImageRiskChecker({ threshold: cfg.safety.imageRiskThreshold }) : Promise.resolve(null),
    opts.hosting
      ? createImageHosting({
          dataDir: cfg.server.dataDir,
          publicBaseUrl: opts.publicBaseUrl ?? cfg.hosting.publicBaseUrl ?? '',
          ttlSeconds: cfg.hosting.urlTtlSeconds,
          urlSecret: cfg.hosting.urlSecret,
          s3: s3Options(cfg),
        })
      : Promise.resolve(null),
  ]);
  log.info(sr.status);
  log.info(imageRisk ? `image risk: NSFW classifier on, threshold ${imageRisk.threshold}` : 'image risk: OFF (MENGTU_IMAGE_RISK=0)');
  if (hosting) log.info(hosting.status);
  const deps: StageDeps = {
    textRisk,
    rewriter,
    sr,
    imageRisk,
    hosting,
    producer: cfg.label.producer,
    aiLabel: cfg.label.aiLabel,
    ...(opts.generate ? { generate: opts.generate } : {}),
  };
  return {
    deps,
    stages: createStages(deps),
    async close() {
      await sr.close();
    },
  };
}

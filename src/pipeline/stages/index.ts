/**
 * The pipeline in request order (DESIGN.md): text risk → input image (image-to-image: limits, image risk
 * 50411, decode) → typography plan → prompt rewrite → diffusion →
 * super-resolution → typography render → image risk → watermark → encode (+AI label) → store.
 * Each stage's dependencies are closed over here, so a reader finds every stage in one list.
 */
import type { PromptRewriter } from '../rewrite/rewriter.js';
import type { SuperResolver } from '../sr/types.js';
import type { ImageRiskChecker } from '../../safety/image-risk.js';
import type { TextRiskChecker } from '../../safety/text-risk.js';
import type { ImageHosting } from '../../storage/hosting.js';
import type { CpuPool } from '../offload/pool.js';
import type { Stage } from '../types.js';
import { encodeStage } from './encode.js';
import { generateStage, type GenerateStageOptions } from './generate.js';
import { inputImageStage } from './input-image.js';
import { rewriteStage } from './rewrite.js';
import { imageRiskStage, textRiskStage } from './safety.js';
import { seedStage } from './seed.js';
import { storeStage } from './store.js';
import { superResolutionStage } from './super-resolution.js';
import { typographyPlanStage, typographyRenderStage, typographyRenderStageOn } from './typography.js';
import { watermarkStage } from './watermark.js';

export { encodeStage, type EncodeStageOptions } from './encode.js';
export { generateStage, type GenerateStageOptions } from './generate.js';
export { decodeInputImage, inputImageStage, type InputImageOptions } from './input-image.js';
export { rewriteStage } from './rewrite.js';
export { imageRiskStage, textRiskStage } from './safety.js';
export { seedStage } from './seed.js';
export { storeStage } from './store.js';
export { superResolutionStage } from './super-resolution.js';
export { typographyPlanStage, typographyRenderStage, typographyRenderStageOn } from './typography.js';
export { watermarkStage } from './watermark.js';

export interface StageDeps {
  textRisk: TextRiskChecker;
  rewriter: PromptRewriter;
  sr: SuperResolver;
  /** Null disables the output-image check (configurable; on by default). */
  imageRisk: ImageRiskChecker | null;
  /** Null when images are only returned inline (e.g. `mengtu generate`). */
  hosting: ImageHosting | null;
  producer: string;
  /** The implicit AI label in every PNG (default on). */
  aiLabel?: boolean;
  generate?: GenerateStageOptions;
  /** Worker threads for the CPU-heavy stages (drawing, encode); without it they run in-process (benches, tests of one stage). */
  cpuPool?: CpuPool;
  /** Image-to-image inputs given as URLs may point at loopback/private addresses (default: refused). */
  allowPrivateImageUrls?: boolean;
}

/**
 * The stages that make a copy for the caller from the finished picture. The async pair runs them when the
 * result is fetched, because GetResult's req_json chooses the logo, return_url and label fields.
 */
export const DELIVERY_STAGES: ReadonlySet<string> = new Set(['watermark', 'encode', 'store']);

/** Checks an async submit runs before it answers, so their refusals create no task (contract §7). */
export const SUBMIT_CHECK_STAGES: ReadonlySet<string> = new Set(['text_risk']);

/** Splits the full list into what makes the picture and what delivers it (order kept). */
export function splitDelivery(stages: readonly Stage[]): { production: Stage[]; delivery: Stage[] } {
  return { production: stages.filter((s) => !DELIVERY_STAGES.has(s.name)), delivery: stages.filter((s) => DELIVERY_STAGES.has(s.name)) };
}

export function createStages(deps: StageDeps): Stage[] {
  return [
    seedStage,
    textRiskStage(deps.textRisk),
    inputImageStage({ imageRisk: deps.imageRisk, ...(deps.allowPrivateImageUrls ? { allowPrivateUrls: true } : {}) }),
    typographyPlanStage,
    rewriteStage(deps.rewriter, deps.textRisk),
    generateStage(deps.generate),
    superResolutionStage(deps.sr),
    deps.cpuPool ? typographyRenderStageOn(deps.cpuPool) : typographyRenderStage,
    ...(deps.imageRisk ? [imageRiskStage(deps.imageRisk)] : []),
    watermarkStage,
    encodeStage({ producer: deps.producer, aiLabel: deps.aiLabel ?? true, ...(deps.cpuPool ? { pool: deps.cpuPool } : {}) }),
    ...(deps.hosting ? [storeStage(deps.hosting)] : []),
  ];
}

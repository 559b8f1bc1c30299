/** Typography: quoted prompt text drawn as a real type layer instead of by the diffusion model. */
import type { RawImage } from '../engine/types.js';
import { advanceMeasure } from './fonts.js';
import { layoutPlan as layoutPlanWith, type LayoutOptions } from './layout.js';
import { renderTextPlan } from './render.js';
import type { Layout, MeasureText, TextPlan } from './types.js';

export { parseTextPlan } from './parse.js';
export { renderTextPlan, renderTextPlanDetailed, type RenderOptions, type RenderReport } from './render.js';
export { TEXT_NEGATIVE } from './model-prompt.js';
export type * from './types.js';

/** Lays the plan out for a width × height image; measures with the real fonts unless told otherwise. */
export function layoutPlan(plan: TextPlan, width: number, height: number, measure: MeasureText = advanceMeasure, opts: LayoutOptions = {}): Layout {
  return layoutPlanWith(plan, width, height, measure, opts);
}

/** Pipeline stage after super-resolution: draws the plan's text at the final size. Returns a new image. */
export function applyTypography(image: RawImage, plan: TextPlan): RawImage {
  if (plan.blocks.length === 0) return image;
  return renderTextPlan(image, plan);
}

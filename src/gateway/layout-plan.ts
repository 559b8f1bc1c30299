/**
 * The typography plan of a prompt as JSON: what `mengtu layout` prints and what the playground draws as boxes
 * while the user types. It generates nothing (parsing and font measuring only, a few ms).
 */
import { layoutPlan, parseTextPlan, type BlockCues, type Box, type PlacedLine, type TextBlock } from '../typography/index.js';

/** A block as the typography planned it (less its explicit lines), with the words that decided it and its boxes. */
export type LayoutBlockJson = Omit<TextBlock, 'lines' | 'cues'> & {
  cues: BlockCues;
  region: Box;
  box: Box;
  fontSize: number;
  fits: boolean;
  laidOutLines: PlacedLine[];
};

export interface LayoutJson {
  modelPrompt: string;
  negativePrompt: string;
  width: number;
  height: number;
  blocks: LayoutBlockJson[];
}

const NO_CUES: BlockCues = { position: [], size: [], color: [], style: [], vertical: [] };

export function layoutJson(prompt: string, width: number, height: number): LayoutJson {
  const plan = parseTextPlan(prompt);
  const layout = layoutPlan(plan, width, height);
  return {
    modelPrompt: plan.modelPrompt,
    negativePrompt: plan.negativePrompt,
    width,
    height,
    blocks: layout.blocks.map((lb) => ({
      text: lb.block.text,
      lang: lb.block.lang,
      position: lb.block.position,
      positionExplicit: lb.block.positionExplicit,
      size: lb.block.size,
      color: lb.block.color,
      style: lb.block.style,
      font: lb.block.font,
      vertical: lb.block.vertical,
      span: lb.block.span,
      cues: lb.block.cues ?? NO_CUES,
      region: lb.region,
      box: lb.box,
      fontSize: lb.fontSize,
      fits: lb.fits,
      laidOutLines: lb.lines,
    })),
  };
}

/** The typography plan: what quoted prompt text becomes. Plain JSON so it can be logged, cached or sent. */

export type VPos = 'top' | 'middle' | 'bottom';
export type HPos = 'left' | 'center' | 'right';
export type TextSize = 'small' | 'medium' | 'large' | 'title';
export type TextStyle =
  | 'sans'
  | 'serif'
  | 'bold'
  | 'handwritten'
  | 'brush'
  | 'rounded'
  | 'script'
  | 'display'
  | 'doodle'
  | 'neon'
  | 'outline'
  | '3d'
  | 'shadow'
  | 'gradient'
  | 'metallic';
/** The face family chosen for a block: one of the registered faces (see fonts.ts). */
export type FaceId = 'sans' | 'sans-bold' | 'serif' | 'serif-bold' | 'brush' | 'handwriting' | 'doodle' | 'rounded' | 'script' | 'display';

export interface TextColor {
  /** The word the prompt used (e.g. "金色", "gold", "#ff0000"), or "default". */
  name: string;
  /** #rrggbb */
  hex: string;
}

export interface TextBlock {
  /** The quoted text as written, line breaks normalised to "\n". */
  text: string;
  /** `text` split at explicit line breaks (layout may wrap further). */
  lines: string[];
  position: { v: VPos; h: HPos };
  /** True when the prompt named a position; false when it was defaulted and the block was stacked. */
  positionExplicit: boolean;
  size: TextSize;
  color: TextColor;
  /** Style words, in the order found; empty when none. The first decides the face. */
  style: TextStyle[];
  /** The face used to draw it. */
  font: FaceId;
  vertical: boolean;
  /** 'zh' when the text has any CJK character, else 'en'. */
  lang: 'zh' | 'en';
  /** Where the quote sat in the prompt: [start, end) of the whole span including quote marks. */
  span: [number, number];
  /** The prompt's words that decided each attribute (empty = defaulted); for explaining a plan to people. */
  cues?: BlockCues;
}

export interface BlockCues {
  position: string[];
  size: string[];
  color: string[];
  style: string[];
  vertical: string[];
}

export interface TextPlan {
  blocks: TextBlock[];
  /** The prompt for the diffusion model: the scene without the literal text, asking for clean areas. */
  modelPrompt: string;
  /** Extra negative prompt so the model does not paint its own (garbled) lettering. */
  negativePrompt: string;
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** One laid-out line (horizontal) or column (vertical), in image pixels. */
export interface PlacedLine {
  text: string;
  /** Left edge of the line's ink box for horizontal text; left edge of the column for vertical text. */
  x: number;
  /** Top of the line box (horizontal) or top of the column (vertical). */
  y: number;
  width: number;
  height: number;
}

export interface LaidOutBlock {
  block: TextBlock;
  /** The region the block may use (a cell of the 3×3 grid, less margins, shared when stacked). */
  region: Box;
  /** The tight box of the laid-out text. Always inside `region`. */
  box: Box;
  fontSize: number;
  lineHeight: number;
  lines: PlacedLine[];
  /** False if even the smallest font size could not fit the region; the text is then clipped. */
  fits: boolean;
}

export interface Layout {
  width: number;
  height: number;
  blocks: LaidOutBlock[];
}

/** Measures the advance width of `text` at `fontSize` in the block's face. Injected so layout stays pure. */
export type MeasureText = (text: string, fontSize: number, face: FaceId) => number;

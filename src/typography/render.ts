/**
 * Draws laid-out text onto an image with @napi-rs/canvas at the image's own (final) resolution.
 * The input image is not modified: a new RawImage is returned.
 */
import { ImageData, createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import type { RawImage } from '../engine/types.js';
import { autoColor, backgroundStats, decideLegibility, haloFor, hexToRgb, luminance, MIN_CONTRAST, type BackgroundStats, type LegibilityDecision, type Rgb } from './contrast.js';
import { advanceMeasure, DISPLAY_WORD_SPACING, faceRuns, fontString } from './fonts.js';
import { layoutPlan } from './layout.js';
import { palette, paletteColor, placeInCalm, sceneLight } from './placement.js';
import type { LaidOutBlock, Layout, MeasureText, TextPlan } from './types.js';

export interface RenderOptions {
  /** A layout computed earlier (e.g. to OCR the same boxes); computed here when absent. */
  layout?: Layout;
  measure?: MeasureText;
  /** Skip the contrast treatment and the scene seating (used to render the OCR judge's plain reference). */
  plain?: boolean;
  /** Draw the text as it is asked, without seating it in the scene (no contact shadow, no tint toward the light). */
  unseated?: boolean;
}

/** How far the face's colour moves toward the colour of the scene's light. */
export const LIGHT_TINT = 0.14;

/**
 * Seats the text in the scene: a soft contact shadow (ambient occlusion) under light lettering, as if
 * the letters sat on the surface, and the face tinted toward the colour of the scene's light. Both only
 * where contrast stays ≥ 4.5:1: the shadow darkens what is behind light text (more contrast), and the
 * tint is kept only when the tinted colour still passes with the same treatment.
 */
interface Seating {
  /** Contact-shadow colour and opacity, when the block gets one. */
  shadow?: { color: Rgb; alpha: number };
}

export interface RenderReport {
  image: RawImage;
  layout: Layout;
  /** One per block, in block order. */
  legibility: LegibilityDecision[];
}

function css({ r, g, b }: Rgb, a = 1): string {
  return `rgba(${Math.round(r)},${Math.round(g)},${Math.round(b)},${a})`;
}

/** The side colour of 3D lettering: a darker shade, or a lighter one when the text is already dark. */
export function extrusionColor(c: Rgb): Rgb {
  const k = luminance(c) < 0.1 ? 0.5 : 0;
  return k ? { r: c.r + (255 - c.r) * k, g: c.g + (255 - c.g) * k, b: c.b + (255 - c.b) * k } : { r: c.r * 0.45, g: c.g * 0.45, b: c.b * 0.45 };
}

/**
 * Calls `draw(text, x, y)` for every line (centre-left anchor) or every upright character of a column,
 * run by run where the face borrows its punctuation from another face (the canvas font is set for each
 * run, and put back after).
 */
function eachGlyphRun(ctx: SKRSContext2D, lb: LaidOutBlock, draw: (text: string, x: number, y: number) => void): void {
  const size = lb.fontSize;
  const face = lb.block.font;
  const base = ctx.font;
  for (const line of lb.lines) {
    const runs = faceRuns(line.text, face);
    if (runs.length === 1 && runs[0]!.face === face) {
      if (lb.block.vertical) [...line.text].forEach((ch, i) => draw(ch, line.x + size / 2, line.y + i * size + size / 2));
      else draw(line.text, line.x, line.y + line.height / 2);
      continue;
    }
    let x = line.x;
    let i = 0;
    for (const run of runs) {
      ctx.font = run.face === face ? base : fontString(run.face, size);
      if (lb.block.vertical) for (const ch of run.text) draw(ch, line.x + size / 2, line.y + i++ * size + size / 2);
      else {
        draw(run.text, x, line.y + line.height / 2);
        x += ctx.measureText(run.text).width;
      }
    }
    ctx.font = base;
  }
}

function roundRect(ctx: SKRSContext2D, x: number, y: number, w: number, h: number, r: number): void {
  ctx.beginPath();
  ctx.roundRect(x, y, w, h, r);
  ctx.fill();
}

const WHITE: Rgb = { r: 255, g: 255, b: 255 };
const BLACK: Rgb = { r: 0, g: 0, b: 0 };

export function mix(a: Rgb, b: Rgb, k: number): Rgb {
  return { r: a.r + (b.r - a.r) * k, g: a.g + (b.g - a.g) * k, b: a.b + (b.b - a.b) * k };
}

/** Gold and silver named as the colour are drawn as metal, not as flat ochre and grey. */
const METAL_NAMES = /^(?:金|银|金色|银色|gold|golden|silver)$/i;

/** The neon tube's core: the colour pushed most of the way to white, as a lit tube looks. */
export function neonCore(c: Rgb): Rgb {
  return mix(c, WHITE, 0.72);
}

/**
 * The glow around the core: the colour itself, except for white and near-white tubes, whose glow would
 * be the core's own colour and blur the letters' edges away; those glow a cool blue, as white neon does.
 */
export function neonGlow(c: Rgb): Rgb {
  const core = neonCore(c);
  return Math.hypot(c.r - core.r, c.g - core.g, c.b - core.b) < 60 ? mix(c, { r: 70, g: 140, b: 255 }, 0.6) : c;
}

/**
 * The face's colour stops, top (0) to bottom (1) of the block's box: none for a flat fill, else a vertical
 * gradient or a banded metal gradient. Exported so the OCR judge can tell face pixels from the rest.
 */
export function faceStops(lb: LaidOutBlock, color: Rgb): Array<[number, Rgb]> | undefined {
  const styles = new Set<string>(lb.block.style);
  const metal = styles.has('metallic');
  const namedMetal = !metal && METAL_NAMES.test(lb.block.color.name);
  if (styles.has('neon') || (!metal && !namedMetal && !styles.has('gradient') && !styles.has('3d'))) return undefined;
  // Gold or silver as a colour: a gentle sheen, keeping the contrast the legibility check chose.
  if (namedMetal) return [[0, mix(color, WHITE, 0.5)], [0.5, color], [1, mix(color, BLACK, 0.15)]];
  // Highlight, body, dark band, reflected light, body: how polished metal catches a studio light.
  if (metal) return [[0, mix(color, WHITE, 0.65)], [0.35, color], [0.55, mix(color, BLACK, 0.45)], [0.75, mix(color, WHITE, 0.3)], [1, mix(color, BLACK, 0.15)]];
  if (styles.has('gradient')) return [[0, mix(color, WHITE, 0.45)], [1, mix(color, BLACK, 0.3)]];
  // 3D: the face lit from above.
  return [[0, mix(color, WHITE, 0.2)], [1, mix(color, BLACK, 0.1)]];
}

/** The face's colour at image row `y` (the core's colour for neon). */
export function faceColorAt(lb: LaidOutBlock, color: Rgb, y: number): Rgb {
  if (lb.block.style.includes('neon')) return neonCore(color);
  const stops = faceStops(lb, color);
  if (!stops) return color;
  const t = Math.min(1, Math.max(0, (y - lb.box.y) / Math.max(1, lb.box.h)));
  for (let i = 1; i < stops.length; i++) {
    const [t1, c1] = stops[i]!;
    const [t0, c0] = stops[i - 1]!;
    if (t <= t1) return mix(c0, c1, (t - t0) / Math.max(1e-6, t1 - t0));
  }
  return stops[stops.length - 1]![1];
}

function faceFill(ctx: SKRSContext2D, lb: LaidOutBlock, color: Rgb): string | CanvasGradient {
  const stops = faceStops(lb, color);
  if (!stops) return css(color);
  const g = ctx.createLinearGradient(0, lb.box.y, 0, lb.box.y + lb.box.h);
  for (const [t, c] of stops) g.addColorStop(t, css(c));
  return g;
}

type CanvasGradient = ReturnType<SKRSContext2D['createLinearGradient']>;

/** Extra room around a block for effects that reach outside the glyphs (glow, shadow, extrusion). */
function effectReach(lb: LaidOutBlock): number {
  const st = new Set(lb.block.style);
  return Math.ceil(lb.fontSize * (st.has('neon') ? 1.0 : st.has('shadow') || st.has('3d') ? 0.7 : 0.6));
}

/** Sets the block's face, anchor and word spacing on a context (each glyph run may change the face after). */
function setText(ctx: SKRSContext2D, lb: LaidOutBlock): void {
  ctx.font = fontString(lb.block.font, lb.fontSize);
  ctx.textBaseline = 'middle';
  ctx.textAlign = lb.block.vertical ? 'center' : 'left';
  ctx.lineJoin = 'round';
  // Condensed display faces set words too tight to read ("ELECTRICVEHICLES"): open the word space.
  ctx.wordSpacing = lb.block.font === 'display' ? `${Math.round(lb.fontSize * DISPLAY_WORD_SPACING)}px` : '0px';
}

type Area = { x: number; y: number; w: number; h: number };

/**
 * The block's letters as one coverage mask, and copies of it in any fill. Skia picks a glyph's
 * anti-aliasing by the paint's brightness (its contrast "preblend"): white letters come out about 18 %
 * heavier than the same letters in black, so a face's weight would depend on its colour, and light
 * letters would fill their counters at small sizes. Every fill of the letters is this one black mask
 * recoloured, so the face has the weight it was designed with in every colour (and the plain
 * black-on-white reference the OCR judges compare against has exactly the styled letters' shapes).
 */
function glyphLayer(ctx: SKRSContext2D, lb: LaidOutBlock, area: Area): (fill: string | ((g: SKRSContext2D) => string | CanvasGradient), dx?: number, dy?: number) => void {
  // The letters stay inside their box give or take a brush face's overshoot: the layer covers that,
  // not the whole area the glow and shadows reach.
  const { x, y, w, h } = grownBox(lb, Math.ceil(lb.fontSize * 0.3), area);
  const mask = createCanvas(w, h);
  const m = mask.getContext('2d');
  m.translate(-x, -y);
  setText(m, lb);
  m.fillStyle = '#000';
  eachGlyphRun(m, lb, (s, gx, gy) => m.fillText(s, gx, gy));
  // One canvas for every recolouring: the mask copied in, then the fill kept only where the mask is.
  const tint = createCanvas(w, h);
  const g = tint.getContext('2d');
  g.translate(-x, -y);
  // Draws the letters in `fill`, shifted by (dx, dy), with whatever shadow `ctx` has set.
  return (fill, dx = 0, dy = 0) => {
    g.globalCompositeOperation = 'copy';
    g.drawImage(mask, x, y);
    g.globalCompositeOperation = 'source-in';
    g.fillStyle = typeof fill === 'string' ? fill : fill(g);
    g.fillRect(x, y, w, h);
    ctx.drawImage(tint, x + dx, y + dy);
  };
}

function drawBlock(ctx: SKRSContext2D, lb: LaidOutBlock, decision: LegibilityDecision, area: Area, seating: Seating = {}): void {
  const { block, fontSize: size } = lb;
  const color = decision.textColor;
  setText(ctx, lb);
  const fillLetters = glyphLayer(ctx, lb, area);
  const t = decision.treatment;
  if (t.kind === 'plate') {
    ctx.fillStyle = css(t.color, t.alpha);
    roundRect(ctx, lb.box.x, lb.box.y, lb.box.w, lb.box.h, Math.round(size * 0.2));
  }
  const styles = new Set<string>(block.style);
  const haloColor = t.kind === 'outline' ? t.color : undefined;
  if (seating.shadow) {
    // Contact shadow: only the blurred shadow of the glyphs, a little below them (the glyphs themselves
    // are drawn far off the canvas and only their shadow is shifted back).
    const far = 4 * (lb.box.w + lb.box.h) + 1000;
    ctx.shadowColor = css(seating.shadow.color, seating.shadow.alpha);
    ctx.shadowBlur = Math.max(2, size * 0.18);
    ctx.shadowOffsetX = far;
    ctx.shadowOffsetY = Math.max(1, Math.round(size * 0.05));
    ctx.fillStyle = '#000';
    eachGlyphRun(ctx, lb, (s, x, y) => ctx.fillText(s, x - far, y));
    ctx.shadowBlur = ctx.shadowOffsetX = ctx.shadowOffsetY = 0;
    ctx.shadowColor = 'rgba(0,0,0,0)';
  }
  if (styles.has('shadow')) {
    // A soft drop shadow down-right, dark under light text and light under dark text.
    const dark = luminance(color) > 0.25;
    ctx.shadowColor = dark ? 'rgba(0,0,0,0.6)' : 'rgba(255,255,255,0.6)';
    ctx.shadowBlur = Math.max(2, size * 0.08);
    ctx.shadowOffsetX = ctx.shadowOffsetY = Math.max(2, Math.round(size * 0.07));
    fillLetters(css(color));
    ctx.shadowBlur = ctx.shadowOffsetX = ctx.shadowOffsetY = 0;
    ctx.shadowColor = 'rgba(0,0,0,0)';
  }
  const neon = styles.has('neon');
  const outlined = styles.has('outline') || haloColor !== undefined;
  // 8 % of the size, half of it outside the letter: at 12 % outlined capitals went blobby enough for
  // PaddleOCR to read ONLY as ONly (docs/benchmarks.md, session 7).
  const outlineWidth = Math.max(2, Math.round(size * 0.08));
  if (styles.has('3d')) {
    // Extruded look: stacked offset copies, darkest at the back, so the side reads as a shaded depth.
    // With an outline the outlined letter is what is extruded: else the outline, drawn over the side,
    // hides all but a hairline of it and the letters lose their depth.
    const depth = extrusionDepth(size);
    const side = extrusionColor(color);
    ctx.lineWidth = outlineWidth;
    for (let k = depth; k >= 1; k--) {
      const shade = css(mix(side, BLACK, (0.35 * k) / depth));
      ctx.strokeStyle = shade;
      if (outlined) eachGlyphRun(ctx, lb, (s, x, y) => ctx.strokeText(s, x + k, y + k));
      fillLetters(shade, k, k);
    }
  }
  const stroke = (): void => {
    if (!outlined) return;
    ctx.strokeStyle = css(haloColor ?? haloFor(luminance(neon ? neonCore(color) : color)));
    ctx.lineWidth = outlineWidth;
    eachGlyphRun(ctx, lb, (s, x, y) => ctx.strokeText(s, x, y));
  };
  // Neon's outline goes over its glow, so the glow cannot wash out the contrast the outline gives the core.
  if (!neon) stroke();
  if (neon) {
    // Neon: the coloured glow lies outside the glyphs, wide and faint then tight and strong; the core is
    // drawn on top, near white.
    ctx.shadowColor = css(neonGlow(color));
    for (const blur of [size * 0.55, size * 0.28, size * 0.1]) {
      ctx.shadowBlur = Math.max(2, blur);
      fillLetters(css(neonGlow(color)));
    }
    ctx.shadowBlur = 0;
    ctx.shadowColor = 'rgba(0,0,0,0)';
    stroke();
    fillLetters(css(neonCore(color)));
  } else fillLetters((g) => faceFill(g, lb, color));
}

/** The decision for the face tinted toward the scene's light, when that still reads as well; else `d`. */
function tintedTowardLight(d: LegibilityDecision, light: Rgb, decide: (c: Rgb) => LegibilityDecision): LegibilityDecision {
  // The light's hue, not its brightness: a neutral light (however dim) changes nothing, an orange sunset
  // warms a white face as it would warm white paint.
  const top = Math.max(1, light.r, light.g, light.b);
  const k = (v: number, l: number): number => v * (1 - LIGHT_TINT + (LIGHT_TINT * l) / top);
  const c = d.textColor;
  const tinted = decide({ r: k(c.r, light.r), g: k(c.g, light.g), b: k(c.b, light.b) });
  return tinted.treatment.kind === d.treatment.kind && tinted.effectiveContrast >= MIN_CONTRAST ? tinted : d;
}

/**
 * A contact shadow for lettering lighter than what is behind it (darkening there only adds contrast):
 * the backdrop's own colour, much darker, at an opacity that fades as the backdrop is already dark.
 * None for styles that bring their own depth or light (shadow, 3D, neon).
 */
function contactShadow(lb: LaidOutBlock, d: LegibilityDecision, bg: BackgroundStats): Seating {
  const st = new Set<string>(lb.block.style);
  if (st.has('shadow') || st.has('3d') || st.has('neon')) return {};
  const behind = d.treatment.kind === 'plate' ? d.treatment.color : bg.meanRgb;
  if (luminance(d.textColor) <= luminance(behind)) return {};
  return { shadow: { color: mix(behind, BLACK, 0.75), alpha: 0.55 } };
}

/** How far 3D lettering is extruded (px, down-right). */
export function extrusionDepth(fontSize: number): number {
  return Math.max(2, Math.round(fontSize * 0.06));
}

/** A block's box grown by `grow` px on every side, clamped to `bound`. */
function grownBox(lb: LaidOutBlock, grow: number, bound: Area): Area {
  const x = Math.max(bound.x, Math.floor(lb.box.x) - grow);
  const y = Math.max(bound.y, Math.floor(lb.box.y) - grow);
  return { x, y, w: Math.min(bound.x + bound.w, Math.ceil(lb.box.x + lb.box.w) + grow) - x, h: Math.min(bound.y + bound.h, Math.ceil(lb.box.y + lb.box.h) + grow) - y };
}

/** The part of the image a block can touch: its box plus room for glows and shadows, clamped. */
function touchedArea(lb: LaidOutBlock, width: number, height: number): Area {
  return grownBox(lb, effectReach(lb), { x: 0, y: 0, w: width, h: height });
}

function copyRect(src: Uint8ClampedArray, srcW: number, dst: Uint8ClampedArray, dstW: number, sx: number, sy: number, dx: number, dy: number, w: number, h: number): void {
  for (let row = 0; row < h; row++) {
    const s = ((sy + row) * srcW + sx) * 4;
    dst.set(src.subarray(s, s + w * 4), ((dy + row) * dstW + dx) * 4);
  }
}

/**
 * Renders every block and reports the layout and the legibility decision taken for each. Each block is
 * drawn on a canvas the size of the area it touches, not the whole image: copying a full 1024² image in
 * and out of the canvas would cost more than the drawing.
 */
export function renderTextPlanDetailed(image: RawImage, plan: TextPlan, opts: RenderOptions = {}): RenderReport {
  // Blocks the prompt did not place go where this picture is calmest; a given layout is kept as it is.
  const layout = opts.layout ?? layoutPlan(placeInCalm(plan, image), image.width, image.height, opts.measure ?? advanceMeasure);
  const out = new Uint8ClampedArray(image.data);
  let colors: Rgb[] | undefined;
  let light: Rgb | undefined;
  const legibility = layout.blocks.map((lb) => {
    const bg = backgroundStats(image, lb.box);
    // No colour asked for: one from the picture's palette that reads bare, else white or near-black.
    const auto = (): Rgb => paletteColor((colors ??= palette(image)), bg) ?? autoColor(bg);
    const requested = lb.block.color.name === 'auto' ? auto() : hexToRgb(lb.block.color.hex);
    // Neon's glyphs are its near-white core (the colour is the glow around them): judge the core.
    const neon = lb.block.style.includes('neon');
    // A gradient or metal face is judged on every colour it takes, not only the one it is named.
    const faceColors = (c: Rgb): Rgb[] => (faceStops(lb, c) ?? []).map(([, s]) => s);
    const decide = (c: Rgb): LegibilityDecision => ({ ...decideLegibility(neon ? neonCore(c) : c, bg, { fontSize: lb.fontSize, faceColors: faceColors(c) }), textColor: c });
    let decision: LegibilityDecision = opts.plain ? { textColor: requested, bareContrast: 0, treatment: { kind: 'none' }, effectiveContrast: 0 } : decide(requested);
    const seat = !opts.plain && !opts.unseated;
    if (seat && !neon) decision = tintedTowardLight(decision, (light ??= sceneLight(image)), decide);
    const seating: Seating = seat ? contactShadow(lb, decision, bg) : {};
    if (seating.shadow) decision = { ...decision, contactShadow: seating.shadow };
    const a = touchedArea(lb, image.width, image.height);
    if (a.w <= 0 || a.h <= 0) return decision;
    const patch = new Uint8ClampedArray(a.w * a.h * 4);
    copyRect(out, image.width, patch, a.w, a.x, a.y, 0, 0, a.w, a.h);
    const canvas = createCanvas(a.w, a.h);
    const ctx = canvas.getContext('2d');
    ctx.putImageData(new ImageData(patch, a.w, a.h), 0, 0);
    ctx.translate(-a.x, -a.y);
    drawBlock(ctx, lb, decision, a, seating);
    const drawn = ctx.getImageData(0, 0, a.w, a.h).data;
    copyRect(drawn, a.w, out, image.width, 0, 0, a.x, a.y, a.w, a.h);
    return decision;
  });
  return { image: { width: image.width, height: image.height, data: out }, layout, legibility };
}

/** Draws the plan's text onto a copy of `image` and returns the copy. */
export function renderTextPlan(image: RawImage, plan: TextPlan, opts: RenderOptions = {}): RawImage {
  return renderTextPlanDetailed(image, plan, opts).image;
}


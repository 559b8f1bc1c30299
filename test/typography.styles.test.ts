import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RawImage } from '../src/engine/types.js';
import { hexToRgb } from '../src/typography/contrast.js';
import { layoutPlan, parseTextPlan, renderTextPlanDetailed } from '../src/typography/index.js';
import { extrusionDepth } from '../src/typography/render.js';
import { advanceMeasure, DISPLAY_WORD_SPACING, ensureFamily, FAMILIES, familyCoverage, faceRuns, fontString } from '../src/typography/fonts.js';
import { createCanvas } from '@napi-rs/canvas';
import type { Layout, TextStyle } from '../src/typography/types.js';

const W = 480;
const H = 240;

function solid(rgb: [number, number, number]): RawImage {
  const data = new Uint8ClampedArray(W * H * 4);
  for (let i = 0; i < W * H; i++) data.set([...rgb, 255], i * 4);
  return { width: W, height: H, data };
}

/** The same layout with other styles: the reference glyphs sit exactly where the styled ones do. */
function withStyles(layout: Layout, style: TextStyle[]): Layout {
  return { ...layout, blocks: layout.blocks.map((lb) => ({ ...lb, block: { ...lb.block, style } })) };
}

/** Renders `prompt` on `bg` with its styles and plainly (no effect, no legibility treatment), same layout. */
function renderPair(prompt: string, bg: [number, number, number]): { styled: RawImage; mask: Uint8Array; layout: Layout; color: string } {
  const plan = parseTextPlan(prompt);
  const image = solid(bg);
  const layout = layoutPlan(plan, W, H);
  const styled = renderTextPlanDetailed(image, plan, { layout, plain: true }).image;
  const ref = renderTextPlanDetailed(image, plan, { layout: withStyles(layout, []), plain: true }).image;
  const mask = new Uint8Array(W * H);
  for (let i = 0; i < W * H; i++) {
    const d = Math.abs(ref.data[i * 4]! - bg[0]) + Math.abs(ref.data[i * 4 + 1]! - bg[1]) + Math.abs(ref.data[i * 4 + 2]! - bg[2]);
    if (d > 60) mask[i] = 1;
  }
  return { styled, mask, layout, color: plan.blocks[0]!.color.hex };
}

/** Pixels at least `gap` px from every glyph pixel (Chebyshev distance) but within `reach`. */
function ring(mask: Uint8Array, gap: number, reach: number): number[] {
  const near = (r: number): Uint8Array => {
    const out = new Uint8Array(W * H);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        if (!mask[y * W + x]) continue;
        for (let dy = -r; dy <= r; dy++)
          for (let dx = -r; dx <= r; dx++) {
            const xx = x + dx;
            const yy = y + dy;
            if (xx >= 0 && yy >= 0 && xx < W && yy < H) out[yy * W + xx] = 1;
          }
      }
    return out;
  };
  const inner = near(gap);
  const outer = near(reach);
  const out: number[] = [];
  for (let i = 0; i < W * H; i++) if (outer[i] && !inner[i]) out.push(i);
  return out;
}

describe('styles that look like their names', () => {
  it('neon: a coloured glow outside the glyphs and a bright core', () => {
    const bg: [number, number, number] = [10, 10, 20];
    const { styled, mask, color } = renderPair('霓虹粉色大标题“夜色酒吧”', bg);
    const c = hexToRgb(color);
    const glow = ring(mask, 2, 6);
    const lit = glow.filter((i) => styled.data[i * 4]! > bg[0] + 30);
    assert.ok(lit.length > glow.length * 0.5, `glow covers ${lit.length}/${glow.length} pixels around the glyphs`);
    // The glow has the colour's hue (pink: red over green), the core is near white.
    const mean = (idx: number[], ch: number): number => idx.reduce((s, i) => s + styled.data[i * 4 + ch]!, 0) / idx.length;
    assert.ok(mean(lit, 0) > mean(lit, 1) + 20, 'glow is pink, not grey');
    const core: number[] = [];
    for (let i = 0; i < W * H; i++) if (mask[i]) core.push(i);
    const coreLum = (mean(core, 0) + mean(core, 1) + mean(core, 2)) / 3;
    assert.ok(coreLum > (c.r + c.g + c.b) / 3 + 15, `core (${coreLum.toFixed(0)}) is brighter than the colour itself`);
  });

  it('3D: an extrusion offset down-right, in a darker shade, nothing up-left', () => {
    const bg: [number, number, number] = [240, 240, 240];
    const { styled, mask, layout } = renderPair('立体红色大标题“立体字”', bg);
    const d = extrusionDepth(layout.blocks[0]!.fontSize);
    let side = 0;
    let sideDark = 0;
    let upLeft = 0;
    for (let y = d; y < H - d; y++)
      for (let x = d; x < W - d; x++) {
        const i = y * W + x;
        if (mask[i]) continue;
        const lum = (styled.data[i * 4]! + styled.data[i * 4 + 1]! + styled.data[i * 4 + 2]!) / 3;
        if (mask[(y - d) * W + (x - d)]) {
          side++;
          if (lum < 150) sideDark++;
        }
        // Only the extrusion (down-right) may change pixels outside the face.
        if (mask[(y + d) * W + (x + d)] && !mask[(y - d) * W + (x - d)] && !mask[(y - 1) * W + (x - 1)] && lum < 200) upLeft++;
      }
    assert.ok(side > 50 && sideDark > side * 0.6, `extrusion: ${sideDark}/${side} offset pixels shaded`);
    assert.ok(upLeft < side * 0.05, `nothing drawn up-left (${upLeft})`);
  });

  it('3D with an outline: the outlined letter is extruded, so the depth shows beyond the outline', () => {
    const bg: [number, number, number] = [240, 240, 240];
    const plan = parseTextPlan('立体红色大标题“立体字”');
    const layout = layoutPlan(plan, W, H);
    const draw = (style: TextStyle[]): RawImage => renderTextPlanDetailed(solid(bg), plan, { layout: withStyles(layout, style), plain: true }).image;
    // Pixels the extrusion adds outside what the same letters cover without it (dark: the side is a shade of red).
    const added = (withDepth: RawImage, without: RawImage): number => {
      let n = 0;
      for (let i = 0; i < W * H; i++) {
        const lum = (k: RawImage): number => (k.data[i * 4]! + k.data[i * 4 + 1]! + k.data[i * 4 + 2]!) / 3;
        if (lum(without) > 225 && lum(withDepth) < 150) n++;
      }
      return n;
    };
    const bare = added(draw(['3d']), draw([]));
    const outlined = added(draw(['3d', 'outline']), draw(['outline']));
    // Extruding only the unoutlined letter left a hairline at most (the outline covered the rest).
    assert.ok(bare > 200 && outlined > bare * 0.6, `side outside the outline ${outlined} px vs ${bare} px without one`);
  });

  it('brush lines draw CJK punctuation from Noto Serif SC Bold, not from the brush face', () => {
    // The brush face does have its own ！ and ， (so this is a choice, not a fallback): those misread.
    const mashan = familyCoverage('ma-shan-zheng');
    assert.ok(['！', '，', '。'].every((c) => mashan.has(c.codePointAt(0)!)));
    assert.deepEqual(faceRuns('心想事成，全场！好', 'brush'), [
      { text: '心想事成', face: 'brush' },
      { text: '，', face: 'serif-bold' },
      { text: '全场', face: 'brush' },
      { text: '！', face: 'serif-bold' },
      { text: '好', face: 'brush' },
    ]);
    assert.deepEqual(faceRuns('Grand Opening!', 'brush'), [{ text: 'Grand Opening!', face: 'brush' }], 'Latin punctuation keeps the Latin brush face');
    assert.deepEqual(faceRuns('新年快乐！', 'sans'), [{ text: '新年快乐！', face: 'sans' }]);
    // The drawn ！: compare the rendered block's ink with ！ drawn alone in each face at the same spot.
    const plan = parseTextPlan('书法风格的黑色大字写着“好！”');
    const layout = layoutPlan(plan, W, H);
    const lb = layout.blocks[0]!;
    assert.equal(lb.block.font, 'brush');
    const rendered = renderTextPlanDetailed(solid([255, 255, 255]), plan, { layout, plain: true }).image;
    const line = lb.lines[0]!;
    const cell = { x: Math.round(line.x + advanceMeasure('好', lb.fontSize, 'brush')), w: Math.round(lb.fontSize) };
    const ink = (data: Uint8ClampedArray): Set<number> => {
      const out = new Set<number>();
      for (let y = 0; y < H; y++) for (let x = cell.x; x < cell.x + cell.w; x++) if (data[(y * W + x) * 4]! < 128) out.add(y * W + x);
      return out;
    };
    const alone = (font: string): Set<number> => {
      const ctx = createCanvas(W, H).getContext('2d');
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, W, H);
      ctx.fillStyle = '#000';
      ctx.font = font;
      ctx.textBaseline = 'middle';
      ctx.fillText('！', line.x + advanceMeasure('好', lb.fontSize, 'brush'), line.y + line.height / 2);
      return ink(ctx.getImageData(0, 0, W, H).data);
    };
    ensureFamily('ma-shan-zheng');
    const got = ink(rendered.data);
    const iou = (a: Set<number>, b: Set<number>): number => [...a].filter((i) => b.has(i)).length / new Set([...a, ...b]).size;
    const serif = iou(got, alone(fontString('serif-bold', lb.fontSize)));
    const brush = iou(got, alone(`${lb.fontSize}px "${FAMILIES['ma-shan-zheng'].alias}"`));
    assert.ok(got.size > 20 && serif > 0.85 && brush < 0.5, `！ overlaps the serif's by ${serif.toFixed(2)}, the brush face's by ${brush.toFixed(2)}`);
  });

  it('shadow: a soft dark copy offset down-right', () => {
    const bg: [number, number, number] = [200, 220, 240];
    const { styled, mask, layout } = renderPair('阴影白色大标题“Shadow”', bg);
    const off = Math.max(2, Math.round(layout.blocks[0]!.fontSize * 0.07));
    let below = 0;
    let above = 0;
    for (let y = off; y < H - off; y++)
      for (let x = off; x < W - off; x++) {
        const i = y * W + x;
        if (mask[i]) continue;
        const dark = styled.data[i * 4 + 2]! < bg[2] - 40;
        if (dark && mask[(y - off) * W + (x - off)]) below++;
        if (dark && mask[(y + off) * W + (x + off)] && !mask[(y - off) * W + (x - off)]) above++;
      }
    assert.ok(below > 100 && below > above * 5, `shadow below-right ${below}, above-left ${above}`);
  });

  it('gradient and metallic fills vary down the glyphs; a flat fill does not', () => {
    // Mean brightness of the glyphs' top third minus their bottom third: a fill lit from above is positive.
    const spread = (prompt: string): number => {
      const { styled, mask } = renderPair(prompt, [20, 20, 20]);
      let top = H;
      let bottom = 0;
      for (let i = 0; i < W * H; i++) if (mask[i]) (top = Math.min(top, Math.floor(i / W))), (bottom = Math.max(bottom, Math.floor(i / W)));
      const third = (bottom - top) / 3;
      const band = (from: number, to: number): number => {
        let s = 0;
        let n = 0;
        for (let y = Math.round(from); y < Math.round(to); y++)
          for (let x = 0; x < W; x++) {
            const i = y * W + x;
            if (!mask[i]) continue;
            s += styled.data[i * 4]! + styled.data[i * 4 + 1]! + styled.data[i * 4 + 2]!;
            n++;
          }
        return s / Math.max(1, n) / 3;
      };
      return band(top, top + third) - band(bottom - third, bottom + 1);
    };
    const flat = spread('蓝色大标题“渐变色彩”');
    const grad = spread('渐变蓝色大标题“渐变色彩”');
    assert.ok(grad > flat + 25, `gradient ${grad.toFixed(0)} vs flat ${flat.toFixed(0)}`);
    assert.ok(Math.abs(flat) < 10, `flat ${flat.toFixed(0)}`);
    assert.ok(spread('金色金属质感大标题“GOLD”') > 25, 'metallic gold');
    const named = spread('gold title "GOLD"');
    assert.ok(named > 12, `gold named as the colour gets a sheen (${named.toFixed(0)})`);
  });

  it('手写涂鸦 uses the doodle face, 书法 the brush face', () => {
    assert.equal(parseTextPlan('手写涂鸦“周末快乐”').blocks[0]!.font, 'doodle');
    assert.equal(parseTextPlan('graffiti text "WEEKEND"').blocks[0]!.font, 'doodle');
    assert.equal(parseTextPlan('书法“福”').blocks[0]!.font, 'brush');
    assert.equal(parseTextPlan('毛笔字“福”').blocks[0]!.font, 'brush');
  });

  it('condensed display faces get wider word spaces', () => {
    const size = 60;
    const plain = advanceMeasure('ELECTRIC', size, 'display') + advanceMeasure('VEHICLES', size, 'display');
    const spaced = advanceMeasure('ELECTRIC VEHICLES', size, 'display');
    const space = spaced - plain;
    assert.ok(space >= DISPLAY_WORD_SPACING * size, `word space ${space.toFixed(1)} px at ${size} px`);
  });
});

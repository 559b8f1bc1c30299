import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RawImage } from '../src/engine/types.js';
import { backgroundStats, contrastRatio, luminance, worstContrast } from '../src/typography/contrast.js';
import { parseTextPlan, renderTextPlanDetailed } from '../src/typography/index.js';
import { busyness, palette, paletteColor, placeInCalm } from '../src/typography/placement.js';

const W = 600;
const H = 600;

/** Deterministic noise so the busy half is the same on every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A calm teal picture with one busy half (bright confetti noise) on the given side. */
function oneBusyHalf(side: 'top' | 'bottom' | 'left' | 'right'): RawImage {
  const r = rng(7);
  const data = new Uint8ClampedArray(W * H * 4);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const busy = side === 'top' ? y < H / 2 : side === 'bottom' ? y >= H / 2 : side === 'left' ? x < W / 2 : x >= W / 2;
      const i = (y * W + x) * 4;
      if (busy) data.set([r() * 255, r() * 255, r() * 255, 255], i);
      else data.set([20, 70 + (y / H) * 20, 80, 255], i);
    }
  return { width: W, height: H, data };
}

describe('text that sits in the picture', () => {
  it('measures busyness', () => {
    const img = oneBusyHalf('top');
    assert.ok(busyness(img, { x: 0, y: 0, w: W, h: H / 2 }) > 10 * busyness(img, { x: 0, y: H / 2, w: W, h: H / 2 }));
  });

  it('a block without a position goes to the calm part of the picture', () => {
    const cases: Array<['top' | 'bottom' | 'left' | 'right', (v: string, h: string) => boolean]> = [
      ['top', (v) => v === 'bottom'],
      ['bottom', (v) => v === 'top'],
      ['left', (_v, h) => h === 'right'],
      ['right', (_v, h) => h === 'left'],
    ];
    for (const [busy, ok] of cases) {
      const img = oneBusyHalf(busy);
      const plan = placeInCalm(parseTextPlan('海报，大标题“春日限定”，副标题“全场八折”'), img);
      for (const b of plan.blocks) assert.ok(ok(b.position.v, b.position.h), `busy ${busy}: ${b.text} at ${b.position.v}/${b.position.h}`);
      // Title and subtitle stay together.
      assert.deepEqual(plan.blocks[0]!.position, plan.blocks[1]!.position);
      // And the drawn text really is over the calm half.
      const { layout } = renderTextPlanDetailed(img, parseTextPlan('海报，大标题“春日限定”，副标题“全场八折”'));
      for (const lb of layout.blocks) {
        const cx = lb.box.x + lb.box.w / 2;
        const cy = lb.box.y + lb.box.h / 2;
        const inBusy = busy === 'top' ? cy < H / 2 : busy === 'bottom' ? cy >= H / 2 : busy === 'left' ? cx < W / 2 : cx >= W / 2;
        assert.ok(!inBusy, `busy ${busy}: "${lb.block.text}" drawn at ${cx.toFixed(0)},${cy.toFixed(0)}`);
      }
    }
  });

  it("the prompt's position wins over the calm region", () => {
    const img = oneBusyHalf('top');
    const plan = placeInCalm(parseTextPlan('顶部大标题“春日限定”'), img);
    assert.equal(plan.blocks[0]!.position.v, 'top');
    const { layout } = renderTextPlanDetailed(img, parseTextPlan('a poster with "SALE" at the top'));
    assert.ok(layout.blocks[0]!.box.y < H / 3);
  });

  it('without a colour, the text takes a palette colour with contrast ≥ 4.5:1', () => {
    // Dark navy picture with an orange sun: the text should be orange-ish, not plain white.
    const data = new Uint8ClampedArray(W * H * 4);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const sun = (x - 450) ** 2 + (y - 150) ** 2 < 110 ** 2;
        data.set(sun ? [240, 140, 40, 255] : [18, 24, 60, 255], (y * W + x) * 4);
      }
    const img: RawImage = { width: W, height: H, data };
    const pal = palette(img);
    assert.ok(pal.some((c) => c.r > 200 && c.g > 100 && c.b < 80), 'orange is in the palette');
    const report = renderTextPlanDetailed(img, parseTextPlan('底部大字“日落时分”'));
    const lb = report.layout.blocks[0]!;
    const chosen = report.legibility[0]!.textColor;
    assert.ok(chosen.r > chosen.b + 60 && chosen.r > 150, `text colour ${JSON.stringify(chosen)} comes from the orange`);
    const bg = backgroundStats(img, lb.box);
    assert.ok(worstContrast(luminance(chosen), bg) >= 4.5, 'reads at ≥ 4.5:1 bare');
    assert.equal(report.legibility[0]!.treatment.kind, 'none', 'no plate or outline needed');
    // The prompt's colour wins.
    const red = renderTextPlanDetailed(img, parseTextPlan('底部蓝色大字“日落时分”')).legibility[0]!.textColor;
    assert.ok(red.b > red.r, 'blue as asked');
  });

  it('paletteColor adjusts a colour just enough, and gives up on a background no colour can beat', () => {
    const dark = { mean: 0.02, p10: 0.01, p90: 0.03, spread: 0.01, meanRgb: { r: 10, g: 10, b: 20 } };
    const c = paletteColor([{ r: 200, g: 40, b: 40 }], dark)!;
    assert.ok(contrastRatio(luminance(c), 0.03) >= 4.5);
    assert.ok(c.r > c.g + 40, 'still red');
    const mixed = { mean: 0.5, p10: 0.0, p90: 1.0, spread: 0.4, meanRgb: { r: 128, g: 128, b: 128 } };
    assert.equal(paletteColor([{ r: 200, g: 40, b: 40 }], mixed), undefined);
    assert.equal(paletteColor([{ r: 120, g: 120, b: 120 }], dark), undefined, 'greys are not a palette colour');
  });
});

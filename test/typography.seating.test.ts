/**
 * Text seated in the scene: a soft contact shadow under light lettering and the face tinted toward the
 * colour of the scene's light, with the contrast still ≥ 4.5:1 and the words still read back by OCR.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RawImage } from '../src/engine/types.js';
import { backgroundStats, luminance, MIN_CONTRAST, worstContrast } from '../src/typography/contrast.js';
import { layoutPlan, parseTextPlan, renderTextPlanDetailed } from '../src/typography/index.js';
import { sceneLight } from '../src/typography/placement.js';
import { ocrAvailable } from './helpers/judges/ocr.js';
import { PaddleRecognizer, paddleOcrAvailable } from './helpers/judges/paddle-ocr.js';
import { drawnText, readBackBlock, readBackBlockPaddle } from './helpers/judges/verify.js';

const W = 640;
const H = 360;

/** A dusk scene: a deep teal wall (where the text goes) under a warm orange sky band at the top. */
function dusk(): RawImage {
  const data = new Uint8ClampedArray(W * H * 4);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set(y < 50 ? [250, 170, 90, 255] : [30, 70, 80, 255], (y * W + x) * 4);
  return { width: W, height: H, data };
}

const lum = (img: RawImage, i: number): number => luminance({ r: img.data[i * 4]!, g: img.data[i * 4 + 1]!, b: img.data[i * 4 + 2]! });

describe('text seated in the scene', () => {
  const prompt = '底部白色大字写着“晚风”';
  const img = dusk();
  const plan = parseTextPlan(prompt);
  const layout = layoutPlan(plan, W, H);
  const seated = renderTextPlanDetailed(img, plan, { layout });
  const unseated = renderTextPlanDetailed(img, plan, { layout, unseated: true });
  const lb = layout.blocks[0]!;

  it('a soft contact shadow under the glyphs: darker than the wall beside them, none where nothing is drawn', () => {
    // Glyph pixels: where the unseated rendering changed the picture.
    const glyph = new Uint8Array(W * H);
    for (let i = 0; i < W * H; i++) if (Math.abs(unseated.image.data[i * 4]! - img.data[i * 4]!) > 40) glyph[i] = 1;
    const wall = luminance({ r: 30, g: 70, b: 80 });
    let under = 0;
    let darker = 0;
    const reach = Math.round(lb.fontSize * 0.12);
    for (let y = 60; y < H - reach; y++)
      for (let x = 0; x < W; x++) {
        const i = y * W + x;
        // Just below a glyph's edge, outside every glyph.
        if (glyph[i] || !glyph[(y - reach) * W + x]) continue;
        under++;
        if (lum(seated.image, i) < wall * 0.8) darker++;
      }
    assert.ok(under > 100 && darker > under * 0.6, `${darker} of ${under} pixels just below the glyphs are darker than the wall`);
    // Unseated, the same pixels are the wall itself; far from the text the wall is untouched.
    const far = (40 + 60) * W + 5;
    assert.equal(lum(seated.image, far), lum(img, far));
    let changedUnseated = 0;
    for (let y = 60; y < H - reach; y++) for (let x = 0; x < W; x++) if (!glyph[y * W + x] && glyph[(y - reach) * W + x] && Math.abs(unseated.image.data[(y * W + x) * 4]! - 30) > 8) changedUnseated++;
    assert.ok(changedUnseated < under * 0.2, 'the darkening comes from the seating');
  });

  it('the face is tinted toward the light (warm sky → warmer white), contrast still ≥ 4.5:1', () => {
    const light = sceneLight(img);
    assert.ok(light.r > light.b + 100, `the light is the orange sky ${JSON.stringify(light)}`);
    const c = seated.legibility[0]!.textColor;
    assert.ok(c.r > c.b + 15 && c.r > 230, `white tinted warm: ${JSON.stringify(c)}`);
    assert.deepEqual(unseated.legibility[0]!.textColor, { r: 255, g: 255, b: 255 }, 'unseated: white as asked');
    // The drawn glyph core carries the tint.
    let core = 0;
    let warm = 0;
    for (let i = 0; i < W * H; i++) {
      if (seated.image.data[i * 4 + 1]! < 200) continue;
      core++;
      if (seated.image.data[i * 4]! > seated.image.data[i * 4 + 2]! + 15) warm++;
    }
    assert.ok(core > 200 && warm > core * 0.8, `${warm} of ${core} glyph pixels warm`);
    const bg = backgroundStats(img, lb.box);
    assert.ok(worstContrast(luminance(c), bg) >= MIN_CONTRAST, 'tinted face still ≥ 4.5:1 against the wall');
  });

  it('a tint that would cost contrast is not applied', () => {
    // Grey text on a dark grey wall under a blue light: the tint darkens the face.
    const data = new Uint8ClampedArray(W * H * 4);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set(y < 24 ? [40, 60, 255, 255] : [60, 60, 60, 255], (y * W + x) * 4);
    const grey: RawImage = { width: W, height: H, data };
    assert.ok(sceneLight(grey).b > 200, 'the light is the blue band');
    // #a8a8a8 reads at 4.6:1 bare; tinted it would fall to ~4.0:1 and need an outline: kept as asked.
    const kept = renderTextPlanDetailed(grey, parseTextPlan('底部用#a8a8a8的大字写着“晚风”')).legibility[0]!;
    assert.deepEqual(kept.textColor, { r: 168, g: 168, b: 168 });
    assert.equal(kept.treatment.kind, 'none');
    assert.ok(kept.effectiveContrast >= MIN_CONTRAST);
    // A lighter grey keeps ≥ 4.5:1 tinted, so it takes the light's blue.
    const tinted = renderTextPlanDetailed(grey, parseTextPlan('底部用#ececec的大字写着“晚风”')).legibility[0]!;
    assert.ok(tinted.textColor.b > tinted.textColor.r + 10, `tinted blue: ${JSON.stringify(tinted.textColor)}`);
    assert.ok(tinted.effectiveContrast >= MIN_CONTRAST && tinted.treatment.kind === 'none');
  });

  describe('seated text still reads back', { skip: paddleOcrAvailable() ? false : 'PaddleOCR models not installed' }, () => {
    let rec: PaddleRecognizer;
    before(async () => {
      rec = await PaddleRecognizer.load();
    });
    after(async () => {
      await rec.close();
    });
    it('PaddleOCR and Tesseract read the seated text exactly', async () => {
      for (const p of [prompt, 'white text that says "EVENING BREEZE" at the bottom']) {
        const r = renderTextPlanDetailed(img, parseTextPlan(p));
        const b = r.layout.blocks[0]!;
        assert.equal(await readBackBlockPaddle(rec, r.image, b), drawnText(b), p);
        if (ocrAvailable('chi_sim+eng')) assert.equal(await readBackBlock(r.image, img, b, r.legibility[0]!), drawnText(b), p);
      }
    });
  });
});

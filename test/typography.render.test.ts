import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RawImage } from '../src/engine/types.js';
import { backgroundStats, contrastRatio, decideLegibility, hexToRgb, luminance, MIN_CONTRAST, worstContrast } from '../src/typography/contrast.js';
import { applyTypography, layoutPlan, parseTextPlan, renderTextPlan, renderTextPlanDetailed } from '../src/typography/index.js';
import { faceStops } from '../src/typography/render.js';

function solid(w: number, h: number, rgb: [number, number, number]): RawImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < data.length; i += 4) {
    data[i] = rgb[0];
    data[i + 1] = rgb[1];
    data[i + 2] = rgb[2];
    data[i + 3] = 255;
  }
  return { width: w, height: h, data };
}

/** Left half black, right half white: a busy background for any text colour. */
function split(w: number, h: number): RawImage {
  const img = solid(w, h, [0, 0, 0]);
  for (let y = 0; y < h; y++) for (let x = (w / 2) | 0; x < w; x++) img.data.fill(255, (y * w + x) * 4, (y * w + x) * 4 + 3);
  return img;
}

function lumAt(img: RawImage, x: number, y: number): number {
  const i = (y * img.width + x) * 4;
  return luminance({ r: img.data[i]!, g: img.data[i + 1]!, b: img.data[i + 2]! });
}

function countPixels(img: RawImage, box: { x: number; y: number; w: number; h: number }, pred: (l: number) => boolean): number {
  let n = 0;
  for (let y = box.y; y < box.y + box.h; y++) for (let x = box.x; x < box.x + box.w; x++) if (pred(lumAt(img, x, y))) n++;
  return n;
}

describe('WCAG contrast', () => {
  it('computes the known ratios', () => {
    assert.equal(Math.round(contrastRatio(1, 0) * 10) / 10, 21);
    assert.equal(contrastRatio(0.5, 0.5), 1);
    assert.ok(Math.abs(contrastRatio(luminance(hexToRgb('#777777')), 1) - 4.48) < 0.02);
  });
  it('judges the background by its distribution, not only its mean', () => {
    const bg = backgroundStats(split(200, 100), { x: 0, y: 0, w: 200, h: 100 });
    assert.ok(bg.p10 < 0.01 && bg.p90 > 0.99);
    assert.ok(worstContrast(1, bg) < 1.1, 'white text is unreadable over the white half');
  });
  it('black on white needs nothing; white on white gets a dark treatment reaching 4.5:1', () => {
    const white = backgroundStats(solid(64, 64, [255, 255, 255]), { x: 0, y: 0, w: 64, h: 64 });
    const none = decideLegibility({ r: 0, g: 0, b: 0 }, white, { fontSize: 40 });
    assert.equal(none.treatment.kind, 'none');
    const fix = decideLegibility({ r: 255, g: 255, b: 255 }, white, { fontSize: 40 });
    assert.notEqual(fix.treatment.kind, 'none');
    assert.ok(fix.treatment.kind !== 'none' && luminance(fix.treatment.color) < 0.05, 'dark halo');
    assert.ok(fix.effectiveContrast >= MIN_CONTRAST);
  });
  it('a busy background gets a plate with just enough opacity', () => {
    const bg = backgroundStats(split(200, 100), { x: 0, y: 0, w: 200, h: 100 });
    const d = decideLegibility({ r: 255, g: 215, b: 0 }, bg, { fontSize: 40 });
    assert.equal(d.treatment.kind, 'plate');
    assert.ok(d.effectiveContrast >= MIN_CONTRAST);
    if (d.treatment.kind === 'plate') assert.ok(d.treatment.alpha > 0.5 && d.treatment.alpha <= 1);
  });
});

describe('legibility of faces that change colour', () => {
  const alpha = (d: ReturnType<typeof decideLegibility>): number => (d.treatment.kind === 'plate' ? d.treatment.alpha : 0);
  it('a metal face is judged on its dark band too: the plate grows until the band reads at 4.5:1', () => {
    // Mid-grey speckle: white text needs a dark plate.
    const bg = { mean: 0.3, p10: 0.12, p90: 0.55, spread: 0.15, meanRgb: { r: 140, g: 140, b: 140 } };
    const white = { r: 255, g: 255, b: 255 };
    const band = { r: 140, g: 140, b: 140 };
    const named = decideLegibility(white, bg, { fontSize: 60 });
    const metal = decideLegibility(white, bg, { fontSize: 60, faceColors: [white, band] });
    assert.equal(metal.treatment.kind, 'plate');
    assert.ok(alpha(metal) > alpha(named), `plate ${alpha(metal)} for the metal vs ${alpha(named)} for its highlight alone`);
    // Reported contrast is the band's, the worst colour of the face.
    assert.ok(metal.effectiveContrast >= MIN_CONTRAST && metal.effectiveContrast < named.effectiveContrast);
  });
  it('a face colour no plate could lift (a black metal\'s grey sheen on a white plate) leaves the plate as it was', () => {
    const bg = { mean: 0.3, p10: 0.05, p90: 0.6, spread: 0.2, meanRgb: { r: 140, g: 140, b: 140 } };
    const black = { r: 0, g: 0, b: 0 };
    const sheen = { r: 166, g: 166, b: 166 };
    assert.equal(alpha(decideLegibility(black, bg, { fontSize: 60, faceColors: [sheen] })), alpha(decideLegibility(black, bg, { fontSize: 60 })));
  });
  it('a metallic block over a busy picture gets a plate under which every colour of its face reads', () => {
    const report = renderTextPlanDetailed(split(640, 320), parseTextPlan('metallic white title that says "ONLY TODAY"'));
    const lb = report.layout.blocks[0]!;
    const d = report.legibility[0]!;
    assert.equal(d.treatment.kind, 'plate');
    // The plate's darkest and lightest parts, sampled at the box's left and right ends, mid-height.
    const y = Math.round(lb.box.y + lb.box.h / 2);
    const plated = [lumAt(report.image, Math.round(lb.box.x + 3), y), lumAt(report.image, Math.round(lb.box.x + lb.box.w - 3), y)];
    for (const [, c] of faceStops(lb, d.textColor)!) {
      for (const l of plated) assert.ok(contrastRatio(luminance(c), l) >= MIN_CONTRAST - 0.2, `face ${JSON.stringify(c)} vs plate ${l.toFixed(3)}: ${contrastRatio(luminance(c), l).toFixed(2)}`);
    }
  });
});

describe('rendering', () => {
  it('white text on white gets dark pixels around it; black on white gets no extra ink', () => {
    const img = solid(512, 512, [255, 255, 255]);
    const whiteReport = renderTextPlanDetailed(img, parseTextPlan('中间白色文字写着“你好世界”'));
    assert.notEqual(whiteReport.legibility[0]!.treatment.kind, 'none');
    const box = whiteReport.layout.blocks[0]!.box;
    assert.ok(countPixels(whiteReport.image, box, (l) => l < 0.05) > 200, 'a dark outline or plate was drawn');
    assert.ok(whiteReport.legibility[0]!.effectiveContrast >= MIN_CONTRAST);

    const blackReport = renderTextPlanDetailed(img, parseTextPlan('中间黑色文字写着“你好世界”'));
    assert.equal(blackReport.legibility[0]!.treatment.kind, 'none');
    const bbox = blackReport.layout.blocks[0]!.box;
    // Only the glyphs: every pixel is a grey between black and white, and no plate fills the box.
    const inked = countPixels(blackReport.image, bbox, (l) => l < 0.5);
    assert.ok(inked > 100 && inked < bbox.w * bbox.h * 0.5, `ink ${inked} of ${bbox.w * bbox.h}`);
    let coloured = 0;
    for (let i = 0; i < blackReport.image.data.length; i += 4) {
      const d = blackReport.image.data;
      if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) coloured++;
    }
    assert.equal(coloured, 0, 'black on white adds nothing but grey ink');
  });
  it('keeps the requested colour', () => {
    const img = solid(400, 400, [20, 20, 20]);
    const out = renderTextPlan(img, parseTextPlan('中间红色大字写着“福”'));
    let red = 0;
    for (let i = 0; i < out.data.length; i += 4) if (out.data[i] === 0xe0 && out.data[i + 1] === 0x20 && out.data[i + 2] === 0x20) red++;
    assert.ok(red > 500, `solid #e02020 pixels: ${red}`);
  });
  it('draws a face with the same weight in every colour (white on black is the black-on-white letters inverted)', () => {
    // The same layout drawn both ways, unseated (no contact shadow, no tint): only the colours differ.
    const plan = parseTextPlan('中间文字写着“Hello 心晚 spring”');
    const layout = layoutPlan(plan, 480, 240);
    const ink = (bg: number, fg: string): number[] => {
      const p = { ...plan, blocks: plan.blocks.map((b) => ({ ...b, color: { name: fg, hex: fg } })) };
      const img = renderTextPlan(solid(480, 240, [bg, bg, bg]), p, { layout: { ...layout, blocks: layout.blocks.map((lb, i) => ({ ...lb, block: p.blocks[i]! })) }, unseated: true });
      const out: number[] = [];
      for (let i = 0; i < img.data.length; i += 4) out.push(Math.abs(img.data[i]! - bg));
      return out;
    };
    const dark = ink(255, '#000000');
    const light = ink(0, '#ffffff');
    const sum = (a: number[]): number => a.reduce((s, v) => s + v, 0);
    assert.ok(sum(dark) > 255 * 500, 'letters were drawn');
    // Skia's own text anti-aliasing would make the white letters ~20 % heavier.
    const ratio = sum(light) / sum(dark);
    assert.ok(Math.abs(ratio - 1) < 0.01, `white ink / black ink = ${ratio.toFixed(3)}`);
    const maxDiff = Math.max(...dark.map((v, i) => Math.abs(v - light[i]!)));
    assert.ok(maxDiff <= 2, `largest pixel difference ${maxDiff}`);
  });
  it('does not modify its input and draws only inside the text boxes (plus glow room)', () => {
    const img = solid(300, 300, [30, 90, 160]);
    const before = new Uint8ClampedArray(img.data);
    const plan = parseTextPlan('"TOP" at the top, "END" at the bottom');
    const report = renderTextPlanDetailed(img, plan);
    assert.deepEqual(img.data, before);
    const centre = (150 * 300 + 150) * 4;
    assert.deepEqual([...report.image.data.subarray(centre, centre + 4)], [30, 90, 160, 255]);
    assert.notDeepEqual(report.image.data, before);
  });
  it('draws the styles differently: neon glows, outline strokes, 3D extrudes', () => {
    const img = solid(400, 200, [40, 40, 40]);
    const render = (style: string) => renderTextPlan(img, parseTextPlan(`中间${style}黄色大字“光”`));
    const plain = render('');
    const lit = (r: RawImage) => countPixels(r, { x: 0, y: 0, w: 400, h: 200 }, (l) => l > 0.06);
    const neon = render('霓虹');
    assert.ok(lit(neon) > lit(plain) * 1.2, 'the glow lights up pixels around the glyph');
    const outline = render('描边');
    assert.notDeepEqual(outline.data, plain.data);
    const deep = render('立体');
    assert.notDeepEqual(deep.data, plain.data);
    assert.notDeepEqual(deep.data, outline.data);
  });
  it('renders vertical text as columns', () => {
    const img = solid(512, 512, [255, 255, 255]);
    const report = renderTextPlanDetailed(img, parseTextPlan('右侧竖排黑色文字“春眠不觉晓”'));
    const box = report.layout.blocks[0]!.box;
    assert.ok(box.h > box.w * 2, `tall box ${JSON.stringify(box)}`);
    assert.ok(countPixels(report.image, box, (l) => l < 0.3) > 300);
  });
  it('applyTypography passes an image without text through untouched', () => {
    const img = solid(64, 64, [1, 2, 3]);
    assert.equal(applyTypography(img, parseTextPlan('a cat')), img);
  });
  // Speed is shown by `npm run bench:stages` / `bench:text` (figures in docs/benchmarks.md), not asserted here.
  it('text stage at 1024×1024 lays out every block and draws them', () => {
    const img = solid(1024, 1024, [120, 60, 200]);
    const plan = parseTextPlan('顶部大标题“新年快乐”，底部白色小字“万事如意 阖家幸福”，a poster with "GRAND OPENING" in gold in the center');
    const out = renderTextPlan(img, plan);
    assert.notDeepEqual(out.data, img.data);
    const lay = layoutPlan(plan, 1024, 1024);
    assert.equal(lay.blocks.length, 3);
  });
});

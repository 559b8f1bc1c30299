import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTextPlan } from '../src/typography/parse.js';
import { findQuotedSpans } from '../src/typography/spans.js';

const one = (prompt: string) => {
  const plan = parseTextPlan(prompt);
  assert.equal(plan.blocks.length, 1, `one block in ${prompt}`);
  return plan.blocks[0]!;
};

describe('quoted spans', () => {
  it('finds every kind of quote mark', () => {
    const spans = findQuotedSpans('A“一”B"two"C「三」D『四』E');
    assert.deepEqual(spans.map((s) => s.text), ['一', 'two', '三', '四']);
  });
  it('takes single quotes only where they cannot be apostrophes', () => {
    assert.deepEqual(findQuotedSpans("a sign with 'SALE' on it").map((s) => s.text), ['SALE']);
    assert.deepEqual(findQuotedSpans("don't do it, it's fine"), []);
  });
  it('keeps explicit line breaks, real or typed as \\n', () => {
    assert.deepEqual(one('海报上写着“第一行\\n第二行”').lines, ['第一行', '第二行']);
    assert.deepEqual(one('a card that says "Hello\nWorld"').lines, ['Hello', 'World']);
  });
  it('ignores empty quotes and prompts without quotes', () => {
    assert.equal(parseTextPlan('一只猫 "" 在草地上').blocks.length, 0);
    const plain = parseTextPlan('a cat on the grass');
    assert.equal(plain.blocks.length, 0);
    assert.equal(plain.modelPrompt, 'a cat on the grass');
    assert.equal(plain.negativePrompt, '');
  });
});

describe('attributes in Chinese', () => {
  it('reads the brief example: position, style, colour', () => {
    const b = one('画面上方有手写涂鸦风格的红色文字写着：“新年快乐”');
    assert.equal(b.text, '新年快乐');
    assert.deepEqual(b.position, { v: 'top', h: 'center' });
    assert.equal(b.positionExplicit, true);
    assert.deepEqual(b.style, ['handwritten', 'doodle']);
    assert.equal(b.font, 'doodle', '手写涂鸦 looks drawn by hand, not a neat Kai');
    assert.equal(b.color.hex, '#e02020');
    assert.equal(b.lang, 'zh');
  });
  it('maps corner and side words to grid cells', () => {
    const cases: Array<[string, { v: string; h: string }]> = [
      ['左上角', { v: 'top', h: 'left' }],
      ['右上角', { v: 'top', h: 'right' }],
      ['左下角', { v: 'bottom', h: 'left' }],
      ['右下角', { v: 'bottom', h: 'right' }],
      ['底部', { v: 'bottom', h: 'center' }],
      ['中央', { v: 'middle', h: 'center' }],
      ['左侧', { v: 'middle', h: 'left' }],
      ['右侧', { v: 'middle', h: 'right' }],
      ['顶部', { v: 'top', h: 'center' }],
    ];
    for (const [word, pos] of cases) assert.deepEqual(one(`海报${word}写着“你好”`).position, pos, word);
  });
  it('reads sizes', () => {
    assert.equal(one('中间是超大的“促销”').size, 'title');
    assert.equal(one('顶部大标题“夏日祭”').size, 'title');
    assert.equal(one('右下角小字写着“仅限今日”').size, 'small');
    assert.equal(one('醒目的“注意”').size, 'large');
    assert.equal(one('副标题“第二季”').size, 'medium');
  });
  it('reads colours by name and hex, not the background colour', () => {
    assert.equal(one('金色大字“福”').color.hex, '#d4af37');
    assert.equal(one('白色文字“你好”').color.hex, '#ffffff');
    assert.equal(one('用#FF0000的字写“红”').color.hex, '#ff0000');
    assert.equal(one('文字颜色#0f0，写着“绿”').color.hex, '#00ff00');
    const b = one('白底黑字写着“通知”');
    assert.equal(b.color.hex, '#000000');
    assert.equal(one('一个红灯笼，写着“福”').color.name, 'auto', 'a red lantern does not make the text red');
  });
  it('reads styles and picks faces', () => {
    assert.equal(one('毛笔书法写着“静”').font, 'brush');
    assert.equal(one('宋体写着“静”').font, 'serif');
    assert.equal(one('圆体的“可爱”').font, 'rounded');
    assert.deepEqual(one('霓虹灯效果，发光的“夜市”').style, ['neon']);
    assert.ok(one('描边立体字“爆款”').style.includes('outline'));
    assert.ok(one('描边立体字“爆款”').style.includes('3d'));
  });
  it('reads vertical orientation', () => {
    assert.equal(one('右侧竖排写着“春眠不觉晓”').vertical, true);
    assert.equal(one('右侧写着“春眠不觉晓”').vertical, false);
  });
});

describe('attributes in English', () => {
  it('reads the brief example with attributes after the quote', () => {
    const b = one('a poster with the title "GRAND OPENING" in gold at the bottom');
    assert.equal(b.text, 'GRAND OPENING');
    assert.deepEqual(b.position, { v: 'bottom', h: 'center' });
    assert.equal(b.size, 'title');
    assert.equal(b.color.name, 'gold');
    assert.equal(b.lang, 'en');
  });
  it('reads positions', () => {
    assert.deepEqual(one('"SALE" in the upper right').position, { v: 'top', h: 'right' });
    assert.deepEqual(one('at the lower left, text that says "hi"').position, { v: 'bottom', h: 'left' });
    assert.deepEqual(one('"hi" in the center').position, { v: 'middle', h: 'center' });
    assert.deepEqual(one('"hi" on the right').position, { v: 'middle', h: 'right' });
  });
  it('reads sizes, colours and styles', () => {
    const b = one('small red handwritten text that says "thanks"');
    assert.equal(b.size, 'small');
    assert.equal(b.color.hex, '#e02020');
    assert.equal(b.font, 'script');
    assert.equal(one('big bold letters "GO"').font, 'sans-bold');
    assert.equal(one('big bold letters "GO"').size, 'large');
    assert.equal(one('elegant serif caption "Est. 1920"').font, 'serif');
    assert.deepEqual(one('a neon sign that says "OPEN"').style, ['neon']);
    assert.equal(one('text "x" in #336699').color.hex, '#336699');
    assert.equal(one('a red car next to a sign that says "STOP"').color.name, 'auto');
  });
});

describe('several spans', () => {
  it('gives each span its own attributes', () => {
    const plan = parseTextPlan('一张海报，左上角写着“限时优惠”，右下角用白色小字写着“仅此一天”，中间竖排书法“福”');
    assert.deepEqual(
      plan.blocks.map((b) => [b.text, b.position.v, b.position.h]),
      [
        ['限时优惠', 'top', 'left'],
        ['仅此一天', 'bottom', 'right'],
        ['福', 'middle', 'center'],
      ],
    );
    assert.equal(plan.blocks[1]!.size, 'small');
    assert.equal(plan.blocks[1]!.color.hex, '#ffffff');
    assert.equal(plan.blocks[0]!.color.name, 'auto');
    assert.equal(plan.blocks[2]!.vertical, true);
    assert.equal(plan.blocks[2]!.font, 'brush');
  });
  it('does not let a later clause leak into an earlier span', () => {
    const plan = parseTextPlan('a neon sign that says "OPEN" and a small caption \'since 1999\' in the lower right');
    assert.equal(plan.blocks[0]!.size, 'large');
    assert.equal(plan.blocks[1]!.size, 'small');
    assert.deepEqual(plan.blocks[1]!.position, { v: 'bottom', h: 'right' });
  });
  it('binds each English span to its own position and colour (issue #14)', () => {
    const pos = parseTextPlan('a poster with "SALE" at the top and "50% OFF" at the bottom').blocks;
    assert.deepEqual(pos.map((b) => [b.text, b.position.v]), [['SALE', 'top'], ['50% OFF', 'bottom']]);
    for (const p of ['"SALE" in red and "50% OFF" in blue', '"SALE" in red, "50% OFF" in blue', 'red text "SALE" and blue text "50% OFF"']) {
      assert.deepEqual(parseTextPlan(p).blocks.map((b) => b.color.name), ['red', 'blue'], p);
    }
    const three = parseTextPlan(
      'a poster: big gold title "GRAND OPENING" at the top, "Free coffee" in white script in the middle and a small caption "since 1999" at the bottom right',
    ).blocks;
    assert.deepEqual(
      three.map((b) => [b.text, b.position.v, b.position.h, b.color.name, b.size]),
      [
        ['GRAND OPENING', 'top', 'center', 'gold', 'title'],
        ['Free coffee', 'middle', 'center', 'white', 'medium'],
        ['since 1999', 'bottom', 'right', 'auto', 'small'],
      ],
    );
    assert.equal(three[1]!.font, 'script');
    const four = parseTextPlan('"A" at the top left in red, "B" at the top right in blue, "C" at the bottom left in green and "D" at the bottom right in yellow').blocks;
    assert.deepEqual(
      four.map((b) => [b.position.v, b.position.h, b.color.name]),
      [
        ['top', 'left', 'red'],
        ['top', 'right', 'blue'],
        ['bottom', 'left', 'green'],
        ['bottom', 'right', 'yellow'],
      ],
    );
  });
  it('binds each Chinese span to its own attributes', () => {
    const two = parseTextPlan('海报，顶部红色大字“新品上市”，底部蓝色小字“限时优惠”').blocks;
    assert.deepEqual(two.map((b) => [b.position.v, b.color.name, b.size]), [['top', '红色', 'large'], ['bottom', '蓝色', 'small']]);
    assert.deepEqual(parseTextPlan('“SALE”在顶部，“50% OFF”在底部').blocks.map((b) => b.position.v), ['top', 'bottom']);
    assert.deepEqual(parseTextPlan('红色的“促销”和蓝色的“五折”').blocks.map((b) => b.color.name), ['红色', '蓝色']);
  });
  it('stacks unplaced spans in the previous block\'s cell and defaults the first to the top', () => {
    const plan = parseTextPlan('"ONE", "TWO"');
    assert.deepEqual(plan.blocks[0]!.position, { v: 'top', h: 'center' });
    assert.deepEqual(plan.blocks[1]!.position, { v: 'top', h: 'center' });
    assert.equal(plan.blocks[0]!.positionExplicit, false);
    assert.equal(plan.blocks[0]!.size, 'large');
    assert.equal(plan.blocks[1]!.size, 'medium');
  });
  it('is JSON-able', () => {
    const plan = parseTextPlan('顶部写着“你好”，底部写着"world"');
    assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
  });
});

describe('model prompt', () => {
  it('drops the literal text and its description, asks for a blank area', () => {
    const plan = parseTextPlan('画面上方有手写涂鸦风格的红色文字写着：“新年快乐”');
    assert.ok(!plan.modelPrompt.includes('新年快乐'));
    assert.ok(!plan.modelPrompt.includes('红色文字'));
    assert.match(plan.modelPrompt, /留白/);
    assert.match(plan.modelPrompt, /^画面上方/);
  });
  it('keeps the English scene', () => {
    const plan = parseTextPlan('a poster with the title "GRAND OPENING" in gold at the bottom');
    assert.equal(plan.modelPrompt, 'a poster with a clean blank area at the bottom for a title');
  });
  it('removes every span and keeps the words between them', () => {
    const plan = parseTextPlan('a bakery storefront, a sign that says "FRESH BREAD" at the top, warm morning light, "since 1999" small at the bottom');
    for (const t of ['FRESH BREAD', 'since 1999', '"']) assert.ok(!plan.modelPrompt.includes(t), t);
    assert.match(plan.modelPrompt, /bakery storefront/);
    assert.match(plan.modelPrompt, /warm morning light/);
    assert.match(plan.modelPrompt, /blank area at the top/);
  });
  it('adds a text negative prompt', () => {
    const plan = parseTextPlan('海报写着“福”');
    for (const w of ['text', 'letters', 'words', 'watermark', 'typography', 'characters', 'signature']) assert.ok(plan.negativePrompt.includes(w), w);
  });
});

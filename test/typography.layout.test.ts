import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { layoutBlock, layoutPlan, regionsFor } from '../src/typography/layout.js';
import { NO_END, NO_START, atomise, breakLines } from '../src/typography/linebreak.js';
import { parseTextPlan } from '../src/typography/parse.js';
import type { Box, MeasureText, TextBlock } from '../src/typography/types.js';

/** A monospace stand-in: CJK one em, everything else 0.55 em. */
const mono: MeasureText = (text, size) => [...text].reduce((w, ch) => w + (/[\u2e80-\uffef]/.test(ch) ? size : 0.55 * size), 0);
const widthOf = (s: string): number => mono(s, 10, 'sans');

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function block(text: string, over: Partial<TextBlock> = {}): TextBlock {
  return {
    text,
    lines: text.split('\n'),
    position: { v: 'middle', h: 'center' },
    positionExplicit: true,
    size: 'large',
    color: { name: 'auto', hex: '#ffffff' },
    style: [],
    font: 'sans',
    vertical: false,
    lang: /[\u4e00-\u9fff]/.test(text) ? 'zh' : 'en',
    span: [0, 0],
    ...over,
  };
}

describe('Chinese line breaking (kinsoku)', () => {
  it('never starts a line with closing punctuation nor ends one with opening punctuation', () => {
    const text = '今天天气很好，我们去公园（散步）吧！「你好」他说：“明天见。”然后离开了、再见？';
    for (let width = 20; width <= 200; width += 10) {
      const lines = breakLines(text, width, widthOf);
      assert.equal(lines.join(''), text, 'no character lost or added');
      lines.forEach((l, i) => {
        if (i > 0) assert.ok(!NO_START.has([...l][0] ?? ''), `line starts with closing punctuation at width ${width}: ${JSON.stringify(lines)}`);
        if (i < lines.length - 1) assert.ok(!NO_END.has([...l].pop() ?? ''), `line ends with opening punctuation at width ${width}: ${JSON.stringify(lines)}`);
      });
    }
  });
  it('breaks between any two Chinese characters', () => {
    assert.deepEqual(breakLines('一二三四五六', 30, widthOf), ['一二三', '四五六']);
  });
  it('leaves no orphan of one or two characters when a better break exists', () => {
    // 26 characters at 12 a line would end with two alone; at the same three lines it re-fills to 11 + 11 + 4.
    const text = '春风十里不如你我们一起去看海吧这是一个美好的夏天的人';
    assert.equal(text.length, 26);
    const refilled = breakLines(text, 120, widthOf);
    assert.deepEqual(refilled.map((l) => l.length), [11, 11, 4]);
    assert.equal(refilled.join(''), text);
    const lines = breakLines('一二三四五六七八九十一二三四五六七八九十一二三四五六', 240, widthOf);
    assert.ok([...lines[lines.length - 1]!].length > 2, JSON.stringify(lines));
    assert.equal(lines.length, 2, 'the block does not grow a line');
    for (const l of lines) assert.ok(widthOf(l) <= 240);
    // Nothing to do when the text fits or ends with a long enough line.
    assert.deepEqual(breakLines('一二三四五', 30, widthOf), ['一二三', '四五']);
    assert.deepEqual(breakLines('一二三四五六七', 30, widthOf), ['一二三', '四五六', '七']);
  });
  it('glues punctuation to its neighbour', () => {
    assert.deepEqual(atomise('好，（是）').map((a) => a.text), ['好，', '（是）']);
  });
});

describe('English word wrap', () => {
  it('breaks at spaces and keeps words whole', () => {
    const lines = breakLines('the quick brown fox jumps over the lazy dog', 60, widthOf);
    assert.equal(lines.join(' '), 'the quick brown fox jumps over the lazy dog');
    for (const l of lines) assert.ok(widthOf(l) <= 60, l);
    assert.ok(lines.length > 1);
  });
  it('hyphenates only words longer than the line', () => {
    const lines = breakLines('a supercalifragilistic day', 40, widthOf);
    assert.equal(lines[0], 'a');
    assert.ok(lines.slice(1, -1).every((l) => l.endsWith('-')), JSON.stringify(lines));
    assert.ok(lines.at(-1)!.endsWith('day'));
    const rejoined = lines.map((l) => (l.endsWith('-') ? l.slice(0, -1) : `${l} `)).join('').trim();
    assert.equal(rejoined, 'a supercalifragilistic day');
    assert.deepEqual(breakLines('a short day', 40, widthOf).filter((l) => l.endsWith('-')), [], 'no hyphen when words fit');
    for (const l of lines) assert.ok(widthOf(l) <= 40, l);
  });
  it('keeps explicit line breaks', () => {
    assert.deepEqual(breakLines('one\ntwo', 1000, widthOf), ['one', 'two']);
  });
  it('mixes Chinese and English', () => {
    const lines = breakLines('欢迎 Welcome 光临', 60, widthOf);
    assert.ok(lines.includes('Welcome') || lines.some((l) => l.includes('Welcome')));
    assert.ok(lines.every((l) => !l.startsWith(' ') && !l.endsWith(' ')));
  });
});

describe('layout geometry', () => {
  const prompts = [
    '一张海报，左上角写着“限时优惠”，右下角用白色小字写着“仅此一天”，中间竖排书法“福”，顶部大标题“新年快乐万事如意”，底部写着“地址：北京市朝阳区建国路八十八号”',
    'a poster with the title "GRAND OPENING CEREMONY" at the top, "Saturday" on the left, "Sunday" on the right, "free coffee for everyone who comes early" at the bottom, "A" in the center, "B" in the lower left',
    '"ONE", "TWO", "THREE", "FOUR"',
    '右侧竖排写着“春眠不觉晓处处闻啼鸟”，顶部写着“标题很长很长很长很长很长很长很长很长”，底部写着“落款”，左侧竖排“夜来风雨声”，中间“花落知多少”',
  ];
  for (const [w, h] of [
    [512, 512],
    [1024, 768],
    [640, 1024],
  ] as const) {
    for (const p of prompts) {
      it(`${w}×${h}: boxes inside the image and apart — ${p.slice(0, 24)}`, () => {
        const layout = layoutPlan(parseTextPlan(p), w, h, mono);
        const boxes = layout.blocks.map((b) => b.box);
        for (const lb of layout.blocks) {
          const { box, region } = lb;
          assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.w <= w && box.y + box.h <= h, `inside the image: ${JSON.stringify(box)}`);
          assert.ok(box.x >= region.x && box.y >= region.y && box.x + box.w <= region.x + region.w && box.y + box.h <= region.y + region.h, 'inside its region');
          assert.ok(box.x >= Math.round(0.04 * Math.min(w, h)) - 1, 'keeps the margin');
          for (const line of lb.lines) {
            assert.ok(line.x >= box.x && line.x + line.width <= box.x + box.w + 1, `line inside box: ${line.text}`);
          }
        }
        for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) assert.ok(!overlaps(boxes[i]!, boxes[j]!), `blocks ${i} and ${j} overlap`);
      });
    }
  }
  it('picks the largest size that fits (binary search), capped by the size class', () => {
    const region = { x: 0, y: 0, w: 300, h: 200 };
    const lb = layoutBlock(block('a fairly long sentence that needs wrapping to fit'), region, 1024, mono);
    assert.ok(lb.fits);
    const bigger = layoutBlock(block('a fairly long sentence that needs wrapping to fit'), region, 1024 * 2, mono);
    assert.ok(bigger.fontSize >= lb.fontSize);
    // One pixel more must not fit within the same region unless the class cap stopped the search.
    const cap = Math.floor(0.11 * 1024);
    if (lb.fontSize < cap) {
      const pad = Math.ceil((lb.fontSize + 1) * 0.15);
      const maxW = region.w - 2 * pad;
      const lines = breakLines(lb.block.text, maxW, (s) => mono(s, lb.fontSize + 1, 'sans'));
      const tooWide = lines.some((l) => mono(l, lb.fontSize + 1, 'sans') > maxW);
      const tooTall = lines.length * (lb.fontSize + 1) * 1.3 > region.h - 2 * pad;
      const wholeFits = mono(lb.block.text, lb.fontSize + 1, 'sans') <= maxW && (lb.fontSize + 1) * 1.3 <= region.h - 2 * pad;
      assert.ok((tooWide || tooTall) && !wholeFits, 'size + 1 should not fit');
    }
    const small = layoutBlock(block('hi', { size: 'small' }), { x: 0, y: 0, w: 1000, h: 1000 }, 1000, mono);
    assert.equal(small.fontSize, 45, 'small text stays small in a big region');
  });
  it('draws small and medium text larger in decorative faces (brush, handwriting, script, doodle), not in plain ones', () => {
    const big = { x: 0, y: 0, w: 1000, h: 1000 };
    for (const size of ['small', 'medium'] as const) {
      const plain = layoutBlock(block('hi', { size, font: 'sans' }), big, 1000, mono).fontSize;
      for (const font of ['brush', 'handwriting', 'script', 'doodle'] as const) {
        assert.equal(layoutBlock(block('hi', { size, font }), big, 1000, mono).fontSize, Math.floor(plain * 1.35), `${font} ${size}`);
      }
      for (const font of ['sans-bold', 'serif', 'rounded'] as const) assert.equal(layoutBlock(block('hi', { size, font }), big, 1000, mono).fontSize, plain, `${font} ${size}`);
    }
    assert.equal(layoutBlock(block('hi', { size: 'title', font: 'doodle' }), big, 1000, mono).fontSize, layoutBlock(block('hi', { size: 'title' }), big, 1000, mono).fontSize);
  });
  it('aligns lines by horizontal position', () => {
    const region = { x: 100, y: 100, w: 400, h: 300 };
    for (const h of ['left', 'center', 'right'] as const) {
      const lb = layoutBlock(block('short\nmuch longer line', { position: { v: 'middle', h }, size: 'medium' }), region, 512, mono);
      const [a, b] = lb.lines;
      if (h === 'left') assert.equal(a!.x, b!.x);
      if (h === 'right') assert.ok(Math.abs(a!.x + a!.width - (b!.x + b!.width)) <= 1);
      if (h === 'center') assert.ok(Math.abs(a!.x + a!.width / 2 - (b!.x + b!.width / 2)) <= 1);
    }
  });
  it('lays vertical text in top-to-bottom columns, right to left', () => {
    const region = { x: 0, y: 0, w: 400, h: 200 };
    const lb = layoutBlock(block('春眠不觉晓，处处闻啼鸟。', { vertical: true, size: 'title' }), region, 1024, mono);
    assert.ok(lb.lines.length >= 2);
    assert.equal(lb.lines.map((l) => l.text).join(''), '春眠不觉晓，处处闻啼鸟。');
    for (let i = 1; i < lb.lines.length; i++) assert.ok(lb.lines[i]!.x < lb.lines[i - 1]!.x, 'next column to the left');
    for (const col of lb.lines) {
      assert.ok(!NO_START.has([...col.text][0] ?? ''), 'column does not start with closing punctuation');
      assert.ok(col.y + col.height <= lb.box.y + lb.box.h);
    }
  });
  it('keeps short vertical text in one column', () => {
    const lb = layoutBlock(block('福星高照', { vertical: true }), { x: 0, y: 0, w: 200, h: 240 }, 1024, mono);
    assert.equal(lb.lines.length, 1);
  });
  it('splits a shared cell between stacked blocks', () => {
    const blocks = [block('A', { position: { v: 'top', h: 'center' } }), block('B', { position: { v: 'top', h: 'center' } })];
    const [r1, r2] = regionsFor(blocks, 900, 900);
    assert.ok(r1 && r2 && r1.y + r1.h <= r2.y);
  });
});

describe('mengtu layout (CLI)', () => {
  it('prints the plan with laid-out boxes as JSON (--json)', async () => {
    const { Command } = await import('commander');
    const { registerLayoutCommand } = await import('../src/cli/layout.js');
    const program = new Command().exitOverride();
    registerLayoutCommand(program);
    let out = '';
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    }) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'mengtu', 'layout', '顶部写着“新年快乐”，底部写着"Happy New Year"', '--width', '768', '--height', '512', '--json']);
    } finally {
      process.stdout.write = write;
    }
    const json = JSON.parse(out) as { width: number; height: number; modelPrompt: string; blocks: Array<{ text: string; box: Box; fontSize: number }> };
    assert.equal(json.width, 768);
    assert.equal(json.height, 512);
    assert.deepEqual(json.blocks.map((b) => b.text), ['新年快乐', 'Happy New Year']);
    assert.ok(json.blocks[0]!.box.y < json.blocks[1]!.box.y);
    assert.ok(json.blocks.every((b) => b.fontSize > 10 && b.box.x + b.box.w <= 768 && b.box.y + b.box.h <= 512));
    assert.ok(!json.modelPrompt.includes('新年快乐'));
  });
});

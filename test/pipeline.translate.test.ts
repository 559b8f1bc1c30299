import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPromptRewriter } from '../src/pipeline/rewrite/rewriter.js';
import { chooseSense, cleanSense, lookup, participle } from '../src/pipeline/rewrite/cedict.js';
import { forEnglishEncoder, hasCjk, translateDetailed, translatePrompt } from '../src/pipeline/rewrite/translate.js';
import { segment } from '../src/pipeline/rewrite/segment.js';
import { findEntry, REGISTRY } from '../src/engine/registry.js';

test('the two prompts from issue #14 leave nothing behind', () => {
  assert.equal(translatePrompt('一只橘猫趴在窗台上晒太阳，水彩风格'), 'an orange tabby cat lying on windowsill, basking in the sun, watercolor style');
  assert.equal(
    translatePrompt('过曝，强对比，夜晚，雪地里，巨大的黄色浴缸，胶片摄影，复古滤镜'),
    'overexposed, high contrast, night, in snowfield, huge yellow bathtub, film photography, retro filter',
  );
});

test('jieba segments, CC-CEDICT answers what the glossary lacks', () => {
  assert.deepEqual(
    segment('两只小狗在草地上').map((w) => w.word),
    ['两只', '小狗', '在', '草地', '上'],
  );
  assert.ok(lookup('浴缸').some((e) => e.senses.includes('bathtub')));
  assert.equal(translatePrompt('浴缸'), 'bathtub', 'not in the glossary: from CC-CEDICT');
  // Sense choice: parentheticals and labels go, ';' alternatives keep the first, verbs become participles.
  assert.equal(cleanSense('(photography) filter'), 'filter');
  assert.equal(cleanSense('windowsill; window ledge'), 'windowsill');
  assert.equal(chooseSense('滤镜')?.en, 'filter');
  assert.equal(chooseSense('窗台')?.en, 'windowsill');
  assert.equal(chooseSense('游泳', 'verb')?.en, 'swimming');
  assert.equal(participle('run'), 'running');
  assert.equal(participle('lie on stomach'), 'lying on stomach');
  assert.equal(participle('make'), 'making');
  // The curated glossary wins over the dictionary's first sense (复古: "to return to old ways").
  assert.equal(translatePrompt('复古'), 'retro');
  assert.equal(translatePrompt('赛博朋克风格'), 'cyberpunk style');
});

test('grammar patterns: measure words, 的-phrases, 在…上/里/下, 着/了, verb–object', () => {
  const cases: Array<[string, string]> = [
    // numeral + measure word
    ['一只猫', 'a cat'],
    ['三只小鸟', 'three little birds'],
    ['两个女人', 'two women'],
    ['一群羊', 'a group of sheep'],
    ['一碗拉面', 'a bowl of ramen'],
    ['女孩拿着一本书', 'girl holding a book'],
    // 的-phrases
    ['穿着红裙子的女孩', 'girl wearing red dress'],
    ['戴着帽子的男人', 'man wearing hat'],
    ['巨大的黄色浴缸', 'huge yellow bathtub'],
    ['水彩风格的小镇', 'small town in watercolor style'],
    ['坐在长椅上的老人', 'old man sitting on bench'],
    ['一幅挂在墙上的画', 'a picture hanging on wall'],
    // 在…上/里/下 and bare locatives
    ['一只猫在雪山下', 'a cat under snowy mountains'],
    ['一条鱼在水里游泳', 'a fish swimming in water'],
    ['雪地里', 'in snowfield'],
    // 着/了 dropped; verb before its object as in English
    ['他吃了一个苹果', 'a man eating an apple'],
    ['女孩站着', 'girl standing'],
    ['一群羊在山坡上吃草', 'a group of sheep eating grass on hillside'],
  ];
  for (const [zh, en] of cases) assert.equal(translatePrompt(zh), en, zh);
});

test('progressive 在+verb, subject pronouns, possessives and 们 read as English', () => {
  const cases: Array<[string, string]> = [
    // 在/正在 + verb: the action of the subject, no comma
    ['他在吃苹果', 'a man eating apple'],
    ['她正在看书', 'a woman reading a book'],
    ['他们在喝咖啡', 'a group of people drinking coffee'],
    ['老人在下棋', 'old man playing chess'],
    // 在 + place (+ locative) + verb: the action, then the place
    ['小猫在沙发上睡觉', 'kitten sleeping on sofa'],
    ['一个女孩在海边跑步', 'a girl running at seaside'],
    ['猫在门口', 'cat at doorway'],
    // after a verb, the place comes first
    ['她坐在窗边看书', 'a woman sitting by the window, reading a book'],
    ['一个戴着帽子的男人站在门口', 'a man wearing hat standing at doorway'],
    // pronouns by role: subject (a person to draw), possessive before 的, object
    ['我的猫', 'my cat'],
    ['他的书包', 'his schoolbag'],
    ['她看着他', 'a woman looking at him'],
    ['它们的家', 'their home'],
    // 们 makes its noun plural; an article or number stays in front of a 的-phrase
    ['孩子们在公园里放风筝', 'children flying a kite in park'],
    ['一个穿着红裙子的女孩在跳舞', 'a girl wearing red dress dancing'],
    ['两个戴着帽子的男人', 'two men wearing hat'],
  ];
  for (const [zh, en] of cases) assert.equal(translatePrompt(zh), en, zh);
});

test('a character no dictionary knows is transliterated or dropped, and reported', () => {
  const t = translateDetailed('一只猫，㐀');
  assert.equal(t.text, 'a cat');
  assert.deepEqual(t.dropped, ['㐀'], 'pinyin-pro has no reading for U+3400 either: dropped');
  // Full-width forms fold to ASCII, CJK punctuation separates phrases.
  assert.equal(translatePrompt('猫，ＡＢＣ'), 'cat, ABC');
  assert.equal(forEnglishEncoder('a cat “新年快乐” 龘'), 'a cat da');
  assert.equal(forEnglishEncoder('a "SALE" sign'), 'a "SALE" sign');
});

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('no CJK reaches an English-only encoder, over 1500 random prompts', async () => {
  const r = rng(14);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const words = ['猫', '一只', '在', '上', '的', '着', '了', '雪山', '赛博朋克', '航拍', '工笔画', '三维古风', '穿着', '女孩', '饕餮', '龘', 'neon', '8K', '“你好”', '「春」'];
  const punct = ['，', '。', '、', '；', '！', '（', '）', '《', '》', '【', '】', '…', '～', '：', ' ', 'ー', 'の', '한'];
  const rewriter = createPromptRewriter({ llm: null });
  for (let n = 0; n < 1500; n++) {
    let p = '';
    const len = 3 + Math.floor(r() * 12);
    for (let i = 0; i < len; i++) {
      const roll = r();
      if (roll < 0.35) p += String.fromCodePoint(0x4e00 + Math.floor(r() * (0x9fff - 0x4e00)));
      else if (roll < 0.4) p += String.fromCodePoint(0x3400 + Math.floor(r() * 0x19b5));
      else if (roll < 0.75) p += pick(words);
      else p += pick(punct);
    }
    const off = await rewriter.rewrite(p, { usePreLlm: false });
    assert.ok(!hasCjk(off.modelPrompt), `${p} → ${off.modelPrompt}`);
    if (n % 10 === 0) {
      const on = await rewriter.rewrite(p, { usePreLlm: true });
      assert.ok(!hasCjk(on.modelPrompt), `${p} → ${on.modelPrompt}`);
    }
  }
});

test('a model whose text encoder reads Chinese gets the prompt untranslated', async () => {
  assert.ok(REGISTRY.every((e) => e.textEncoderReadsChinese !== true || e.name), 'flag is per registry entry');
  assert.equal(findEntry('sd-turbo')?.textEncoderReadsChinese, undefined, 'CLIP reads English only');
  const native = createPromptRewriter({ llm: null, encoderReadsChinese: true });
  const r = await native.rewrite('一只猫在雪山下', { usePreLlm: false });
  assert.deepEqual(r, { rephraser: '', llmResult: '', translated: '', modelPrompt: '一只猫在雪山下', source: 'none' });
  const expanded = await native.rewrite('一只猫在雪山下', { usePreLlm: true });
  assert.ok(expanded.modelPrompt.startsWith('一只猫在雪山下, '), expanded.modelPrompt);
});

test('untranslatable characters are logged by the rewriter', async () => {
  const seen: unknown[] = [];
  const log = { info: (o: unknown) => void seen.push(o), warn() {}, error() {}, debug() {} } as never;
  const rw = createPromptRewriter({ llm: null, log });
  await rw.rewrite('一只猫㐀', { usePreLlm: false });
  assert.deepEqual(seen, [{ transliterated: [], dropped: ['㐀'] }]);
  seen.length = 0;
  await rw.rewrite('一只猫', { usePreLlm: false });
  assert.equal(seen.length, 0);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CvError } from '../src/contract/errors.js';
import { createTextRiskChecker, termHash } from '../src/safety/text-risk.js';
import { normalizeText } from '../src/safety/normalize.js';
import { parseRiskList } from '../src/safety/lists.js';

const checker = createTextRiskChecker();

function failsWith(text: string, category: string): void {
  const r = checker.check(text);
  assert.equal(r.pass, false, `expected "${text}" to fail`);
  assert.equal(r.rule?.category, category, `category for "${text}"`);
}

test('plain risky prompts fail in Chinese and English', () => {
  failsWith('一张儿童色情图片', 'minors-sexual');
  failsWith('城市里的恐怖袭击现场', 'terrorism-extremism');
  failsWith('a photo of a terrorist attack in a city', 'terrorism-extremism');
  failsWith('graphic beheading scene', 'graphic-violence');
});

test('full-width forms are folded (NFKC)', () => {
  failsWith('ｐｏｒｎ ｐｈｏｔｏ', 'sexual-explicit');
  failsWith('ＣＨＩＬＤ ＰＯＲＮ', 'minors-sexual');
});

test('traditional characters are converted to simplified', () => {
  failsWith('恐怖襲擊的照片', 'terrorism-extremism');
  failsWith('兒童色情', 'minors-sexual');
  failsWith('血腥屠殺', 'graphic-violence');
});

test('spaces, punctuation and emoji inserted between characters', () => {
  failsWith('恐 怖 袭 击', 'terrorism-extremism');
  failsWith('恐·怖-袭*击', 'terrorism-extremism');
  failsWith('恐🔥怖🔥袭🔥击', 'terrorism-extremism');
  failsWith('p o r n', 'sexual-explicit');
  failsWith('p.o.r.n pictures', 'sexual-explicit');
  failsWith('a p🍑orn image', 'sexual-explicit');
  failsWith('d-e-c-a-p-i-t-a-t-e-d body', 'graphic-violence');
  failsWith('de_capitated body', 'graphic-violence');
});

test('zero-width characters are removed', () => {
  failsWith('恐\u200b怖\u200d袭\ufeff击', 'terrorism-extremism');
  failsWith('p\u200bo\u200cr\u2060n', 'sexual-explicit');
});

test('mixed case, look-alike letters and leetspeak', () => {
  failsWith('PoRn', 'sexual-explicit');
  failsWith('N4K3D woman', 'sexual-explicit');
  failsWith('p0rn', 'sexual-explicit');
  failsWith('n\u0430ked', 'sexual-explicit'); // Cyrillic а
  failsWith('childporn', 'minors-sexual');
});

test('safe prompts with risky substrings pass', () => {
  for (const text of [
    'a classic glass vase on a Sussex estate, Essex countryside',
    'an assassin cat in a classroom',
    'sextant on a wooden table',
    'Therapist office, warm light',
    '山间景色情调优美，一位老人在钓鱼',
    '一只猫在雪山下',
    '1024px poster of a sunset',
  ]) {
    const r = checker.check(text);
    assert.equal(r.pass, true, `expected "${text}" to pass, got ${JSON.stringify(r.rule)}`);
  }
});

test('normalisation views', () => {
  const n = normalizeText('Ｈｅｌｌｏ  Ｗｏｒｌｄ 恐 怖');
  assert.equal(n.latin, 'hello world 恐 怖');
  assert.equal(n.cjk, 'helloworld恐怖');
});

test('error code per stage, message does not contain the term, log detail hashes it', () => {
  const term = '恐怖袭击';
  const input = () => checker.assertTextSafe(`一个${term}场景`, 'input');
  assert.throws(input, (e: unknown) => {
    assert.ok(e instanceof CvError);
    assert.equal(e.code, 50412);
    assert.equal(e.message, 'Text Risk Not Pass');
    assert.ok(!e.message.includes(term));
    assert.ok(e.logDetail?.includes('category=terrorism-extremism'));
    assert.ok(e.logDetail?.includes('list=zh'));
    assert.ok(e.logDetail?.includes(termHash(term)));
    assert.ok(!e.logDetail?.includes(term));
    return true;
  });
  assert.throws(
    () => checker.assertTextSafe('a gore scene', 'rewritten'),
    (e: unknown) => e instanceof CvError && e.code === 50512 && e.message === 'Post Text Risk Not Pass' && !e.message.includes('gore'),
  );
  assert.doesNotThrow(() => checker.assertTextSafe('a cat under snowy mountains', 'input'));
});

test('copyright terms give 50413 on input, prohibited terms outrank them', () => {
  assert.throws(
    () => checker.assertTextSafe('皮卡丘在草地上', 'input'),
    (e: unknown) => e instanceof CvError && e.code === 50413 && e.logDetail?.includes('category=copyright') === true,
  );
  assert.throws(() => checker.assertTextSafe('Pikachu and a nude figure', 'input'), (e: unknown) => e instanceof CvError && e.code === 50412);
  const noCopyright = createTextRiskChecker({ copyright: false });
  assert.equal(noCopyright.check('皮卡丘在草地上').pass, true);
});

test('operator list directory extends the lists, allow-list suppresses a match', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mengtu-risk-'));
  try {
    fs.writeFileSync(
      path.join(dir, 'local.txt'),
      '# operator additions\n[brand]\n蓝猫\nacme rocket # trailing comment\n[allow]\n蓝猫淘气\n',
    );
    fs.writeFileSync(path.join(dir, 'ignored.md'), '[x]\ncat\n');
    const before = createTextRiskChecker();
    assert.equal(before.check('一只藍貓').pass, true);
    const after = createTextRiskChecker({ dirs: [dir] });
    assert.deepEqual(after.check('一只藍 貓').rule, { list: 'local', category: 'brand', term: '蓝猫' });
    assert.equal(after.check('an ACME  Rocket launch').rule?.term, 'acme rocket');
    assert.equal(after.check('蓝猫淘气三千问').pass, true, 'allow-listed phrase');
    assert.equal(after.check('a cat').pass, true, 'non-.txt files are ignored');
    assert.ok(after.termCount > before.termCount);
    assert.equal(after.check('恐怖袭击').pass, false, 'shipped lists still apply');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('list parser: headers, comments, default category', () => {
  const l = parseRiskList('foo\n# c\n[A B]\n bar  \n\n[allow]\nbaz\n', 'x');
  assert.deepEqual(l.terms, [
    { list: 'x', category: 'general', term: 'foo' },
    { list: 'x', category: 'a b', term: 'bar' },
  ]);
  assert.deepEqual(l.allow, [{ list: 'x', category: 'allow', term: 'baz' }]);
});

test('text risk stage screens the request prompt', async () => {
  const { textRiskStage } = await import('../src/pipeline/stages/safety.js');
  const { newJob } = await import('../src/pipeline/runner.js');
  const stage = textRiskStage(checker);
  const req = (prompt: string) =>
    newJob({ req_key: 'jimeng_high_aes_general_v21_L', prompt, seed: -1, width: 512, height: 512, use_pre_llm: false, use_sr: false, return_url: false, logo_info: null }, 'r');
  const ctx = {} as Parameters<typeof stage.run>[1];
  assert.equal((await stage.run(req('一只猫在雪山下'), ctx)).modelPrompt, '一只猫在雪山下');
  await assert.rejects(Promise.resolve().then(() => stage.run(req('恐怖 袭击'), ctx)), (e: unknown) => e instanceof CvError && e.code === 50412);
});

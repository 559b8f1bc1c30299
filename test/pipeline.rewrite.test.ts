import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPromptRewriter } from '../src/pipeline/rewrite/rewriter.js';
import { llmOptions, loadConfig } from '../src/runtime/config.js';
import { translatePrompt, glossarySize, hasCjk } from '../src/pipeline/rewrite/translate.js';
import { detectSubject } from '../src/pipeline/rewrite/subject.js';
import { CUES } from '../src/pipeline/rewrite/cues.js';
import { LLM_SYSTEM_PROMPT } from '../src/pipeline/rewrite/llm.js';
import { preservesQuotes, splitQuoted } from '../src/pipeline/rewrite/quoted.js';
import { rewriteStage } from '../src/pipeline/stages/rewrite.js';
import { newJob } from '../src/pipeline/runner.js';
import type { CVProcessRequest } from '../src/contract/cvprocess.js';
import type { StageContext } from '../src/pipeline/types.js';
import { createTextRiskChecker } from '../src/safety/text-risk.js';
import { CvError } from '../src/contract/errors.js';

const rules = createPromptRewriter({ llm: null });

test('translation of Chinese prompts with the bundled glossary', () => {
  assert.ok(glossarySize >= 300, `glossary has ${glossarySize} entries`);
  assert.equal(translatePrompt('一只猫在雪山下'), 'a cat under snowy mountains');
  assert.equal(translatePrompt('两只小狗在草地上奔跑'), 'two puppies running on meadow');
  assert.equal(translatePrompt('穿着红裙子的女孩'), 'girl wearing red dress');
  assert.equal(translatePrompt('一碗拉面，特写'), 'a bowl of ramen, close-up');
  assert.equal(translatePrompt('一座古老的城堡，日落'), 'an ancient castle, sunset');
  assert.equal(translatePrompt('a cat in the snow'), '', 'English needs no translation');
  // CC-CEDICT covers what the glossary lacks; a character neither knows is written as pinyin.
  assert.equal(translatePrompt('一只猫和饕餮'), 'a cat and ferocious mythological animal');
});

test('quoted text is kept byte-for-byte in every output', async () => {
  const quotes = ['“新年 快乐！”', '"Hello,  World!"', '「春　节」', '『限时 5 折』'];
  for (const q of quotes) {
    for (const prompt of [`海报，标题${q}，红色背景`, `a poster with the title ${q}, red background`]) {
      for (const usePreLlm of [true, false]) {
        const r = await rules.rewrite(prompt, { usePreLlm });
        // The encoder reads English only: Latin quotes reach it, CJK ones are left to the typography layer.
        if (/\p{Script=Han}/u.test(q)) assert.ok(!r.modelPrompt.includes(q) && !hasCjk(r.modelPrompt), `${prompt} → ${r.modelPrompt}`);
        else assert.ok(r.modelPrompt.includes(q), `${prompt} → ${r.modelPrompt}`);
        if (usePreLlm) assert.ok(r.rephraser.includes(q));
        if (r.translated) assert.ok(r.translated.includes(q));
      }
    }
  }
  assert.deepEqual(splitQuoted('写着“你好”和「世界」'), [
    { quoted: false, text: '写着' },
    { quoted: true, text: '“你好”' },
    { quoted: false, text: '和' },
    { quoted: true, text: '「世界」' },
  ]);
  assert.equal(preservesQuotes('标题“你好”', 'title "你好"'), false);
  assert.equal(preservesQuotes('标题“你好”', 'a title “你好”, red'), true);
});

const SUBJECT_CASES: Array<[keyof typeof CUES, string, string]> = [
  ['portrait', '一位微笑的老人的肖像', 'portrait of a smiling old woman'],
  ['landscape', '春天的雪山和湖泊', 'mountains and a lake in spring'],
  ['poster', '新年宣传海报', 'a promotional poster for a summer sale'],
  ['product', '一瓶香水放在大理石台面上', 'a perfume bottle on marble'],
  ['animal', '一只狐狸在森林里', 'a red fox in the forest'],
  ['architecture', '一座现代建筑', 'a modern building with glass facade'],
  ['food', '一碗热腾腾的拉面', 'a bowl of ramen with egg'],
  ['illustration', '动漫风格的女孩', 'anime girl with blue hair'],
];

test('rule expansion adds cues for each subject type, in Chinese and English', async () => {
  for (const [type, zh, en] of SUBJECT_CASES) {
    for (const prompt of [zh, en]) {
      const r = await rules.rewrite(prompt, { usePreLlm: true });
      assert.equal(r.source, 'rules');
      assert.equal(r.subject, type, `subject of "${prompt}"`);
      assert.ok(r.rephraser.includes(CUES[type].composition[0]!), `${prompt} → ${r.rephraser}`);
      assert.ok(r.rephraser.includes(CUES[type].lighting[0]!), `${prompt} → ${r.rephraser}`);
      assert.ok(r.rephraser.includes('high quality'));
      assert.equal(r.modelPrompt, r.rephraser);
      if (prompt === en) assert.ok(r.rephraser.startsWith(en), 'English prompt kept at the front');
      else assert.ok(r.rephraser.startsWith(r.translated), 'Chinese prompt translated at the front');
    }
  }
  const cat = await rules.rewrite('一只猫在雪山下', { usePreLlm: true });
  assert.ok(cat.rephraser.startsWith('a cat under snowy mountains, '), cat.rephraser);
});

test('cues already in the prompt are not repeated; quoted text does not steer the subject', async () => {
  const r = await rules.rewrite('mountains in spring, golden hour light', { usePreLlm: true });
  assert.equal(r.rephraser.split('golden hour light').length, 2);
  assert.ok(!r.rephraser.includes('atmospheric perspective'), "the prompt's own lighting replaces the default");
  // Night scenes get night lighting, not the landscape default of golden hour.
  const night = await rules.rewrite('城市夜景', { usePreLlm: true });
  assert.equal(night.subject, 'landscape');
  assert.ok(night.rephraser.includes('night atmosphere') && !night.rephraser.includes('golden hour'), night.rephraser);
  assert.equal(detectSubject('a cat').type, 'animal');
  assert.equal(detectSubject('a cat', true).type, 'poster');
  assert.equal(detectSubject('something abstract').type, 'general');
});

test('rewrite is deterministic', async () => {
  const other = createPromptRewriter({ llm: null });
  for (const p of ['一只猫在雪山下', 'a castle at night', '海报“大促”']) {
    const a = await rules.rewrite(p, { usePreLlm: true });
    const b = await other.rewrite(p, { usePreLlm: true });
    assert.deepEqual(a, b);
  }
});

test('use_pre_llm off: no expansion, Chinese still translated for the model', async () => {
  const zh = await rules.rewrite('一只猫在雪山下', { usePreLlm: false });
  assert.deepEqual(zh, { rephraser: '', llmResult: '', translated: 'a cat under snowy mountains', modelPrompt: 'a cat under snowy mountains', source: 'none' });
  const en = await rules.rewrite('a cat under snowy mountains', { usePreLlm: false });
  assert.deepEqual(en, { rephraser: '', llmResult: '', translated: '', modelPrompt: 'a cat under snowy mountains', source: 'none' });
});

// ---- LLM path against a local OpenAI-compatible server ----

type Mode = 'ok' | 'slow' | 'drop-quotes' | 'http-500' | 'chinese' | 'risky';
interface Seen {
  auth?: string;
  body?: { model: string; messages: Array<{ role: string; content: string }> };
}

async function withLlmServer(fn: (base: string, setMode: (m: Mode) => void, seen: Seen) => Promise<void>): Promise<void> {
  let mode: Mode = 'ok';
  const seen: Seen = {};
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      seen.auth = req.headers.authorization;
      seen.body = JSON.parse(raw) as Seen['body'];
      const user = seen.body!.messages.find((m) => m.role === 'user')!.content;
      const quote = /“[^”]*”/.exec(user)?.[0] ?? '';
      const answer = (content: string): void => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content } }] }));
      };
      if (mode === 'ok') answer(`a festive poster with the title ${quote}, red lanterns, warm light, high quality`);
      else if (mode === 'drop-quotes') answer('a festive poster with the title "Happy New Year", red lanterns');
      else if (mode === 'risky') answer(`a nude figure under ${quote}`);
      else if (mode === 'chinese') answer(`一只猫 ${quote}, cinematic`);
      else if (mode === 'http-500') res.writeHead(500).end('{"error":"boom"}');
      else setTimeout(() => answer(`late ${quote}`), 60_000);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    await fn(`http://127.0.0.1:${port}/v1`, (m) => (mode = m), seen);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

test('LLM path: success, timeout, dropped quotes, HTTP error', async () => {
  await withLlmServer(async (base, setMode, seen) => {
    const warnings: unknown[] = [];
    const log = { info() {}, debug() {}, error() {}, warn: (o: unknown) => void warnings.push(o) } as never;
    const rw = createPromptRewriter({
      llm: llmOptions(loadConfig({}, { MENGTU_LLM_BASE_URL: base, MENGTU_LLM_MODEL: 'test-model', MENGTU_LLM_API_KEY: 'k123', MENGTU_LLM_TIMEOUT_MS: '5000' })),
      log,
    });
    assert.equal(rw.llmEnabled, true);
    const prompt = '新年海报，标题“新年快乐”';

    setMode('ok');
    const ok = await rw.rewrite(prompt, { usePreLlm: true });
    assert.equal(ok.source, 'llm', ok.fallbackReason ?? '');
    assert.equal(ok.rephraser, 'a festive poster with the title “新年快乐”, red lanterns, warm light, high quality');
    assert.equal(ok.llmResult, ok.rephraser);
    // The English-only encoder gets no CJK: the quoted Chinese is the typography layer's to draw.
    assert.equal(ok.modelPrompt, 'a festive poster with the title, red lanterns, warm light, high quality');
    assert.equal(ok.translated, translatePrompt(prompt));
    assert.equal(seen.auth, 'Bearer k123');
    assert.equal(seen.body?.model, 'test-model');
    assert.deepEqual(seen.body?.messages, [
      { role: 'system', content: LLM_SYSTEM_PROMPT },
      { role: 'user', content: prompt },
    ]);
    assert.equal(warnings.length, 0);

    setMode('chinese');
    const zh = await rw.rewrite(prompt, { usePreLlm: true });
    assert.equal(zh.source, 'llm');
    assert.ok(zh.modelPrompt.startsWith('a cat, cinematic'), zh.modelPrompt);

    const expectedRules = await rules.rewrite(prompt, { usePreLlm: true });
    setMode('slow');
    const t0 = performance.now();
    const slow = await rw.rewrite(prompt, { usePreLlm: true });
    // 5 s timeout (generous: a loaded machine must not fail the success path) against an answer after 60 s.
    assert.ok(performance.now() - t0 < 30_000, 'timeout honoured');
    assert.equal(slow.source, 'rules');
    assert.match(slow.fallbackReason ?? '', /^timeout/);
    assert.equal(slow.rephraser, expectedRules.rephraser);

    setMode('drop-quotes');
    const dropped = await rw.rewrite(prompt, { usePreLlm: true });
    assert.equal(dropped.source, 'rules');
    assert.equal(dropped.fallbackReason, 'quoted-text-changed');
    assert.ok(dropped.rephraser.includes('“新年快乐”'));
    assert.ok(!/\p{Script=Han}/u.test(dropped.modelPrompt), dropped.modelPrompt);

    setMode('http-500');
    const failed = await rw.rewrite(prompt, { usePreLlm: true });
    assert.equal(failed.source, 'rules');
    assert.match(failed.fallbackReason ?? '', /^http/);
    assert.equal(warnings.length, 3, 'each fallback is logged');

    // use_pre_llm off never calls the LLM.
    seen.body = undefined;
    const off = await rw.rewrite(prompt, { usePreLlm: false });
    assert.equal(off.source, 'none');
    assert.equal(seen.body, undefined);
  });
});

test('LLM unreachable falls back to rules', async () => {
  const rw = createPromptRewriter({ llm: { baseUrl: 'http://127.0.0.1:1', model: 'm', timeoutMs: 2000 } });
  const r = await rw.rewrite('a red fox in the forest', { usePreLlm: true });
  assert.equal(r.source, 'rules');
  assert.match(r.fallbackReason ?? '', /^network/);
});

function request(prompt: string, usePreLlm: boolean): CVProcessRequest {
  return { req_key: 'jimeng_high_aes_general_v21_L', prompt, seed: -1, width: 512, height: 512, use_pre_llm: usePreLlm, use_sr: false, return_url: false, logo_info: null };
}
const quietLog = { info() {}, warn() {}, error() {}, debug() {} } as never;
const ctx = { engine: undefined, log: quietLog } as unknown as StageContext;

test('rewrite stage fills the job; rewritten text is screened (50512)', async () => {
  const textRisk = createTextRiskChecker();
  const stage = rewriteStage(rules, textRisk);
  const on = await stage.run(newJob(request('一只猫在雪山下', true), 'r1'), ctx);
  assert.ok(on.modelPrompt.startsWith('a cat under snowy mountains, '));
  assert.equal(on.rewrittenPrompt, on.modelPrompt);
  assert.equal(on.translatedPrompt, 'a cat under snowy mountains');
  const off = await stage.run(newJob(request('一只猫在雪山下', false), 'r2'), ctx);
  assert.equal(off.modelPrompt, 'a cat under snowy mountains');
  assert.equal(off.rewrittenPrompt, '');

  await withLlmServer(async (base, setMode) => {
    setMode('risky');
    const llmStage = rewriteStage(createPromptRewriter({ llm: { baseUrl: base, model: 'm', timeoutMs: 2000 } }), textRisk);
    await assert.rejects(
      Promise.resolve(llmStage.run(newJob(request('标题“你好”', true), 'r3'), ctx)),
      (e: unknown) => e instanceof CvError && e.code === 50512 && !e.message.includes('nude'),
    );
  });
});

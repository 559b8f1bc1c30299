import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPromptRewriter } from '../src/pipeline/rewrite/rewriter.js';
import { readScene } from '../src/pipeline/rewrite/scene.js';

const rules = createPromptRewriter({ llm: null });
const expand = async (p: string): Promise<string> => (await rules.rewrite(p, { usePreLlm: true })).modelPrompt;

/** Cue families that must not appear twice with different values in one prompt. */
const SHOT_SIZES = ['half-length portrait', 'wide-angle view', 'centered product shot', "bird's-eye view", 'extreme close-up detail'];
const LENSES = ['85mm lens', '35mm lens', 'macro lens', 'fisheye'];
const TIMES = ['golden hour light', 'soft daylight', 'night atmosphere', 'clear sky'];

function count(text: string, family: string[]): number {
  return family.filter((c) => text.includes(c)).length;
}

test('the scene reader sees views, angles, lenses, time of day and drawn styles in both languages', () => {
  assert.equal(readScene('航拍，一群人').view, 'aerial');
  assert.equal(readScene('aerial shot of small running figures').view, 'aerial');
  assert.equal(readScene('aerial shot of small running figures').smallFigures, true);
  assert.equal(readScene('微距，蜜蜂').view, 'macro');
  assert.equal(readScene('portrait, 35mm lens').lens, true);
  assert.equal(readScene('低角度仰拍').angle, true);
  assert.equal(readScene('夜晚的城市').time, 'night');
  assert.equal(readScene('a lake at sunset').time, 'golden');
  assert.equal(readScene('水彩风格').drawn, true);
  assert.equal(readScene('a photo of a cat').drawn, false);
});

test('an aerial shot of small figures gets no portrait framing (issue #14)', async () => {
  for (const p of ['an aerial shot of small running figures on a beach', '航拍，一群人在海滩上奔跑']) {
    const out = await expand(p);
    for (const bad of ['half-length portrait', 'eye-level shot', '85mm lens', 'detailed eyes', 'shallow depth of field']) {
      assert.ok(!out.includes(bad), `${p} → ${out}`);
    }
    assert.ok(out.includes("bird's-eye view"), out);
  }
});

test('cues never add a second shot size, lens, angle or time of day', async () => {
  const cases: Array<[string, string[], string[]]> = [
    // prompt, must not contain, must contain
    ['portrait of a woman, 35mm lens', ['85mm lens'], ['35mm lens']],
    ['close-up portrait of an old man', ['half-length portrait'], ['close-up']],
    ['full body portrait of a dancer', ['half-length portrait'], []],
    ['夜晚的女孩肖像', ['golden hour light', 'soft daylight'], ['night atmosphere']],
    ['a modern building at night', ['soft daylight', 'clear sky'], ['night atmosphere']],
    ['mountains at sunset', ['golden hour light'], ['wide-angle view']],
    ['a bowl of ramen, top-down view', ['45-degree overhead angle'], []],
    ['微距，一只蜜蜂在花上', ['eye-level shot', 'wide-angle view'], ['macro lens']],
    ['a cat, low-angle shot', ['eye-level shot'], ['low-angle']],
    ['水彩风格的女孩', ['photorealistic', '85mm lens'], ['illustration']],
    ['a perfume bottle, fisheye lens', ['85mm lens'], ['centered product shot']],
    ['城市夜景，航拍', ['golden hour light', 'wide-angle view', 'eye-level shot'], ["bird's-eye view", 'night atmosphere']],
  ];
  for (const [prompt, banned, wanted] of cases) {
    const out = await expand(prompt);
    for (const b of banned) assert.ok(!out.includes(b), `${prompt} → ${out} (has "${b}")`);
    for (const w of wanted) assert.ok(out.includes(w), `${prompt} → ${out} (lacks "${w}")`);
    assert.ok(count(out, SHOT_SIZES) <= 1, `${prompt} → ${out}: two shot sizes`);
    assert.ok(count(out, LENSES) <= 1, `${prompt} → ${out}: two lenses`);
    assert.ok(count(out, TIMES) <= 1 || out.includes('clear sky') === false, `${prompt} → ${out}: two times of day`);
  }
});

test('a plain prompt still gets its type defaults', async () => {
  const out = await expand('portrait of a smiling old woman');
  for (const c of ['half-length portrait', 'eye-level shot', '85mm lens', 'soft diffused lighting', 'photorealistic']) assert.ok(out.includes(c), out);
});

/**
 * The diffusion model's prompt: the scene without the literal text. Diffusion models garble letters,
 * so each quoted span and the words describing it ("红色文字写着：", "the title … in gold") are replaced
 * by a request for a clean area where the typography layer will go.
 */
import type { SpanContext } from './spans.js';
import type { TextBlock } from './types.js';
import { EN_COLORS, ZH_COLORS } from './vocab/color.js';
import { EN_POSITIONS, ZH_POSITIONS, positionWords } from './vocab/position.js';
import { EN_SIZES, ZH_SIZES } from './vocab/size.js';
import { EN_STYLES, EN_VERTICAL, ZH_STYLES, ZH_VERTICAL } from './vocab/style.js';

export const TEXT_NEGATIVE = 'text, letters, words, watermark, typography, characters, signature';

const ZH_CUES = ['写着', '写有', '写道', '写的是', '印着', '印有', '题着', '题有', '刻着', '标题为', '标题是', '文字为', '文字是', '内容为', '内容是', '字样', '文字', '大字', '小字', '标语', '标题', '字'];
const EN_CUES = /\b(?:that\s+says|which\s+says|saying|says|that\s+reads|which\s+reads|reading|reads|with\s+the\s+(?:text|words?|title|caption|slogan)|the\s+(?:text|words?|title|caption|slogan|headline)|text|words?|titled|entitled|title|headline|caption|lettering|letters|label(?:l?ed)?|slogan)\b/i;

/** Words that only describe the text; eaten when they sit next to a cut. */
const ZH_FILLERS = ['的', '色', '风格', '样式', '字体', '字样', '个字', '文字', '大字', '小字', '字', '在', '位于', '放在', '写在', '：', ':', ' ', '处', '位置', '排列', '排版', '用', '以'];
const EN_FILLERS = ['in', 'at', 'on', 'the', 'a', 'an', 'of', 'with', 'and', 'across', 'along', 'corner', 'side', 'font', 'text', 'letters', 'lettering', 'style', 'written', 'typeface', 'colored', 'coloured', 'near', 'featuring', 'showing', 'bearing', 'having', 'that', 'has', 'reads', 'says', 'saying', 'reading', 'words', 'word', 'caption', 'title', 'typography'];

const ZH_TOKENS = [...ZH_FILLERS, ...[ZH_COLORS, ZH_POSITIONS, ZH_SIZES, ZH_STYLES].flatMap((l) => l.map(([w]) => w)), ...ZH_VERTICAL].sort(
  (a, b) => b.length - a.length,
);
const EN_TOKENS = new Set(
  [...EN_FILLERS, ...[EN_COLORS, EN_POSITIONS, EN_SIZES, EN_STYLES].flatMap((l) => l.map(([w]) => w.toLowerCase())), ...EN_VERTICAL].flatMap((w) =>
    w.split(/\s+/),
  ),
);

function isEnWord(w: string): boolean {
  return EN_TOKENS.has(w.toLowerCase()) || /^#[0-9a-f]{3,6}$/i.test(w) || /^[0-9一二三四五六七八九十两几]+个?字?$/.test(w);
}

/** How far back from `end` (not before `floor`) the text is only descriptive words. */
function eatBack(prompt: string, floor: number, end: number): number {
  let i = end;
  for (;;) {
    const before = prompt.slice(floor, i);
    const en = /([A-Za-z#0-9][\w#-]*)(\s*)$/.exec(before);
    if (en && en[1] && isEnWord(en[1])) {
      i -= en[0].length;
      const sp = /\s+$/.exec(prompt.slice(floor, i));
      if (sp) i -= sp[0].length;
      continue;
    }
    const zh = ZH_TOKENS.find((t) => before.endsWith(t));
    if (zh) {
      i -= zh.length;
      continue;
    }
    const num = /[0-9一二三四五六七八九十两几]+个$/.exec(before);
    if (num) {
      i -= num[0].length;
      continue;
    }
    return i;
  }
}

/** How far forward from `start` (not past `ceil`) the text is only descriptive words. */
function eatForward(prompt: string, start: number, ceil: number): number {
  let i = start;
  for (;;) {
    const after = prompt.slice(i, ceil);
    const sp = /^\s+/.exec(after);
    if (sp) {
      i += sp[0].length;
      continue;
    }
    const en = /^([A-Za-z#0-9][\w#-]*)/.exec(after);
    if (en && en[1] && isEnWord(en[1])) {
      i += en[0].length;
      continue;
    }
    const num = /^[0-9一二三四五六七八九十两几]+个/.exec(after);
    if (num) {
      i += num[0].length;
      continue;
    }
    const zh = ZH_TOKENS.find((t) => after.startsWith(t));
    if (zh) {
      i += zh.length;
      continue;
    }
    return i;
  }
}

function firstCue(prompt: string, from: number, to: number): number | undefined {
  const seg = prompt.slice(from, to);
  const zh = ZH_CUES.map((c) => seg.indexOf(c)).filter((x) => x >= 0);
  const en = EN_CUES.exec(seg);
  const all = [...zh, ...(en ? [en.index] : [])];
  return all.length ? from + Math.min(...all) : undefined;
}

export function buildModelPrompt(
  prompt: string,
  blocks: TextBlock[],
  ctxs: SpanContext[],
): { modelPrompt: string; negativePrompt: string } {
  if (blocks.length === 0) return { modelPrompt: prompt, negativePrompt: '' };
  let out = '';
  let cursor = 0;
  blocks.forEach((b, i) => {
    const ctx = ctxs[i];
    if (!ctx) return;
    const [spanStart, spanEnd] = b.span;
    const cue = firstCue(prompt, ctx.pre[0], spanStart) ?? spanStart;
    const cutStart = Math.max(cursor, eatBack(prompt, ctx.pre[0], cue));
    let cutEnd = eatForward(prompt, spanEnd, ctx.tail[1]);
    // Leave the space before the next word.
    while (cutEnd > spanEnd && /\s/.test(prompt[cutEnd - 1] ?? '')) cutEnd--;
    const kept = prompt.slice(cursor, cutStart);
    const clauseHead = prompt.slice(ctx.pre[0], cutStart).trim();
    const words = positionWords(b.position.v, b.position.h);
    let fill: string;
    if (b.lang === 'zh' || /[\u3400-\u9fff]/.test(prompt.slice(ctx.pre[0], ctx.tail[1]))) {
      fill = clauseHead === '' ? `${words.zh}留白` : '留白';
    } else {
      const what = b.size === 'title' ? 'a title' : 'text';
      fill = `${clauseHead === '' ? '' : 'with '}a clean blank area at the ${words.en} for ${what}`;
    }
    const joined = out + kept;
    const sep = kept === '' && out !== '' ? (b.lang === 'zh' ? '，' : ', ') : /[A-Za-z0-9,]$/.test(joined) && /^[A-Za-z]/.test(fill) ? ' ' : '';
    out = joined + sep + fill;
    cursor = cutEnd;
  });
  out += prompt.slice(cursor);
  const modelPrompt = out
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/\s+([,，。.;；])/g, '$1')
    .replace(/([,，])\s*(?=[,，。.])/g, '')
    .trim();
  return { modelPrompt, negativePrompt: TEXT_NEGATIVE };
}

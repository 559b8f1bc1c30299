/**
 * `mengtu layout "<prompt>" [--width --height] [--json]`: how each quoted span was understood (text, position,
 * size, colour, style, and the words that decided each), as a readable summary or as JSON.
 */
import type { Command } from 'commander';
import { CvError } from '../contract/errors.js';
import type { LayoutBlockJson, LayoutJson } from '../gateway/layout-plan.js';

function side(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 64 || n > 8192) throw new CvError(50204, `Invalid Param Type: ${name} must be an integer 64…8192`);
  return n;
}

/** Terminal columns: CJK and full-width characters take two. */
function columns(s: string): number {
  let n = 0;
  for (const ch of s) n += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch) ? 2 : 1;
  return n;
}

const pad = (s: string, w: number): string => s + ' '.repeat(Math.max(0, w - columns(s)));

/** “word”, “word” — or why the value was chosen when no word decided it. */
function because(words: string[], otherwise: string): string {
  return words.length > 0 ? `from ${words.map((w) => `“${w}”`).join(', ')}` : otherwise;
}

function describeBlock(b: LayoutBlockJson, i: number, blocks: LayoutBlockJson[]): string {
  const rows: [string, string, string][] = [
    ['position', `${b.position.v} ${b.position.h}`, because(b.cues.position, i === 0 ? 'default: top centre' : `default: stacked under block ${i}`)],
    ['size', `${b.size} (${b.fontSize} px)`, because(b.cues.size, i === 0 ? 'default: the first block is large' : 'default: medium')],
    ['colour', b.color.name === 'auto' ? 'auto' : `${b.color.hex} ${b.color.name}`, because(b.cues.color, 'default: white or black, whichever reads better on the picture')],
    ['style', b.style.length > 0 ? b.style.join(' + ') : 'plain', because(b.cues.style, 'no style word')],
    ['face', b.font, 'from style, size and script'],
    ['direction', b.vertical ? 'vertical (竖排)' : 'horizontal', because(b.cues.vertical, b.lang === 'zh' ? 'no 竖排 word' : 'Latin text runs horizontally')],
  ];
  const w = Math.max(...rows.map((r) => columns(r[1])));
  const lines = b.laidOutLines.map((l) => l.text).join(' ⏎ ');
  const boxLine = `box x ${Math.round(b.box.x)} y ${Math.round(b.box.y)} w ${Math.round(b.box.w)} h ${Math.round(b.box.h)}, ${b.laidOutLines.length} line${b.laidOutLines.length === 1 ? '' : 's'}: ${lines}${b.fits ? '' : '  (does NOT fit: clipped)'}`;
  return [
    `${i + 1}/${blocks.length}  “${b.text.replace(/\n/g, '⏎')}”  (${b.lang === 'zh' ? 'Chinese' : 'Latin'})`,
    ...rows.map(([k, v, why]) => `    ${k.padEnd(10)}${pad(v, w + 2)}${why}`),
    `    ${boxLine}`,
  ].join('\n');
}

export function formatLayout(out: LayoutJson): string {
  const head = [
    `canvas          ${out.width}×${out.height}`,
    `model prompt    ${out.modelPrompt}`,
    `negative prompt ${out.negativePrompt || '(none)'}`,
  ];
  if (out.blocks.length === 0) return `${head.join('\n')}\n\nno quoted text: nothing is drawn (put the words in quotes, e.g. 顶部写着“新年快乐”)\n`;
  return `${head.join('\n')}\n\n${out.blocks.map(describeBlock).join('\n\n')}\n`;
}

export function registerLayoutCommand(program: Command): void {
  program
    .command('layout')
    .description('show how quoted text in a prompt will be placed, and which words decided it')
    .argument('<prompt>', 'the prompt; quoted spans (“…” "…" 「…」) are the text to draw')
    .option('--width <px>', 'image width', '1024')
    .option('--height <px>', 'image height', '1024')
    .option('--json', 'print the plan and its laid-out boxes as JSON')
    .action(async (prompt: string, opts: { width: string; height: string; json?: boolean }) => {
      const width = side('width', opts.width);
      const height = side('height', opts.height);
      // Fonts and the layout engine load only when the command runs, not for --help.
      const { layoutJson } = await import('../gateway/layout-plan.js');
      const out = layoutJson(prompt, width, height);
      process.stdout.write(opts.json ? `${JSON.stringify(out, null, 2)}\n` : formatLayout(out));
    });
}

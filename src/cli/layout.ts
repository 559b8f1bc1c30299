/** `mengtu layout "<prompt>" [--width --height]`: prints the typography plan and its laid-out boxes as JSON. */
import type { Command } from 'commander';
import { CvError } from '../contract/errors.js';
import { layoutPlan, parseTextPlan } from '../typography/index.js';

function side(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 64 || n > 8192) throw new CvError(50204, `Invalid Param Type: ${name} must be an integer 64…8192`);
  return n;
}

export function registerLayoutCommand(program: Command): void {
  program
    .command('layout')
    .description('show how quoted text in a prompt will be placed (plan and boxes as JSON)')
    .argument('<prompt>', 'the prompt; quoted spans (“…” "…" 「…」) are the text to draw')
    .option('--width <px>', 'image width', '1024')
    .option('--height <px>', 'image height', '1024')
    .action((prompt: string, opts: { width: string; height: string }) => {
      const width = side('width', opts.width);
      const height = side('height', opts.height);
      const plan = parseTextPlan(prompt);
      const layout = layoutPlan(plan, width, height);
      const out = {
        modelPrompt: plan.modelPrompt,
        negativePrompt: plan.negativePrompt,
        width,
        height,
        blocks: layout.blocks.map((lb) => ({
          ...lb.block,
          region: lb.region,
          box: lb.box,
          fontSize: lb.fontSize,
          fits: lb.fits,
          laidOutLines: lb.lines,
        })),
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });
}

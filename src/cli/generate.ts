/**
 * `mengtu generate "<prompt>" -o out.png`: the whole pipeline in-process, no server. The heavy modules (engine,
 * pipeline, runtime) are imported inside the action, so `mengtu --help` loads none of them.
 */
import { InvalidArgumentError, type Command } from 'commander';
import path from 'node:path';
import { LIMITS, SCHEDULERS } from '../contract/cvprocess.js';
import { REGISTRY } from '../engine/registry.js';

interface GenerateOpts {
  output: string;
  seed?: number;
  width?: number;
  height?: number;
  model?: string;
  steps?: number;
  guidance?: number;
  negative?: string;
  scheduler?: string;
  count: number;
  sr: boolean;
  preLlm: boolean;
  threads?: string;
  vae?: string;
  lowMemory?: boolean;
  logo?: boolean;
  logoPosition?: number;
  logoLanguage?: number;
  logoOpacity?: number;
  logoText?: string;
  /** Image-to-image: the input picture file and how far the picture may move from it. */
  image?: string;
  strength?: number;
}

// Only the type is checked here; ranges are the contract's (one place, the same messages as the API).
function intArg(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
}

function numArg(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

function countArg(v: string): number {
  const n = intArg(v);
  if (n < 1 || n > 16) throw new InvalidArgumentError('expected 1…16');
  return n;
}

/** Corner names as the contract numbers them (0 bottom-right, 1 bottom-left, 2 top-left, 3 top-right). */
const POSITIONS: Record<string, number> = { 'bottom-right': 0, br: 0, 'bottom-left': 1, bl: 1, 'top-left': 2, tl: 2, 'top-right': 3, tr: 3 };

function positionArg(v: string): number {
  if (v in POSITIONS) return POSITIONS[v]!;
  return intArg(v);
}

function languageArg(v: string): number {
  if (v === 'zh' || v === '0') return 0;
  if (v === 'en' || v === '1') return 1;
  throw new InvalidArgumentError('expected zh or en');
}

/** The registry's per-model defaults, for --help: what a request gets when it sets nothing. */
function defaultsTable(): string {
  const rows = REGISTRY.flatMap((e) =>
    e.defaults ? [`  ${e.name.padEnd(20)} ${String(e.defaults.steps).padStart(2)} steps  guidance ${String(e.defaults.guidanceScale).padEnd(4)} ${e.defaults.scheduler ?? 'auto'}`] : [],
  );
  return `\nModel defaults (used when --steps/--guidance/--scheduler are not given):\n${rows.join('\n')}\n`;
}

/** out.png → out.png for one image, out-1.png … out-N.png for several. */
export function outputPaths(output: string, count: number): string[] {
  if (count === 1) return [output];
  const ext = path.extname(output) || '.png';
  const stem = output.slice(0, output.length - path.extname(output).length);
  return Array.from({ length: count }, (_, i) => `${stem}-${i + 1}${ext}`);
}

export function registerGenerateCommand(program: Command): void {
  program
    .command('generate')
    .description('generate images in-process (no server needed)')
    .argument('<prompt>', 'the prompt; quoted text inside it is rendered as typography')
    .requiredOption('-o, --output <file>', 'PNG file to write (with -n N: FILE-1.png … FILE-N.png)')
    .option('--seed <n>', 'seed, -1 = random; with -n, image i uses seed+i-1 (default -1)', intArg)
    .option('--width <px>', `render width ${LIMITS.sizeMin}…${LIMITS.sizeMax} (default 512)`, intArg)
    .option('--height <px>', `render height ${LIMITS.sizeMin}…${LIMITS.sizeMax} (default 512)`, intArg)
    .option('--steps <n>', `denoising steps 1…${LIMITS.stepsMax} (default: the model's, below)`, intArg)
    .option('--guidance <x>', `classifier-free guidance scale 0…${LIMITS.guidanceMax} (default: the model's)`, numArg)
    .option('--negative <text>', 'negative prompt: what the picture should not show')
    .option('--scheduler <name>', `sampler: ${SCHEDULERS.join(', ')} (default: the model's)`, (v: string) => {
      if (!(SCHEDULERS as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${SCHEDULERS.join(', ')}`);
      return v;
    })
    .option('-n, --count <n>', 'how many images (1…16)', countArg, 1)
    .option('--model <name>', 'model name, repo or directory (env MENGTU_MODEL, default sd-turbo; "tiny" needs no download)')
    .option('--threads <n>', 'ONNX Runtime intra-op threads')
    .option('--vae <decoder>', 'decoder for the final image: vae or taesd (env MENGTU_VAE)')
    .option('--low-memory', 'lower peak memory for a slower run (env MENGTU_LOW_MEMORY)')
    .option('--image <file>', 'image-to-image from this PNG/JPEG (jimeng_i2i_v30\'s rules: ≤ 4.7 MB, ≤ 4096²; output: its size fitted to 1536, or --width/--height 512…1536)')
    .option('--strength <x>', 'with --image: 0 (the input back) … 1 (from noise) (default 0.5)', numArg)
    .option('--no-sr', 'deliver the render size instead of 2× super-resolution')
    .option('--no-pre-llm', 'do not expand the prompt')
    .option('--logo', 'draw the visible "AI生成" / "Generated by AI" mark')
    .option('--logo-position <pos>', 'mark corner: bottom-right|bottom-left|top-left|top-right (or br bl tl tr, 0…3; default bottom-right)', positionArg)
    .option('--logo-language <lang>', 'mark language: zh ("AI生成") or en ("Generated by AI") (default zh)', languageArg)
    .option('--logo-opacity <x>', 'mark opacity 0…1 (default 0.3)', numArg)
    .option('--logo-text <text>', `extra line drawn with the mark (≤ ${LIMITS.logoTextMaxChars} characters)`)
    .addHelpText('after', defaultsTable)
    .action(async (prompt: string, o: GenerateOpts) => {
      const { runGenerate } = await import('./generate-run.js');
      await runGenerate(prompt, o);
    });
}

export type { GenerateOpts };

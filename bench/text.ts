/**
 * Text-rendering benchmark: ≥ 200 seeded prompts (Chinese and English, 1–30 characters, mixed positions,
 * colours, styles, sizes, images 512…1024), three in four over busy synthetic backgrounds and one in four
 * over the engine's output for the prompt, through parse → layout → render, each block read back by two
 * OCR judges: Tesseract (on the block's glyph mask) and PaddleOCR PP-OCRv4 (on the composited picture,
 * line by line). Also measures each judge's
 * ceiling: the same lines drawn plainly, black on white, same face and size, read the same way. The
 * panel counts a block as read when either judge reads it exactly: each engine has its own blind spots
 * (Tesseract with decorative faces, PaddleOCR with spaces in English), and an exact reading by either
 * is strong evidence that the text is there and legible.
 *
 * "Judge-readable" = the judge reads the plain rendering exactly. Both judges flip on strings at the edge
 * of what they read (Tesseract's 花→伦 or 恭→共 in a plain bold face at one text height and not the next;
 * PaddleOCR's case of a lone "S" with a little more room above), and a styled miss there is a coin the
 * plain rendering happened to win. So a second, stricter set is reported too: "reliably readable" =
 * the plain rendering is read exactly at every look (Tesseract: each text height, not only the vote;
 * PaddleOCR: each of PADDLE_RELIABILITY_MARGINS). One seed's 200 prompts are few, and the renderer was
 * tuned on the first: the bench runs six sets (DEFAULT_SEEDS) and judges the goal on their pool.
 *
 * Multi-span English posters (2–4 quoted spans, each with its own position and colour) are scored by
 * bag-of-words recall over all their spans, and by whether each span landed where its words put it.
 *
 *   npm run bench:text            six prompt sets, then the pooled figures (~15 min on 2 cores; BENCH_TEXT_SEEDS=20260601
 *                                 for one set, BENCH_TEXT_N=60 for fewer prompts; MENGTU_BENCH_MODEL=dir draws over that model's output instead of tiny's)
 *   npm run bench:text -- --sheet docs/text-sheet.png   also writes a contact sheet of 30 rendered prompts
 *   npm run bench:text -- --misses /tmp/misses          writes what each judge saw for its misses (styled and plain)
 *   BENCH_TEXT_STYLE=neon npm run bench:text            only that style's prompts
 *
 * Everything is rendered first; the OCR comes after, all at once: Tesseract in one process per core that
 * loads each language once for many pictures (a list file), PaddleOCR beside it.
 */
import { createCanvas } from '@napi-rs/canvas';
import sharp from 'sharp';
import { cpus } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { ensureTinyModel, loadEngine } from '../src/engine/index.js';
import type { RawImage } from '../src/engine/types.js';
import { createRng, type Rng } from '../src/engine/rng.js';
import { layoutPlan, parseTextPlan, renderTextPlanDetailed } from '../src/typography/index.js';
import { ocrAvailable, ocrBatch, type OcrJob } from '../test/helpers/judges/ocr.js';
import { PaddleRecognizer } from '../test/helpers/judges/paddle-ocr.js';
import { normalisedEditDistance } from '../src/typography/textmetrics.js';
import type { LaidOutBlock, Layout, TextPlan } from '../src/typography/types.js';
import { drawnText, PADDLE_RELIABILITY_MARGINS, paddleCrops, paddleReading, PLAIN_INK, plainRendering, tesseractJobs, tesseractReading } from '../test/helpers/judges/verify.js';

const ZH_PHRASES = ['新年快乐', '万事如意', '开业大吉', '限时优惠', '春暖花开', '欢迎光临', '恭喜发财', '生日快乐', '好好学习', '天天向上', '中秋节快乐', '咖啡', '面包店', '书店', '夏日特饮', '全场五折', '新品上市', '今日特价', '健康生活', '山水之间', '我爱北京', '早安', '晚安', '谢谢惠顾', '春节', '元宵节', '端午安康', '国庆七天乐', '买一送一', '营业时间', '热烈庆祝', '毕业快乐', '一路平安', '心想事成', '花好月圆', '年年有余', '学海无涯', '海纳百川', '自强不息', '厚德载物'];
const ZH_SEPS = ['', '，', '！', ' '];
const EN_WORDS = ['grand', 'opening', 'sale', 'summer', 'coffee', 'open', 'welcome', 'happy', 'birthday', 'new', 'year', 'fresh', 'bakery', 'books', 'music', 'festival', 'today', 'only', 'best', 'deal', 'city', 'night', 'market', 'love', 'travel', 'dream', 'big', 'save', 'free', 'shipping'];
const POS = [
  ['', '', undefined],
  ['上方', 'at the top', 'top'],
  ['底部', 'at the bottom', 'bottom'],
  ['中间', 'in the center', 'middle'],
  ['左上角', 'in the upper left', 'top-left'],
  ['右上角', 'in the top right', 'top-right'],
  ['左下角', 'in the lower left', 'bottom-left'],
  ['右下角', 'in the bottom right', 'bottom-right'],
  ['左侧', 'on the left', 'left'],
  ['右侧', 'on the right', 'right'],
] as const;
const COLORS = [
  ['', ''],
  ['红色', 'red'],
  ['金色', 'gold'],
  ['白色', 'white'],
  ['黑色', 'black'],
  ['蓝色', 'blue'],
  ['绿色', 'green'],
  ['黄色', 'yellow'],
  ['紫色', 'purple'],
  ['#ff6600', '#ff6600'],
] as const;
const STYLES = [
  ['', '', 'plain'],
  ['黑体', 'bold', 'bold'],
  ['宋体', 'serif', 'serif'],
  ['书法', 'calligraphy', 'brush'],
  ['手写', 'handwritten', 'handwritten'],
  ['圆体', 'rounded', 'rounded'],
  ['霓虹', 'neon', 'neon'],
  ['描边', 'outlined', 'outline'],
  ['立体', '3d', '3d'],
  ['阴影', 'shadowed', 'shadow'],
  ['渐变', 'gradient', 'gradient'],
  ['金属质感', 'metallic', 'metallic'],
  ['涂鸦', 'graffiti', 'doodle'],
] as const;
const SIZES = [
  ['', '', 'default'],
  ['大标题', 'title', 'title'],
  ['大字', 'large', 'large'],
  ['小字', 'small', 'small'],
] as const;
const SIDES = [512, 640, 768, 896, 1024];
const SCENES_ZH = ['一张节日海报', '城市夜景', '森林里的小屋', '海边日落', '一杯热咖啡的特写'];
const SCENES_EN = ['a festive poster', 'a city at night', 'a cabin in the forest', 'a beach at sunset', 'a close-up of a hot coffee'];

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[Math.floor(rng.uniform() * xs.length)] as T;
}

function zhText(rng: Rng): string {
  const target = 1 + Math.floor(rng.uniform() ** 1.5 * 30);
  if (target <= 2) return pick(rng, ZH_PHRASES).slice(0, target);
  let s = pick(rng, ZH_PHRASES);
  while ([...s].length < target) s += pick(rng, ZH_SEPS) + pick(rng, ZH_PHRASES);
  return [...s].slice(0, target).join('').replace(/[，！ ]+$/, '');
}

function enText(rng: Rng): string {
  const target = 1 + Math.floor(rng.uniform() ** 1.5 * 30);
  let s = pick(rng, EN_WORDS);
  while (s.length < target) s += ` ${pick(rng, EN_WORDS)}`;
  s = s.slice(0, target).trim();
  const c = rng.uniform();
  return c < 0.4 ? s.toUpperCase() : c < 0.8 ? s.replace(/\b\w/g, (m) => m.toUpperCase()) : s;
}

export interface BenchCase {
  id: number;
  prompt: string;
  width: number;
  height: number;
  lang: 'zh' | 'en';
  style: string;
  size: string;
  position: string;
  text: string;
  /** What the text is drawn over: a busy synthetic picture, a calm gradient, or the engine's output for the prompt. */
  background: 'synthetic' | 'calm' | 'engine';
}

export function makeCases(n: number, seed = 20260601): BenchCase[] {
  const rng = createRng(seed);
  const cases: BenchCase[] = [];
  for (let id = 0; id < n; id++) {
    const lang = id % 2 === 0 ? 'zh' : 'en';
    const [pz, pe, pname] = pick(rng, POS);
    const [cz, ce] = pick(rng, COLORS);
    const [sz, se, sname] = pick(rng, STYLES);
    const [zz, ze, zname] = pick(rng, SIZES);
    const text = lang === 'zh' ? zhText(rng) : enText(rng);
    const side = pick(rng, SIDES);
    const width = side;
    const height = rng.uniform() < 0.7 ? side : pick(rng, SIDES);
    const prompt =
      lang === 'zh'
        ? `${pick(rng, SCENES_ZH)}，${pz}有${sz}${sz ? '风格的' : ''}${cz}${zz || '文字'}写着“${text}”`
        : `${pick(rng, SCENES_EN)} with ${ze ? `${ze} ` : ''}${se ? `${se} ` : ''}${ce ? `${ce} ` : ''}text that says "${text}" ${pe}`.trim();
    // Every fourth prompt is drawn over what the engine generated for it, one in eight over a calm gradient.
    const background = id % 4 === 3 ? 'engine' : id % 8 === 1 ? 'calm' : 'synthetic';
    cases.push({ id, prompt, width, height, lang, style: sname, size: zname, position: pname ?? 'default', text, background });
  }
  return cases;
}

/** A busy background: a two-colour gradient, random shapes and per-pixel noise. */
export function busyBackground(width: number, height: number, seed: number): RawImage {
  const rng = createRng(seed);
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const col = (): string => `rgb(${Math.floor(rng.uniform() * 256)},${Math.floor(rng.uniform() * 256)},${Math.floor(rng.uniform() * 256)})`;
  const g = ctx.createLinearGradient(0, 0, width * rng.uniform(), height);
  g.addColorStop(0, col());
  g.addColorStop(1, col());
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, width, height);
  for (let i = 0; i < 14; i++) {
    ctx.fillStyle = col();
    ctx.globalAlpha = 0.3 + rng.uniform() * 0.7;
    const x = rng.uniform() * width;
    const y = rng.uniform() * height;
    const r = (0.03 + rng.uniform() * 0.15) * Math.min(width, height);
    ctx.beginPath();
    if (i % 2) ctx.arc(x, y, r, 0, Math.PI * 2);
    else ctx.rect(x - r, y - r / 2, r * 2, r);
    ctx.fill();
  }
  const data = new Uint8ClampedArray(ctx.getImageData(0, 0, width, height).data);
  const noise = rng.normal(1024);
  for (let i = 0, k = 0; i < data.length; i += 4, k = (k + 7) % 1024) {
    const d = (noise[k] ?? 0) * 18;
    data[i] = (data[i] ?? 0) + d;
    data[i + 1] = (data[i + 1] ?? 0) + d;
    data[i + 2] = (data[i + 2] ?? 0) + d;
  }
  return { width, height, data };
}

/** A calm picture: a smooth two-colour gradient, light or dark (the kind of sky or wall text often sits on). */
export function calmBackground(width: number, height: number, seed: number): RawImage {
  const rng = createRng(seed);
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const dark = rng.uniform() < 0.5;
  const col = (): string => {
    const base = dark ? 10 : 170;
    return `rgb(${base + Math.floor(rng.uniform() * 80)},${base + Math.floor(rng.uniform() * 80)},${base + Math.floor(rng.uniform() * 80)})`;
  };
  const g = ctx.createLinearGradient(0, 0, width * rng.uniform(), height);
  g.addColorStop(0, col());
  g.addColorStop(1, col());
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, width, height);
  return { width, height, data: new Uint8ClampedArray(ctx.getImageData(0, 0, width, height).data) };
}

const POSTER_SLOTS = [
  ['at the top', 'top'],
  ['in the middle', 'middle'],
  ['at the bottom', 'bottom'],
  ['in the top left corner', 'top'],
  ['in the bottom right corner', 'bottom'],
] as const;
const POSTER_COLORS = ['red', 'white', 'black', 'gold', 'blue', 'yellow', 'green', ''] as const;
const POSTER_STYLES = ['', 'bold ', 'condensed ', 'serif ', 'neon ', 'handwritten ', '3d ', 'shadowed '] as const;

export interface PosterCase {
  id: number;
  prompt: string;
  spans: Array<{ text: string; v: string }>;
  side: number;
}

/** English posters with 2–4 quoted spans, each with its own place, colour and style, joined by "and" or commas. */
export function makePosterCases(n: number, seed = 20261202): PosterCase[] {
  const rng = createRng(seed);
  const out: PosterCase[] = [];
  for (let id = 0; id < n; id++) {
    const k = 2 + Math.floor(rng.uniform() * 3);
    const slots = [...POSTER_SLOTS].sort(() => rng.uniform() - 0.5).slice(0, k);
    // Distinct rows so the expected position of each span is unambiguous.
    const rows = new Set<string>();
    const chosen = slots.filter(([, v]) => (rows.has(v) ? false : (rows.add(v), true)));
    const spans = chosen.map(([words, v]) => {
      const text = Array.from({ length: 1 + Math.floor(rng.uniform() * 3) }, () => pick(rng, EN_WORDS)).join(' ').toUpperCase();
      const colour = pick(rng, POSTER_COLORS);
      return { text, v, phrase: `${pick(rng, POSTER_STYLES)}"${text}"${colour ? ` in ${colour}` : ''} ${words}` };
    });
    const joined = spans.map((x) => x.phrase).reduce((acc, ph, i) => (i === 0 ? ph : `${acc}${i === spans.length - 1 ? ' and ' : ', '}${ph}`), '');
    out.push({ id, prompt: `a poster with ${joined}`, spans: spans.map(({ text, v }) => ({ text, v })), side: pick(rng, [768, 1024]) });
  }
  return out;
}

/** Words of `s` as a multiset, case- and punctuation-insensitive. */
function words(s: string): string[] {
  return s.toLowerCase().split(/[^a-z0-9%]+/).filter(Boolean);
}

/** Share of the expected words found among the read ones, each read word used once. */
export function bagOfWordsRecall(expected: string[], read: string[]): number {
  const pool = new Map<string, number>();
  for (const w of read) pool.set(w, (pool.get(w) ?? 0) + 1);
  let hit = 0;
  for (const w of expected) {
    const left = pool.get(w) ?? 0;
    if (left > 0) {
      hit++;
      pool.set(w, left - 1);
    }
  }
  return expected.length ? hit / expected.length : 1;
}

export const JUDGES = ['tesseract', 'paddleocr'] as const;
export type JudgeName = (typeof JUDGES)[number];
type Readings = Record<JudgeName, string>;

interface BlockResult {
  c: BenchCase;
  expected: string;
  styled: Readings;
  plain: Readings;
  /** Normalised edit distance of the closer of the two styled readings. */
  ned: number;
  /**
   * Whether the judge reads the plain rendering exactly every time it looks (Tesseract: at each text
   * height, not only by the vote): a string at the edge of what the judge reads flips with a grey level
   * or a pixel of scale, plain or styled alike, and says nothing about the renderer.
   */
  plainStable: Record<JudgeName, boolean>;
  pending: Pending;
}

/** Which readings to score: one judge, or the panel (either judge exact). */
type Scorer = JudgeName | 'panel';
const exactBy = (r: BlockResult, which: 'styled' | 'plain', by: Scorer): boolean =>
  by === 'panel' ? JUDGES.some((j) => r[which][j] === r.expected) : r[which][by] === r.expected;
/** Judge-readable and read the same way at every look (see plainStable). */
const reliablyReadable = (r: BlockResult, by: Scorer): boolean =>
  by === 'panel' ? JUDGES.some((j) => r.plain[j] === r.expected && r.plainStable[j]) : r.plain[by] === r.expected && r.plainStable[by];

type Crop = { data: Buffer; width: number; height: number };

/** One block waiting for its readings: what each judge will read, styled and (for the ceiling) plain. */
interface Pending {
  c?: BenchCase;
  lb: LaidOutBlock;
  expected: string;
  tesseract: { styled?: OcrJob[]; plain?: OcrJob[] };
  paddle: { styled?: Crop[][]; plain?: Crop[][] };
  read: { styled: Readings; plain: Readings };
  /** PaddleOCR read the plain rendering exactly in every reliability margin. */
  paddlePlainStable?: boolean;
}

const noReadings = (): Readings => ({ tesseract: '', paddleocr: '' });

/**
 * Writes what each judge saw for every judge-readable block it missed (styled and plain, Tesseract's
 * prepared mask and PaddleOCR's line crops) with an index of readings, to tell the judge's errors
 * from the renderer's.
 */
async function writeMisses(dir: string, results: BlockResult[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  const index: string[] = [];
  for (const r of results) {
    for (const j of JUDGES) {
      if (r.plain[j] !== r.expected || r.styled[j] === r.expected) continue;
      const base = path.join(dir, `${String(r.c.id).padStart(3, '0')}-${j}`);
      for (const which of ['styled', 'plain'] as const) {
        if (j === 'tesseract') {
          const job = r.pending.tesseract[which]?.[0];
          if (job) await writeFile(`${base}-${which}.png`, job.png);
        } else {
          for (const [k, crop] of (r.pending.paddle[which]?.[0] ?? []).entries()) await sharp(crop.data, { raw: { width: crop.width, height: crop.height, channels: 3 } }).png().toFile(`${base}-${which}-${k}.png`);
        }
      }
      index.push(JSON.stringify({ id: r.c.id, judge: j, plainStable: r.plainStable[j], style: r.c.style, font: r.pending.lb.block.font, fontSize: r.pending.lb.fontSize, expected: r.expected, read: r.styled[j], prompt: r.c.prompt }));
    }
  }
  await writeFile(path.join(dir, 'misses.jsonl'), index.join('\n') + '\n');
}

export interface Score {
  n: number;
  exact: number;
  readable: number;
  exactOnReadable: number;
  /** Share of blocks reliably readable (plain read exactly at every look), and exact among them. */
  reliable: number;
  exactOnReliable: number;
  ned: number;
}

export interface TextBenchResult {
  cases: number;
  blocks: number;
  /** The panel's figures (either judge exact); per judge in `byJudge`. */
  exact: number;
  meanNed: number;
  judgeReadable: number;
  exactOnReadable: number;
  byJudge: Record<Scorer, Score>;
  msPerImage1024: { mean: number; p95: number };
  perCategory: Record<string, Record<string, Score>>;
  failures: Array<{ prompt: string; expected: string; styled: Readings; plain: Readings }>;
  posters: { n: number; spans: number; bagOfWordsRecall: number; placedAsAsked: number };
}

const SHEET_CELL = 320;

/** A cell of the contact sheet: the rendered picture fitted into a square. */
async function thumb(img: RawImage): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: 4 } })
    .resize(SHEET_CELL, SHEET_CELL, { fit: 'contain', background: '#202020' })
    .png()
    .toBuffer();
}

async function writeSheet(file: string, cells: Buffer[]): Promise<void> {
  const cols = 6;
  const rows = Math.ceil(cells.length / cols);
  await sharp({ create: { width: cols * SHEET_CELL, height: rows * SHEET_CELL, channels: 3, background: '#202020' } })
    .composite(cells.map((input, i) => ({ input, left: (i % cols) * SHEET_CELL, top: Math.floor(i / cols) * SHEET_CELL })))
    .png({ compressionLevel: 9, palette: true, quality: 90 })
    .toFile(file);
}

export async function runTextBench(
  opts: { n?: number; posters?: number; seed?: number; ocrTextHeights?: number[]; sheet?: string; misses?: string; style?: string; log?: (s: string) => void } = {},
): Promise<TextBenchResult> {
  const log = opts.log ?? ((s: string) => process.stdout.write(`${s}\n`));
  const n = Math.max(1, opts.n ?? 200);
  if (!ocrAvailable('chi_sim+eng') || !ocrAvailable('chi_sim_vert')) throw new Error('tesseract with chi_sim, chi_sim_vert and eng is required (apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim tesseract-ocr-chi-sim-vert)');
  // BENCH_TEXT_STYLE=neon (say) keeps only that style's prompts, to look at one style's misses.
  const cases = makeCases(n, opts.seed).filter((c) => !opts.style || c.style === opts.style);
  const paddle = await PaddleRecognizer.load();
  // Warm the fonts so the timing below is the steady state of a serving process.
  for (const face of ['sans', 'sans-bold', 'serif', 'serif-bold', 'brush', 'handwriting', 'doodle', 'rounded', 'script', 'display'] as const) {
    layoutPlan({ blocks: [{ text: '永A', lines: ['永A'], position: { v: 'top', h: 'center' }, positionExplicit: true, size: 'large', color: { name: 'auto', hex: '#ffffff' }, style: [], font: face, vertical: false, lang: 'zh', span: [0, 0] }], modelPrompt: '', negativePrompt: '' }, 256, 256);
  }
  const heights = opts.ocrTextHeights ? { textHeights: opts.ocrTextHeights } : {};
  const t0 = performance.now();
  const conc = Math.max(1, Math.min(4, cpus().length));
  // The engine's pictures are made first, one at a time (one engine, two cores).
  const engineBgs = await engineBackgrounds(cases.filter((c) => c.background === 'engine'), log);
  const sheetCells = new Map<number, Buffer>();
  const sheetKinds = new Map<BenchCase['background'], number>();
  // Render everything first and keep only what the judges read (Tesseract's prepared masks, PaddleOCR's
  // line crops), then read it all at once: Tesseract in `conc` processes that each load a language
  // once for many pictures, PaddleOCR beside them on ONNX Runtime's thread.
  const pending: Pending[] = [];
  for (const c of cases) {
    const bg = engineBgs.get(c.id) ?? (c.background === 'calm' ? calmBackground(c.width, c.height, 1000 + c.id) : busyBackground(c.width, c.height, 1000 + c.id));
    engineBgs.delete(c.id);
    const report = renderTextPlanDetailed(bg, parseTextPlan(c.prompt));
    // The sheet shows the first eight of each background: busy synthetic, calm gradient, the engine's picture.
    if (opts.sheet && (sheetKinds.get(c.background) ?? 0) < 8) {
      sheetCells.set(c.id, await thumb(report.image));
      sheetKinds.set(c.background, (sheetKinds.get(c.background) ?? 0) + 1);
    }
    const plain = plainRendering(report.layout, c.width, c.height);
    for (const [i, lb] of report.layout.blocks.entries()) {
      const decision = report.legibility[i];
      if (!decision) continue;
      const plainLb = plain.layout.blocks[i] ?? lb;
      pending.push({
        c,
        read: { styled: noReadings(), plain: noReadings() },
        lb,
        expected: drawnText(lb),
        tesseract: { styled: await tesseractJobs(report.image, bg, lb, decision, heights), plain: await tesseractJobs(plain.image, plain.before, plainLb, PLAIN_INK, heights) },
        // The plain crops in each reliability margin: the first is the judge's own reading, all of them say whether it is reliable.
        paddle: { styled: paddleCrops(report.image, lb), plain: paddleCrops(plain.image, plainLb, PADDLE_RELIABILITY_MARGINS) },
      });
    }
  }
  // Multi-span English posters: bag-of-words recall over all spans (the better judge per block), and
  // whether each span was placed in the row its own words name.
  const posterCases = makePosterCases(opts.posters ?? 40, (opts.seed ?? 1) + 99);
  const posterCells: Buffer[] = [];
  const posterPending: Array<Pending & { pc: PosterCase; span: number }> = [];
  for (const pc of posterCases) {
    const bg = pc.id % 2 ? calmBackground(pc.side, pc.side, 7000 + pc.id) : busyBackground(pc.side, pc.side, 7000 + pc.id);
    const report = renderTextPlanDetailed(bg, parseTextPlan(pc.prompt));
    if (opts.sheet && pc.id < 6) posterCells.push(await thumb(report.image));
    for (const [i, lb] of report.layout.blocks.entries()) {
      const decision = report.legibility[i];
      if (!decision) continue;
      posterPending.push({ pc, span: i, read: { styled: noReadings(), plain: noReadings() }, lb, expected: drawnText(lb), tesseract: { styled: await tesseractJobs(report.image, bg, lb, decision, heights) }, paddle: { styled: paddleCrops(report.image, lb) } });
    }
    // A span the layout dropped still counts against recall.
  }
  const tRendered = performance.now();
  const everything: Pending[] = [...pending, ...posterPending];
  const jobs: Array<{ p: Pending; which: 'styled' | 'plain'; job: OcrJob }> = [];
  for (const p of everything) for (const which of ['styled', 'plain'] as const) for (const job of p.tesseract[which] ?? []) jobs.push({ p, which, job });
  const [tessRead] = await Promise.all([
    ocrBatch(jobs.map((j) => j.job), { parallel: conc }),
    (async () => {
      for (const p of everything) {
        for (const which of ['styled', 'plain'] as const) {
          const variants = p.paddle[which];
          if (!variants) continue;
          const read: string[][] = [];
          for (const crops of variants) {
            const lines: string[] = [];
            for (const crop of crops) lines.push((await paddle.readLine(crop)).text);
            read.push(lines);
          }
          // Plain: the first crop is the judge's reading; all of them (one for a vertical block) say whether it is steady.
          if (which === 'plain') {
            p.read.plain.paddleocr = paddleReading(p.lb, read.slice(0, 1));
            p.paddlePlainStable = read.every((lines) => paddleReading(p.lb, [lines]) === p.expected);
          } else p.read[which].paddleocr = paddleReading(p.lb, read);
        }
      }
    })(),
  ]);
  const raws = new Map<Pending, { styled: string[]; plain: string[] }>();
  for (const [k, j] of jobs.entries()) {
    const r = raws.get(j.p) ?? { styled: [], plain: [] };
    r[j.which].push(tessRead[k] ?? '');
    raws.set(j.p, r);
  }
  for (const [p, r] of raws) for (const which of ['styled', 'plain'] as const) p.read[which].tesseract = tesseractReading(p.lb, r[which]);
  const results: BlockResult[] = pending.map((p) => ({
    c: p.c!,
    expected: p.expected,
    styled: p.read.styled,
    plain: p.read.plain,
    ned: Math.min(...JUDGES.map((j) => normalisedEditDistance(p.expected, p.read.styled[j]))),
    plainStable: { tesseract: (raws.get(p)?.plain ?? []).every((raw) => tesseractReading(p.lb, [raw]) === p.expected), paddleocr: p.paddlePlainStable ?? false },
    pending: p,
  }));
  let expectedWords = 0;
  let hitWords = 0;
  let spansTotal = 0;
  let placed = 0;
  for (const pc of posterCases) {
    const read: string[] = [];
    for (const p of posterPending.filter((x) => x.pc === pc)) {
      const better = JUDGES.map((j) => p.read.styled[j]).sort((a, b) => normalisedEditDistance(p.expected, a) - normalisedEditDistance(p.expected, b))[0] ?? '';
      read.push(...words(better));
      if (p.lb.block.position.v === pc.spans[p.span]?.v) placed++;
    }
    const expected = pc.spans.flatMap((x) => words(x.text));
    expectedWords += expected.length;
    hitWords += Math.round(bagOfWordsRecall(expected, read) * expected.length);
    spansTotal += pc.spans.length;
  }
  if (opts.sheet) await writeSheet(opts.sheet, [...[...sheetCells].sort((a, b) => a[0] - b[0]).map(([, b]) => b), ...posterCells]);
  if (opts.misses) await writeMisses(opts.misses, results);
  const totalS = (performance.now() - t0) / 1000;
  const renderS = (tRendered - t0) / 1000;
  // Timed on its own, one image at a time, so OCR processes don't share the CPU with it.
  // The first pass meets many glyphs for the first time (the font slice is decoded then); the second
  // is the steady state of a serving process with warm glyph caches.
  const timed = makeCases(40, (opts.seed ?? 1) + 17).map((c) => ({ ...c, width: 1024, height: 1024 }));
  const bgs = timed.map((c) => busyBackground(1024, 1024, 5000 + c.id));
  const pass = (): number[] =>
    timed.map((c, i) => {
      const t = performance.now();
      renderTextPlanDetailed(bgs[i]!, parseTextPlan(c.prompt));
      return performance.now() - t;
    });
  const cold = pass();
  const times = pass();
  const coldMean = cold.reduce((s, v) => s + v, 0) / cold.length;

  const summarise = (rs: BlockResult[], by: Scorer = 'panel'): Score => {
    const readable = rs.filter((r) => exactBy(r, 'plain', by));
    const reliable = rs.filter((r) => reliablyReadable(r, by));
    return {
      n: rs.length,
      exact: rs.filter((r) => exactBy(r, 'styled', by)).length / Math.max(1, rs.length),
      readable: readable.length / Math.max(1, rs.length),
      exactOnReadable: readable.filter((r) => exactBy(r, 'styled', by)).length / Math.max(1, readable.length),
      reliable: reliable.length / Math.max(1, rs.length),
      exactOnReliable: reliable.filter((r) => exactBy(r, 'styled', by)).length / Math.max(1, reliable.length),
      ned: rs.reduce((s, r) => s + (by === 'panel' ? r.ned : normalisedEditDistance(r.expected, r.styled[by])), 0) / Math.max(1, rs.length),
    };
  };
  const perCategory: TextBenchResult['perCategory'] = {};
  const cats: Array<[string, (c: BenchCase) => string]> = [
    ['lang', (c) => c.lang],
    ['style', (c) => c.style],
    ['size', (c) => c.size],
    ['position', (c) => c.position],
    ['background', (c) => c.background],
    ['image', (c) => (Math.max(c.width, c.height) <= 640 ? '≤640' : Math.max(c.width, c.height) <= 896 ? '≤896' : '1024')],
  ];
  for (const [name, key] of cats) {
    const groups = new Map<string, BlockResult[]>();
    for (const r of results) groups.set(key(r.c), [...(groups.get(key(r.c)) ?? []), r]);
    perCategory[name] = Object.fromEntries([...groups].sort().map(([k, rs]) => [k, summarise(rs)]));
  }
  const all = summarise(results);
  const byJudge = { tesseract: summarise(results, 'tesseract'), paddleocr: summarise(results, 'paddleocr'), panel: all };
  const sorted = [...times].sort((a, b) => a - b);
  const res: TextBenchResult = {
    cases: cases.length,
    blocks: results.length,
    exact: all.exact,
    meanNed: all.ned,
    judgeReadable: all.readable,
    exactOnReadable: all.exactOnReadable,
    byJudge,
    msPerImage1024: { mean: sorted.reduce((s, v) => s + v, 0) / Math.max(1, sorted.length), p95: sorted[Math.floor(sorted.length * 0.95)] ?? 0 },
    perCategory,
    failures: results.filter((r) => exactBy(r, 'plain', 'panel') && !exactBy(r, 'styled', 'panel')).map((r) => ({ prompt: r.c.prompt, expected: r.expected, styled: r.styled, plain: r.plain })),
    posters: { n: posterCases.length, spans: spansTotal, bagOfWordsRecall: hitWords / Math.max(1, expectedWords), placedAsAsked: placed / Math.max(1, spansTotal) },
  };

  log(`text bench: ${res.cases} prompts + ${res.posters.n} posters, ${res.blocks} blocks, ${totalS.toFixed(0)} s (rendering ${renderS.toFixed(0)} s; judges: Tesseract in ${conc} batch processes and PaddleOCR PP-OCRv4)`);
  log(`  judge                      sentence-exact   ceiling (plain black on white)   exact on judge-readable   reliably readable → exact   mean NED`);
  for (const [name, s] of Object.entries(byJudge)) {
    const label = name === 'panel' ? 'panel (either exact)' : name;
    const reliable = `${pct(s.reliable)} → ${pct(s.exactOnReliable)}`;
    log(`  ${label.padEnd(26)} ${pct(s.exact).padStart(14)}   ${pct(s.readable).padStart(30)}   ${pct(s.exactOnReadable).padStart(23)}   ${reliable.padStart(25)}   ${s.ned.toFixed(3)}`);
  }
  // The goal is per judge (issue #14), not only the panel's.
  log(`  sentence-exact on judge-readable strings: Tesseract ${goal(byJudge.tesseract.exactOnReadable)}, PaddleOCR ${goal(byJudge.paddleocr.exactOnReadable)}, panel ${pct(res.exactOnReadable)}`);
  log(`  multi-span English posters: ${res.posters.n} posters, ${res.posters.spans} spans: bag-of-words recall ${pct(res.posters.bagOfWordsRecall)} (goal ≥ 98%), spans placed where their own words say ${pct(res.posters.placedAsAsked)}`);
  if (opts.sheet) log(`  contact sheet: ${opts.sheet}`);
  log(`  text stage at 1024×1024 (parse+layout+render, ${sorted.length} new prompts): warm glyph cache mean ${res.msPerImage1024.mean.toFixed(1)} ms, p95 ${res.msPerImage1024.p95.toFixed(1)} ms; first sight of the glyphs mean ${coldMean.toFixed(1)} ms`);
  for (const [name, groups] of Object.entries(perCategory)) {
    log(`  by ${name} (panel):`);
    for (const [k, s] of Object.entries(groups)) {
      log(`    ${k.padEnd(12)} n=${String(s.n).padStart(3)}  exact ${pct(s.exact).padStart(6)}  readable ${pct(s.readable).padStart(6)}  exact|readable ${pct(s.exactOnReadable).padStart(6)}  ned ${s.ned.toFixed(3)}`);
    }
  }
  for (const f of res.failures.slice(0, 15)) log(`  miss: ${JSON.stringify(f)}`);
  await paddle.close();
  return res;
}

/**
 * The engine's output for each case's model prompt (the quote-free prompt the server sends it): the tiny
 * model by default (real inference with random weights: busy, high-frequency pictures), or the model in
 * MENGTU_BENCH_MODEL (a model directory).
 */
async function engineBackgrounds(cases: BenchCase[], log: (s: string) => void): Promise<Map<number, RawImage>> {
  const dir = process.env.MENGTU_BENCH_MODEL ?? (await ensureTinyModel());
  const engine = await loadEngine(dir, { name: process.env.MENGTU_BENCH_MODEL ? path.basename(dir) : 'tiny' });
  const out = new Map<number, RawImage>();
  const t0 = performance.now();
  try {
    for (const c of cases) {
      const plan = parseTextPlan(c.prompt);
      out.set(c.id, (await engine.generate({ prompt: plan.modelPrompt, negativePrompt: plan.negativePrompt, width: c.width, height: c.height, seed: c.id })).image);
    }
  } finally {
    await engine.close();
  }
  log(`  ${cases.length} backgrounds generated by the engine (${engine.modelName}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const goal = (x: number): string => `${pct(x)} ${x >= 0.99 ? 'meets' : 'misses'} ≥ 99%`;

/**
 * The prompt sets `npm run bench:text` runs and pools. One set's 200 prompts carry a handful of misses
 * each, so its figures move by points from set to set (95.3–98.9 % for Tesseract on one renderer);
 * the goal is judged on the pool of six. The first is the set the contact sheet is drawn from.
 */
const DEFAULT_SEEDS = [20260601, 7, 8, 9, 10, 11];

/** Scores of several runs as one: counts summed, ratios recomputed. */
export function poolScores(scores: Score[]): Score {
  const n = scores.reduce((t, s) => t + s.n, 0);
  const sum = (f: (s: Score) => number): number => scores.reduce((t, s) => t + f(s), 0);
  const readable = sum((s) => s.readable * s.n);
  const reliable = sum((s) => s.reliable * s.n);
  return {
    n,
    exact: sum((s) => s.exact * s.n) / Math.max(1, n),
    readable: readable / Math.max(1, n),
    exactOnReadable: sum((s) => s.exactOnReadable * s.readable * s.n) / Math.max(1, readable),
    reliable: reliable / Math.max(1, n),
    exactOnReliable: sum((s) => s.exactOnReliable * s.reliable * s.n) / Math.max(1, reliable),
    ned: sum((s) => s.ned * s.n) / Math.max(1, n),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const n = Number(process.env.BENCH_TEXT_N ?? 200);
  const arg = (name: string): string | undefined => (process.argv.indexOf(name) > 0 ? process.argv[process.argv.indexOf(name) + 1] : undefined);
  const sheet = arg('--sheet');
  const misses = arg('--misses');
  // BENCH_TEXT_OCR_PX=40 reads at one text height, BENCH_TEXT_OCR_HEIGHTS=40,36,48,32,44 at several.
  const heights = (process.env.BENCH_TEXT_OCR_HEIGHTS ?? process.env.BENCH_TEXT_OCR_PX)?.split(',').map(Number);
  // One run per seed (a different 200 prompts each), then the pooled figures; BENCH_TEXT_SEEDS=20260601 for one set.
  const seeds = (process.env.BENCH_TEXT_SEEDS ?? process.env.BENCH_TEXT_SEED)?.split(',').map(Number) ?? DEFAULT_SEEDS;
  const runs: TextBenchResult[] = [];
  for (const seed of seeds) {
    if (seeds.length > 1) process.stdout.write(`\n== seed ${seed}\n`);
    const missesDir = misses && seeds.length > 1 ? path.join(misses, `seed-${seed}`) : misses;
    runs.push(await runTextBench({ n, ...(heights ? { ocrTextHeights: heights } : {}), ...(seed !== undefined ? { seed } : {}), ...(sheet && seed === seeds[0] ? { sheet } : {}), ...(missesDir ? { misses: missesDir } : {}), ...(process.env.BENCH_TEXT_STYLE ? { style: process.env.BENCH_TEXT_STYLE } : {}), ...(process.env.BENCH_TEXT_POSTERS ? { posters: Number(process.env.BENCH_TEXT_POSTERS) } : {}) }));
  }
  if (runs.length > 1) {
    process.stdout.write(`\n== pooled over seeds ${seeds.join(', ')} (${runs.reduce((t, r) => t + r.blocks, 0)} blocks)\n`);
    process.stdout.write(`  judge                      sentence-exact   ceiling   exact on judge-readable   reliably readable → exact\n`);
    const pooled = { tesseract: poolScores(runs.map((r) => r.byJudge.tesseract)), paddleocr: poolScores(runs.map((r) => r.byJudge.paddleocr)), panel: poolScores(runs.map((r) => r.byJudge.panel)) };
    for (const [by, s] of Object.entries(pooled)) {
      const count = (share: number, of: number): string => `${Math.round(share * of)}/${of}`;
      const readableN = Math.round(s.readable * s.n);
      const reliableN = Math.round(s.reliable * s.n);
      process.stdout.write(`  ${by.padEnd(26)} ${pct(s.exact).padStart(14)}   ${pct(s.readable).padStart(7)}   ${`${pct(s.exactOnReadable)} (${count(s.exactOnReadable, readableN)})`.padStart(23)}   ${`${pct(s.reliable)} → ${pct(s.exactOnReliable)} (${count(s.exactOnReliable, reliableN)})`.padStart(25)}\n`);
    }
    process.stdout.write(`  sentence-exact on judge-readable strings, pooled: Tesseract ${goal(pooled.tesseract.exactOnReadable)}, PaddleOCR ${goal(pooled.paddleocr.exactOnReadable)}\n`);
    const spans = runs.reduce((t, r) => t + r.posters.spans, 0);
    process.stdout.write(`  posters: ${runs.reduce((t, r) => t + r.posters.n, 0)} posters, ${spans} spans, bag-of-words recall ${pct(runs.reduce((t, r) => t + r.posters.bagOfWordsRecall * r.posters.spans, 0) / Math.max(1, spans))} (weighted by spans)\n`);
  }
}

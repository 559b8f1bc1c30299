/**
 * Offline OCR with the Tesseract command-line tool (Debian: tesseract-ocr, tesseract-ocr-eng,
 * tesseract-ocr-chi-sim, tesseract-ocr-chi-sim-vert). Used to verify rendered text, not in serving.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Box } from '../../../src/typography/types.js';

export type OcrLang = 'chi_sim' | 'eng' | 'chi_sim+eng' | 'chi_sim_vert';

export interface OcrOptions {
  lang: OcrLang;
  /** Crop to this box first (pixels of the PNG); accuracy is much better on a tight crop. */
  box?: Box;
  /** Tesseract page segmentation mode: 7 = one line, 6 = a block, 5 = a vertical block. Default 6. */
  psm?: number;
  /**
   * The text's colour (#rrggbb). When given, pixels near it become black and the rest white before
   * OCR, which checks the glyphs themselves regardless of outlines, plates or a busy background.
   */
  keyColor?: string;
  /** Scale the crop so text is about this many pixels tall (Tesseract likes ~30–50). */
  scaleTo?: { textHeight: number; targetHeight: number };
  /**
   * Binarise at this grey level after scaling (a soft glyph mask: half-ink pixels split evenly). A fixed
   * level keeps two nearly equal masks equal; Tesseract's own Otsu level moves with each histogram.
   */
  threshold?: number;
}

export class OcrUnavailableError extends Error {
  constructor(detail: string) {
    super(`tesseract is not available (${detail}); install the Debian packages tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim tesseract-ocr-chi-sim-vert`);
    this.name = 'OcrUnavailableError';
  }
}

export class OcrFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OcrFailedError';
  }
}

let available: Set<string> | undefined;

/** Languages the installed tesseract knows; empty when the binary is missing. */
export function tesseractLangs(): Set<string> {
  if (available) return available;
  try {
    const out = execFileSync('tesseract', ['--list-langs'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    available = new Set(out.split('\n').slice(1).map((l) => l.trim()).filter(Boolean));
  } catch {
    available = new Set();
  }
  return available;
}

export function ocrAvailable(lang: OcrLang = 'chi_sim+eng'): boolean {
  const langs = tesseractLangs();
  return lang.split('+').every((l) => langs.has(l));
}

/** Tesseract separates CJK characters with spaces; drop whitespace next to CJK and collapse the rest. */
export function normaliseOcr(s: string): string {
  const cjk = '[\\u2e80-\\u9fff\\uf900-\\ufaff\\uff00-\\uffef\\u3000-\\u303f]';
  return s
    .replace(new RegExp(`(?<=${cjk})\\s+|\\s+(?=${cjk})`, 'gu'), '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Black where the pixel is close to `hex`, white elsewhere. */
async function keyOut(raw: { data: Buffer; info: { width: number; height: number; channels: number } }, hex: string): Promise<Buffer> {
  const n = Number.parseInt(hex.replace('#', ''), 16);
  const [kr, kg, kb] = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  const { data, info } = raw;
  const out = Buffer.alloc(info.width * info.height);
  for (let p = 0, i = 0; p < out.length; p++, i += info.channels) {
    const d = Math.abs((data[i] ?? 0) - kr) + Math.abs((data[i + 1] ?? 0) - kg) + Math.abs((data[i + 2] ?? 0) - kb);
    out[p] = d < 90 ? 0 : 255;
  }
  return sharp(out, { raw: { width: info.width, height: info.height, channels: 1 } }).png().toBuffer();
}

export async function prepare(png: Buffer, opts: OcrOptions): Promise<Buffer> {
  let img = sharp(png);
  const meta = await img.metadata();
  if (opts.box && meta.width && meta.height) {
    const left = Math.max(0, Math.floor(opts.box.x));
    const top = Math.max(0, Math.floor(opts.box.y));
    const width = Math.min(meta.width - left, Math.ceil(opts.box.w));
    const height = Math.min(meta.height - top, Math.ceil(opts.box.h));
    img = sharp(await img.extract({ left, top, width, height }).toBuffer());
  }
  if (opts.scaleTo) {
    const k = opts.scaleTo.targetHeight / opts.scaleTo.textHeight;
    const m = await img.metadata();
    if (m.width && m.height && Math.abs(k - 1) > 0.1) img = sharp(await img.resize(Math.round(m.width * k), Math.round(m.height * k), { kernel: 'lanczos3' }).toBuffer());
  }
  if (opts.keyColor) img = sharp(await keyOut(await img.ensureAlpha().raw().toBuffer({ resolveWithObject: true }), opts.keyColor));
  else {
    // Tesseract wants dark text on light paper: flip light-on-dark crops.
    const stats = await img.clone().greyscale().stats();
    const mean = stats.channels[0]?.mean ?? 255;
    img = img.greyscale();
    if (mean < 128) img = sharp(await img.negate({ alpha: false }).png().toBuffer());
  }
  if (opts.threshold !== undefined) img = sharp(await img.threshold(opts.threshold).png().toBuffer());
  // A border of repeated edge pixels helps Tesseract with text near the crop's edge.
  return img.extend({ top: 16, bottom: 16, left: 16, right: 16, extendWith: 'copy' }).png().toBuffer();
}

function runTesseract(input: string | Buffer, lang: OcrLang, psm: number): Promise<string> {
  const args = [typeof input === 'string' ? input : 'stdin', 'stdout', '-l', lang, '--psm', String(psm)];
  return new Promise((resolve, reject) => {
    const child = execFile('tesseract', args, { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, OMP_THREAD_LIMIT: '1' } }, (err, stdout) => {
      if (err) reject(new OcrFailedError(`tesseract failed: ${err.message}`, { cause: err }));
      else resolve(stdout);
    });
    if (typeof input !== 'string') child.stdin?.end(input);
  });
}

/** Reads the text in a PNG (or a box of it). Resolves to the normalised text. */
export async function ocrText(png: Buffer, opts: OcrOptions): Promise<string> {
  if (!ocrAvailable(opts.lang)) throw new OcrUnavailableError(`languages ${opts.lang}`);
  return normaliseOcr(await runTesseract(await prepare(png, opts), opts.lang, opts.psm ?? 6));
}

/** One already prepared picture (see prepare()) and how to read it. */
export interface OcrJob {
  png: Buffer;
  lang: OcrLang;
  psm: number;
}

/**
 * Reads many prepared pictures with few Tesseract processes: one process per language and page
 * segmentation mode (split into `parallel` chunks) reads a list file of pictures, one page each, so the
 * language model is loaded once per chunk instead of once per picture (a process start and a chi_sim
 * load cost more than reading a line). Pages come back separated by form feeds; a chunk whose page count
 * does not match is read again picture by picture. Same readings as ocrText() on each.
 */
export async function ocrBatch(jobs: OcrJob[], opts: { parallel?: number } = {}): Promise<string[]> {
  for (const lang of new Set(jobs.map((j) => j.lang))) if (!ocrAvailable(lang)) throw new OcrUnavailableError(`languages ${lang}`);
  const out: string[] = new Array<string>(jobs.length).fill('');
  if (jobs.length === 0) return out;
  const dir = await mkdtemp(path.join(tmpdir(), 'mengtu-ocr-'));
  try {
    await Promise.all(jobs.map((j, i) => writeFile(path.join(dir, `${i}.png`), j.png)));
    const groups = new Map<string, number[]>();
    for (const [i, j] of jobs.entries()) groups.set(`${j.lang} ${j.psm}`, [...(groups.get(`${j.lang} ${j.psm}`) ?? []), i]);
    const parallel = Math.max(1, opts.parallel ?? 2);
    const chunks: number[][] = [];
    for (const idx of groups.values()) {
      const size = Math.ceil(idx.length / Math.min(parallel, idx.length));
      for (let k = 0; k < idx.length; k += size) chunks.push(idx.slice(k, k + size));
    }
    chunks.sort((a, b) => b.length - a.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < chunks.length) {
          const c = chunks[next++]!;
          const { lang, psm } = jobs[c[0]!]!;
          const list = path.join(dir, `list-${c[0]}.txt`);
          await writeFile(list, c.map((i) => path.join(dir, `${i}.png`)).join('\n') + '\n');
          const pages = (await runTesseract(list, lang, psm)).split('\f');
          if (pages.length === c.length) c.forEach((i, k) => (out[i] = normaliseOcr(pages[k] ?? '')));
          else for (const i of c) out[i] = normaliseOcr(await runTesseract(jobs[i]!.png, lang, psm));
        }
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

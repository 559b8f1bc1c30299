/**
 * Milliseconds for the post-diffusion stages at the default delivered size (512² rendered → 1024² out):
 * super-resolution by each available method, watermark, PNG encode with the AI label, local store put.
 * Also prints SR quality (PSNR against a downscaled reference). `npm run bench:stages`
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RawImage } from '../src/engine/types.js';
import { encodePng } from '../src/pipeline/encode/index.js';
import { buildTinySrGraph, createSuperResolver, psnr, resizeRaw, upscaleSeparable, type SuperResolver } from '../src/pipeline/sr/index.js';
import { renderReferenceImage } from '../src/pipeline/sr/reference-image.js';
import { applyWatermark } from '../src/pipeline/watermark/index.js';
import { LocalImageStore, imageKey } from '../src/storage/index.js';

export interface StageBenchRow {
  stage: string;
  method: string;
  /** Median of the timed runs (after one warm-up). */
  ms: number;
  note: string;
}

async function time(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn(); // warm-up: session creation, font registration, allocator
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)]!;
}

export async function runStagesBench(opts: { runs?: number; log?: (s: string) => void } = {}): Promise<StageBenchRow[]> {
  const runs = opts.runs ?? 3;
  const log = opts.log ?? ((s: string) => console.log(s));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mengtu-bench-stages-'));
  const rows: StageBenchRow[] = [];
  try {
    const src512 = renderReferenceImage(512);
    const ref1024 = renderReferenceImage(1024);
    const small512 = await resizeRaw(ref1024, 512, 512, 'lanczos3');

    const tinyDir = path.join(tmp, 'models', 'tiny-sr');
    mkdirSync(tinyDir, { recursive: true });
    writeFileSync(path.join(tinyDir, 'model.onnx'), buildTinySrGraph());
    const resolvers: SuperResolver[] = [
      await createSuperResolver(),
      await createSuperResolver({ mode: 'lanczos' }),
      await createSuperResolver({ modelDir: tinyDir }),
    ];
    const baseline = psnr(ref1024, upscaleSeparable(small512, 2, 'bilinear'));
    rows.push({ stage: 'sr 512→1024', method: 'bilinear (baseline)', ms: await time(runs, () => upscaleSeparable(src512, 2, 'bilinear')), note: `PSNR ${baseline.toFixed(2)} dB` });
    let upscaled: RawImage = src512;
    for (const sr of resolvers) {
      const ms = await time(runs, async () => (upscaled = await sr.upscale(src512, 2)));
      const q = psnr(ref1024, await sr.upscale(small512, 2));
      const note = sr.method.startsWith('onnx:tiny') ? `PSNR ${q.toFixed(2)} dB (test graph, not a real model)` : `PSNR ${q.toFixed(2)} dB`;
      rows.push({ stage: 'sr 512→1024', method: sr.method, ms, note });
      await sr.close();
    }

    const img = upscaled.width === 1024 ? upscaled : await resizeRaw(src512, 1024, 1024, 'lanczos3');
    const logo = { add_logo: true, position: 0 as const, language: 0 as const, opacity: 0.3, logo_text_content: '' };
    let marked: RawImage = img;
    rows.push({ stage: 'watermark 1024²', method: 'AI生成, bottom-right', ms: await time(runs, () => (marked = applyWatermark(img, logo))), note: '' });

    const meta = { requestId: '20250422150707388ABCDEF0123456789A', producer: 'mengtu', seed: 42 };
    let png: Buffer = Buffer.alloc(0);
    rows.push({ stage: 'encode 1024²', method: 'PNG + AI label', ms: await time(runs, async () => (png = await encodePng(marked, meta))), note: `${(png.length / 1024).toFixed(0)} KiB` });
    rows.push({ stage: 'encode 1024²', method: 'PNG, no label', ms: await time(runs, () => encodePng(marked, null)), note: '' });

    const store = LocalImageStore.inDataDir(tmp);
    let n = 0;
    rows.push({
      stage: 'store put',
      method: 'local files',
      ms: await time(runs, () => store.put(imageKey(`BENCH${n++}`, 0), png, { contentType: 'image/png', expiresAt: new Date(Date.now() + 3600_000) })),
      note: `${(png.length / 1024).toFixed(0)} KiB`,
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  log(formatStagesBench(rows));
  return rows;
}

export function formatStagesBench(rows: readonly StageBenchRow[]): string {
  const head = ['stage', 'method', 'ms', 'note'];
  const cells = rows.map((r) => [r.stage, r.method, r.ms.toFixed(1), r.note]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => [...c[i]!].length)));
  const line = (c: string[]): string => c.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  return [`stages bench (${os.cpus().length} cores, node ${process.version})`, line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runStagesBench();
}

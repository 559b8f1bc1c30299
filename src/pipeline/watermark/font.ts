/**
 * The watermark's own face: Noto Sans SC Bold from @fontsource/noto-sans-sc (SIL OFL 1.1), every woff2
 * unicode-range slice registered under one family so @napi-rs/canvas picks glyphs across slices.
 * Kept apart from src/typography's fonts so the watermark never depends on that module's state.
 */
import { GlobalFonts } from '@napi-rs/canvas';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const WATERMARK_FAMILY = 'mengtu Watermark Sans SC';
const SLICE = /^noto-sans-sc-(?:\d+|latin|latin-ext)-700-normal\.woff2$/;

let registered: number | null = null;

/** Registers the slices once; returns how many files were registered. */
export function ensureWatermarkFont(): number {
  if (registered !== null) return registered;
  const require = createRequire(import.meta.url);
  const filesDir = path.dirname(require.resolve('@fontsource/noto-sans-sc/files/noto-sans-sc-latin-700-normal.woff2'));
  let n = 0;
  for (const f of readdirSync(filesDir)) {
    if (SLICE.test(f) && GlobalFonts.registerFromPath(path.join(filesDir, f), WATERMARK_FAMILY)) n++;
  }
  registered = n;
  return n;
}

/**
 * Runs an SR graph over an image in overlapping tiles so memory stays bounded whatever the image size.
 * Each tile is fed with `overlap` extra context pixels on every side that has neighbours, and only its
 * core is kept: with overlap ≥ the network's receptive radius the seams are invisible (tiled == untiled).
 */
import type { RawImage } from '../../engine/types.js';
import { blitPlanes, nearestAlpha, rgbPlanes, type Rect } from './planes.js';
import { SuperResolutionError } from './types.js';

/** One forward pass: [1,3,h,w] float 0…1 in, [1,3,h·s,w·s] float 0…1 out. */
export type RunPlanes = (planes: Float32Array, w: number, h: number) => Promise<{ data: Float32Array; w: number; h: number }>;

export interface TileOptions {
  /** Core tile edge in input pixels. */
  tile: number;
  overlap: number;
  /** Set when the graph only takes one input size: tiles are padded up to it. */
  fixedInput?: { w: number; h: number };
}

export async function upscaleTiled(img: RawImage, scale: number, run: RunPlanes, opts: TileOptions): Promise<RawImage> {
  const { overlap } = opts;
  const tile = opts.fixedInput ? Math.min(opts.fixedInput.w, opts.fixedInput.h) - 2 * overlap : opts.tile;
  if (!(tile > 0)) throw new SuperResolutionError(`SR tile size ${tile} is too small for overlap ${overlap}`);
  const out: RawImage = {
    width: img.width * scale,
    height: img.height * scale,
    data: new Uint8ClampedArray(img.width * scale * img.height * scale * 4),
  };
  for (let ty = 0; ty < img.height; ty += tile) {
    for (let tx = 0; tx < img.width; tx += tile) {
      const core: Rect = { x: tx, y: ty, w: Math.min(tile, img.width - tx), h: Math.min(tile, img.height - ty) };
      const x0 = Math.max(0, tx - overlap);
      const y0 = Math.max(0, ty - overlap);
      const region: Rect = {
        x: x0,
        y: y0,
        w: Math.min(img.width, core.x + core.w + overlap) - x0,
        h: Math.min(img.height, core.y + core.h + overlap) - y0,
      };
      const tw = opts.fixedInput?.w ?? region.w;
      const th = opts.fixedInput?.h ?? region.h;
      const res = await run(rgbPlanes(img, region, tw, th), tw, th);
      if (res.w !== tw * scale || res.h !== th * scale) {
        throw new SuperResolutionError(`SR graph returned ${res.w}×${res.h} for a ${tw}×${th} tile; expected ×${scale}`);
      }
      blitPlanes(
        res.data,
        res.w,
        res.h,
        (core.x - region.x) * scale,
        (core.y - region.y) * scale,
        core.w * scale,
        core.h * scale,
        out,
        core.x * scale,
        core.y * scale,
      );
    }
  }
  nearestAlpha(img, out, scale);
  return out;
}

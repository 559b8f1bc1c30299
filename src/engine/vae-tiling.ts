/**
 * Tiled latent decoding: the decoder runs on overlapping latent tiles of one fixed size and the decoded
 * tiles are blended with linear ramps across each overlap, so memory is bounded by the tile, not by the
 * image (a 2048² decode would otherwise need the decoder's activations for the whole picture at once).
 * The same scheme as diffusers' `AutoencoderKL.tiled_decode` (64-latent tiles, ¼ overlap, linear blend),
 * except that tile origins are spread evenly so every tile has the same shape and the last one ends at the
 * border instead of being a thin sliver.
 */

export interface TileOptions {
  /** Tile side in latent pixels (64 → 512 px tiles with an SD VAE). */
  tile: number;
  /** Overlap between neighbouring tiles in latent pixels (diffusers: a quarter of the tile). */
  overlap: number;
}

export const DEFAULT_TILES: TileOptions = { tile: 64, overlap: 16 };

/** A decoder of one latent tile [channels, h, w] → planar RGB [3, h·f, w·f] in [-1, 1]. */
export type TileDecoder = (tile: Float32Array, height: number, width: number) => Promise<Float32Array>;

/** Evenly spread origins of `tile`-long windows covering 0…size with at least `overlap` shared. */
export function tileOrigins(size: number, tile: number, overlap: number): number[] {
  if (size <= tile) return [0];
  const stride = tile - overlap;
  const count = Math.ceil((size - tile) / stride) + 1;
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(Math.round(((size - tile) * i) / (count - 1)));
  return out;
}

/** Whether `decodeTiled` would split these latents (otherwise decode them whole). */
export function needsTiling(height: number, width: number, opts: TileOptions): boolean {
  return height > opts.tile || width > opts.tile;
}

/** Weight of output pixel p (0…n−1) of a tile along one axis: a ramp over `blend` px at interior edges. */
function ramp(p: number, n: number, blend: number, rampStart: boolean, rampEnd: boolean): number {
  let w = 1;
  if (rampStart) w = Math.min(w, (p + 0.5) / blend);
  if (rampEnd) w = Math.min(w, (n - p - 0.5) / blend);
  return w;
}

/** out += w·tile and weights += w over the tile's window, w = wy[y]·wx[x]. Kept monomorphic for speed. */
function accumulate(
  out: Float32Array,
  weights: Float32Array,
  W: number,
  H: number,
  rgb: Float32Array,
  ow: number,
  oh: number,
  ox: number,
  oy: number,
  wx: Float32Array,
  wy: Float32Array,
): void {
  const plane = W * H;
  const tplane = ow * oh;
  for (let y = 0; y < oh; y++) {
    const row = (oy + y) * W + ox;
    const trow = y * ow;
    const wyy = wy[y]!;
    for (let x = 0; x < ow; x++) {
      const w = wyy * wx[x]!;
      const o = row + x;
      const t = trow + x;
      weights[o] = weights[o]! + w;
      out[o] = out[o]! + w * rgb[t]!;
      out[plane + o] = out[plane + o]! + w * rgb[tplane + t]!;
      out[2 * plane + o] = out[2 * plane + o]! + w * rgb[2 * tplane + t]!;
    }
  }
}

/**
 * Decodes [channels, height, width] latents tile by tile; returns planar RGB [3, height·f, width·f] where f
 * is the decoder's upscale factor (read from the first tile's output).
 */
export async function decodeTiled(
  latents: Float32Array,
  channels: number,
  height: number,
  width: number,
  decode: TileDecoder,
  opts: TileOptions = DEFAULT_TILES,
  signal?: AbortSignal,
): Promise<{ data: Float32Array; height: number; width: number }> {
  if (opts.overlap < 0 || opts.overlap >= opts.tile) throw new RangeError(`tile overlap must be 0…${opts.tile - 1}, got ${opts.overlap}`);
  const th = Math.min(opts.tile, height);
  const tw = Math.min(opts.tile, width);
  const ys = tileOrigins(height, opts.tile, opts.overlap);
  const xs = tileOrigins(width, opts.tile, opts.overlap);
  const tileIn = new Float32Array(channels * th * tw);
  let f = 0;
  let out: Float32Array | null = null;
  let weights: Float32Array | null = null;
  let H = 0;
  let W = 0;
  for (const y0 of ys) {
    for (const x0 of xs) {
      signal?.throwIfAborted();
      for (let c = 0; c < channels; c++) {
        for (let y = 0; y < th; y++) {
          const src = (c * height + y0 + y) * width + x0;
          tileIn.set(latents.subarray(src, src + tw), (c * th + y) * tw);
        }
      }
      const rgb = await decode(tileIn, th, tw);
      if (!out) {
        f = Math.round(Math.sqrt(rgb.length / 3 / (th * tw)));
        H = height * f;
        W = width * f;
        out = new Float32Array(3 * H * W);
        weights = new Float32Array(H * W);
      }
      const oh = th * f;
      const ow = tw * f;
      if (rgb.length !== 3 * oh * ow) throw new RangeError(`decoder returned ${rgb.length} values for a ${th}×${tw} tile (factor ${f})`);
      const blend = opts.overlap * f;
      const wx = new Float32Array(ow);
      const wy = new Float32Array(oh);
      for (let x = 0; x < ow; x++) wx[x] = blend > 0 ? ramp(x, ow, blend, x0 > 0, x0 + tw < width) : 1;
      for (let y = 0; y < oh; y++) wy[y] = blend > 0 ? ramp(y, oh, blend, y0 > 0, y0 + th < height) : 1;
      accumulate(out, weights!, W, H, rgb, ow, oh, x0 * f, y0 * f, wx, wy);
    }
  }
  const plane = H * W;
  for (let i = 0; i < plane; i++) {
    const k = 1 / weights![i]!;
    out![i]! *= k;
    out![plane + i]! *= k;
    out![2 * plane + i]! *= k;
  }
  return { data: out!, height: H, width: W };
}

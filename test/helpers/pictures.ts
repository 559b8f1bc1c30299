/** Test pictures for image-to-image: a smooth gradient PNG (what a VAE reproduces well) and a distance. */
import sharp from 'sharp';

export async function gradientPng(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set([40 + Math.round((170 * x) / width), 210 - Math.round((150 * y) / height), 120], (y * width + x) * 3);
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** Mean absolute RGB difference of two encoded pictures, both resized to width × height. */
export async function meanDiff(a: Buffer, b: Buffer, width: number, height: number): Promise<number> {
  const pa = await sharp(a).resize(width, height, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  const pb = await sharp(b).resize(width, height, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  let s = 0;
  for (let i = 0; i < pa.length; i++) s += Math.abs(pa[i]! - pb[i]!);
  return s / pa.length;
}

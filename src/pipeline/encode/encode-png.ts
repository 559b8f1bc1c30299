/** PNG encoding (sharp) with the implicit AI label added as text chunks before IEND. */
import sharp from 'sharp';
import type { RawImage } from '../../engine/types.js';
import { type AiLabelMeta, SOFTWARE, aigcJson, description, xmpPacket } from './ai-label.js';
import { insertBeforeIend, itxtChunk, textChunk } from './png-chunks.js';

export interface EncodeOptions {
  /** Write the implicit AI label when `meta` is given (default true; the operator may turn it off). */
  aiLabel?: boolean;
  /** zlib level 0–9 (default 6: sharp's default, a fair size/speed balance at 1024²). */
  compressionLevel?: number;
}

function isOpaque(img: RawImage): boolean {
  for (let i = 3; i < img.data.length; i += 4) if (img.data[i] !== 255) return false;
  return true;
}

/**
 * Encodes RGBA to PNG (RGB when fully opaque, which is a quarter smaller). With `meta` and the label
 * enabled, adds `Software`, `Description`, `AIGC` (GB 45438 JSON) and an XMP packet.
 */
export async function encodePng(image: RawImage, meta: AiLabelMeta | null, opts: EncodeOptions = {}): Promise<Buffer> {
  let pipeline = sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 4 },
  });
  if (isOpaque(image)) pipeline = pipeline.removeAlpha();
  const png = await pipeline.png({ compressionLevel: opts.compressionLevel ?? 6 }).toBuffer();
  if (!meta || opts.aiLabel === false) return png;
  return insertBeforeIend(png, [
    textChunk('Software', SOFTWARE),
    itxtChunk('Description', description(meta)),
    itxtChunk('AIGC', aigcJson(meta)),
    itxtChunk('XML:com.adobe.xmp', xmpPacket(meta)),
  ]);
}

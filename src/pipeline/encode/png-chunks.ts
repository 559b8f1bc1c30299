/**
 * Just enough PNG chunk handling to add and read text metadata: split into chunks, build tEXt/iTXt with
 * CRC-32 (node:zlib), insert before IEND, and parse tEXt/zTXt/iTXt back.
 */
import * as zlib from 'node:zlib';

const { inflateSync } = zlib;

/** CRC-32 (IEEE) by table, for Node 20 releases before zlib.crc32 (added in 20.15). */
function tableCrc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export const crc32: (buf: Uint8Array) => number =
  typeof zlib.crc32 === 'function' ? (buf) => zlib.crc32(buf) : tableCrc32;
export { tableCrc32 };

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export class PngFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PngFormatError';
  }
}

export interface PngChunk {
  type: string;
  data: Buffer;
}

export function splitChunks(png: Buffer): PngChunk[] {
  if (png.length < 8 || !png.subarray(0, 8).equals(SIGNATURE)) throw new PngFormatError('not a PNG (bad signature)');
  const chunks: PngChunk[] = [];
  let off = 8;
  while (off < png.length) {
    if (off + 12 > png.length) throw new PngFormatError('truncated chunk header');
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    if (off + 12 + len > png.length) throw new PngFormatError(`truncated ${type} chunk`);
    const data = png.subarray(off + 8, off + 8 + len);
    if (png.readUInt32BE(off + 8 + len) !== crc32(png.subarray(off + 4, off + 8 + len))) {
      throw new PngFormatError(`bad CRC in ${type} chunk`);
    }
    chunks.push({ type, data });
    off += 12 + len;
    if (type === 'IEND') break;
  }
  return chunks;
}

export function encodeChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Keywords are 1–79 Latin-1 printable characters (PNG spec §11.3.4). */
function checkKeyword(k: string): void {
  if (!/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(k) || k.startsWith(' ') || k.endsWith(' ')) {
    throw new PngFormatError(`invalid PNG text keyword '${k}'`);
  }
}

/** tEXt: Latin-1 text. */
export function textChunk(keyword: string, text: string): Buffer {
  checkKeyword(keyword);
  return encodeChunk('tEXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')]));
}

/** iTXt, uncompressed: UTF-8 text (what XMP and non-Latin text need). */
export function itxtChunk(keyword: string, text: string): Buffer {
  checkKeyword(keyword);
  return encodeChunk(
    'iTXt',
    Buffer.concat([
      Buffer.from(keyword, 'latin1'),
      Buffer.from([0, 0, 0]), // NUL, compression flag 0, method 0
      Buffer.from([0]), // empty language tag
      Buffer.from([0]), // empty translated keyword
      Buffer.from(text, 'utf8'),
    ]),
  );
}

/** Inserts encoded chunks immediately before IEND. */
export function insertBeforeIend(png: Buffer, chunks: Buffer[]): Buffer {
  const parts = splitChunks(png);
  const last = parts[parts.length - 1];
  if (!last || last.type !== 'IEND') throw new PngFormatError('PNG has no IEND chunk');
  const iendAt = png.length - 12;
  return Buffer.concat([png.subarray(0, iendAt), ...chunks, png.subarray(iendAt)]);
}

/** All tEXt, zTXt and iTXt entries by keyword (later ones win). */
export function readPngTextChunks(png: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { type, data } of splitChunks(png)) {
    if (type !== 'tEXt' && type !== 'zTXt' && type !== 'iTXt') continue;
    const nul = data.indexOf(0);
    if (nul <= 0) continue;
    const key = data.toString('latin1', 0, nul);
    if (type === 'tEXt') {
      out[key] = data.toString('latin1', nul + 1);
    } else if (type === 'zTXt') {
      out[key] = inflateSync(data.subarray(nul + 2)).toString('latin1');
    } else {
      const compressed = data[nul + 1] === 1;
      const langEnd = data.indexOf(0, nul + 3);
      const transEnd = data.indexOf(0, langEnd + 1);
      if (langEnd < 0 || transEnd < 0) continue;
      const body = data.subarray(transEnd + 1);
      out[key] = (compressed ? inflateSync(body) : body).toString('utf8');
    }
  }
  return out;
}

export { encodePng, type EncodeOptions } from './encode-png.js';
export { readPngTextChunks, splitChunks, PngFormatError } from './png-chunks.js';
export {
  aigcJson,
  xmpPacket,
  IPTC_TRAINED_ALGORITHMIC_MEDIA,
  SOFTWARE,
  type AiLabelMeta,
} from './ai-label.js';

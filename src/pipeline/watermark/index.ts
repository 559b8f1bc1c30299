export { applyWatermark, markText, markBox, DEFAULT_MARK_TEXT, type MarkBox } from './watermark.js';
export { ensureWatermarkFont, WATERMARK_FAMILY } from './font.js';

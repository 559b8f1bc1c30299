/** Tiny random-weight SD-shaped models for tests and benchmarks. */
export { buildTinyModel, buildTinyTaesd, ensureTinyModel, TINY_SCHEDULER_CONFIG, type BuiltModelName, type TinyModelOptions } from './build.js';
export { TINY_HIDDEN, TINY_SEQ, type TinyGraphOptions } from './graphs.js';
export { tinyTokenizerFiles, type TinyTokenizerFiles } from './tokenizer-files.js';
export type { MiniOptions } from './mini.js';
export type { TaesdOptions } from './taesd.js';
export { buildTinySdxlModel, TINY_SDXL, type TinySdxlModelOptions } from './sdxl.js';
export { buildSdTurboClassModel, SD_TURBO_CONFIG, type SdTurboClassConfig, type SdTurboClassReport } from './sd-turbo-class.js';

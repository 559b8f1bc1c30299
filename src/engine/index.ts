/** The diffusion engine's public surface. */
export type * from './types.js';
export { DiffusionEngine, loadEngine, type EngineDefaults, type LoadEngineOptions } from './pipeline.js';
export { EngineCache, type Closable } from './engine-cache.js';
export { cudaAvailability, type ExecutionProviderName } from './execution-provider.js';
export { loadClipTokenizer, type ClipTokenizer } from './tokenizer.js';
export { locateModel, type ModelFiles } from './model-files.js';
export { buildTinyModel, ensureTinyModel, type TinyModelOptions } from './tiny/index.js';

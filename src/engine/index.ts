/** The diffusion engine's public surface. */
export type * from './types.js';
export { DiffusionEngine, loadEngine, type EngineDefaults, type LoadEngineOptions } from './sampler.js';
export { cudaAvailability, type ExecutionProviderName } from './execution-provider.js';
export { latentPreview, LATENT_RGB } from './preview.js';
export { loadClipTokenizer, type ClipTokenizer } from './tokenizer.js';
export { locateModel, type ModelFiles } from './model-files.js';
export { buildTinyModel, ensureTinyModel, type TinyModelOptions } from './tiny/index.js';

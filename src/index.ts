/** Library entry: embed the server or the engine in another Node program. */
export { startServer, createLogger, type RunningServer } from './runtime/server.js';
export { loadConfig, type Config } from './runtime/config.js';
export { createRuntime, type Runtime, type RuntimeOptions, type Role } from './runtime/create.js';
export { startWorker, type RunningWorker } from './runtime/worker.js';
export type { JobQueue, TaskStore, JobPayload, ProgressEvent } from './jobs/types.js';
export { parseCVProcessRequest, type CVProcessRequest } from './contract/cvprocess.js';
export { CvError, GatewayError, EngineError } from './contract/errors.js';
export { loadEngine, ensureTinyModel } from './engine/index.js';
export { resolveModel, pullModel, listModels } from './engine/registry.js';
export * from './client/index.js';

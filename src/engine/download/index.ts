export { DownloadError, type DownloadErrorKind } from './errors.js';
export { pullRepo, readManifest, MANIFEST, type Manifest, type PullOptions, type PullSource } from './pull.js';
export { createBarReporter, createLogReporter, formatBytes, type ProgressEvent, type ProgressFn, type ProgressReporter } from './progress.js';
export { DEFAULT_ENDPOINT, hubEndpoint } from './hub.js';

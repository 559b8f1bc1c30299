// Types of `mengtu/client`: the SDK's own declarations (src/client/index.ts is the single source).
export * from '../src/client/index.js';

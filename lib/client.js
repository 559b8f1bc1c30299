// `mengtu/client` without a build step. In a source checkout the SDK's TypeScript runs through tsx's scoped
// loader (tsImport: nothing is registered for the rest of the program); an installed package, which ships no
// src/, loads the compiled dist/. test/client.checkout.test.ts keeps this list equal to the SDK's exports.
import { existsSync } from 'node:fs';

const source = new URL('../src/client/index.ts', import.meta.url);
const sdk = existsSync(source)
  ? await (await import('tsx/esm/api')).tsImport(source.href, import.meta.url)
  : await import('../dist/client/index.js');

export const { MengtuClient, MengtuApiError, MengtuGatewayError, signRequest, sseEvents, DEFAULT_REQ_KEY } = sdk;

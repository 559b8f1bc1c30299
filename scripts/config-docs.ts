/** Rewrites docs/configuration.md's generated tables from the config schema (`npm run docs:config`). */
import { readFileSync, writeFileSync } from 'node:fs';
import { CONFIG_DOCS_BEGIN, CONFIG_DOCS_END, renderConfigDocs } from '../src/runtime/config.js';

const file = new URL('../docs/configuration.md', import.meta.url);
const text = readFileSync(file, 'utf8');
const start = text.indexOf(CONFIG_DOCS_BEGIN);
const end = text.indexOf(CONFIG_DOCS_END);
if (start < 0 || end < start) throw new Error(`docs/configuration.md lacks the ${CONFIG_DOCS_BEGIN} … ${CONFIG_DOCS_END} markers`);
writeFileSync(file, text.slice(0, start + CONFIG_DOCS_BEGIN.length) + '\n\n' + renderConfigDocs() + '\n' + text.slice(end));
process.stdout.write('docs/configuration.md: tables regenerated from src/runtime/config.ts\n');

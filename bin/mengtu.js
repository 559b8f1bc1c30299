#!/usr/bin/env node
// A compiled build (dist/, `npm run build`) starts several times faster than the TypeScript sources through
// tsx, so it is used whenever it is up to date: newer than every file under src/. In a checkout with no build,
// or after an edit, the sources run through tsx (never a stale build). An installed package ships only dist/.
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const src = new URL('src/', root);
const built = new URL('dist/cli/main.js', root);

/** Newest modification time under a folder (a few ms for the whole source tree). */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const hasSrc = existsSync(new URL('cli/main.ts', src));
const useBuild = existsSync(built) && (!hasSrc || statSync(built).mtimeMs >= newest(src.pathname.replace(/\/$/, '')));
if (useBuild) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('cli/main.ts', src).href);
}

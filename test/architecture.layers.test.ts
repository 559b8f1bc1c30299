/**
 * The folder layering of docs/architecture.md, checked on every import in src/: a folder may import its own
 * layer or any layer below it, never one above. Type-only imports count too (they tie the folders as much).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(import.meta.dirname, '../src');

/** Top to bottom; folders on one line are one layer. Keep in step with docs/architecture.md. */
export const LAYERS: readonly (readonly string[])[] = [
  ['cli'],
  ['runtime'],
  ['gateway', 'client'],
  ['jobs'],
  ['pipeline'],
  ['safety', 'typography', 'storage'],
  ['engine'],
  ['contract'],
];

function rankOf(folder: string): number {
  const i = LAYERS.findIndex((l) => l.includes(folder));
  if (i === -1) throw new Error(`src/${folder} is in no layer: add it to LAYERS and docs/architecture.md`);
  return i;
}

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

test('no folder in src/ imports a folder above it (docs/architecture.md)', () => {
  const violations: string[] = [];
  let checked = 0;
  for (const file of sources(SRC)) {
    const rel = path.relative(SRC, file);
    const folder = rel.split(path.sep)[0]!;
    if (!rel.includes(path.sep)) continue; // src/index.ts: the library entry re-exports every layer
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith('.')) continue;
      const target = path.relative(SRC, path.resolve(path.dirname(file), spec));
      const targetFolder = target.split(path.sep)[0]!;
      checked++;
      if (targetFolder === folder || target.startsWith('..')) continue;
      if (rankOf(targetFolder) < rankOf(folder)) violations.push(`${rel} imports ${spec} (${folder} → ${targetFolder}, a layer above)`);
    }
  }
  assert.ok(checked > 100, `only ${checked} imports found: the scanner is broken`);
  assert.deepEqual(violations, []);
});

test('the checker catches an upward import', () => {
  assert.ok(rankOf('contract') > rankOf('pipeline'));
  assert.ok(rankOf('jobs') < rankOf('pipeline'));
  assert.throws(() => rankOf('nowhere'));
});

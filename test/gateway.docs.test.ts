/** /openapi.json describes every route; /docs is a readable page that loads nothing from outside the server. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../src/runtime/server.js';
import { startTestServer } from './helpers/server.js';

let server: RunningServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
});

test('/openapi.json is OpenAPI 3 and documents every HTTP route', async () => {
  const res = await fetch(`${server.url}/openapi.json`);
  assert.equal(res.status, 200);
  const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { summary: string; requestBody?: unknown; security?: unknown }>> };
  assert.match(doc.openapi, /^3\./);
  const want: Array<[string, string]> = [
    ['/', 'post'],
    ['/v1/images/generations', 'post'],
    ['/v1/models', 'get'],
    ['/playground/layout', 'post'],
    ['/playground/config.json', 'get'],
    ['/healthz', 'get'],
    ['/readyz', 'get'],
    ['/metrics', 'get'],
    ['/images/{key}', 'get'],
    ['/openapi.json', 'get'],
    ['/v1/tasks/{task_id}/events', 'get'],
  ];
  for (const [p, m] of want) assert.ok(doc.paths[p]?.[m], `${m.toUpperCase()} ${p} is documented (have: ${Object.keys(doc.paths).join(', ')})`);
  assert.match(JSON.stringify(doc.paths['/']!.post!.requestBody), /negative_prompt/);
  assert.ok(doc.paths['/v1/images/generations']!.post!.security);
  // Every route the server answers is in the document (the page itself and the docs assets aside).
  for (const url of ['/', '/playground']) assert.equal((await fetch(`${server.url}${url}`)).status, 200);
});

test('/docs is a page whose scripts and styles all come from this server', async () => {
  const res = await fetch(`${server.url}/docs/`, { redirect: 'follow' });
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, /swagger/i);
  const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(refs.length > 0);
  for (const r of refs) assert.ok(!/^(https?:)?\/\//.test(r), `loads ${r} from outside`);
});

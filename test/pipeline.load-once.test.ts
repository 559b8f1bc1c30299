/** loadOnce: what a worker thread loads and keeps (engine, classifier, SR resolver); a failed load is tried again. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOnce } from '../src/pipeline/offload/load-once.js';

test('one load shared by every caller; a failed load is forgotten and tried again; take() lets go', async () => {
  const calls: string[] = [];
  const once = loadOnce(async (name: string) => {
    calls.push(name);
    if (calls.length === 1) throw new Error('model file missing');
    return { name };
  });
  await assert.rejects(once.get('a'), /model file missing/);
  // Tried again, once for two concurrent callers; later args do not load another.
  const [x, y] = await Promise.all([once.get('b'), once.get('c')]);
  assert.equal(x, y);
  assert.deepEqual(await once.get('d'), { name: 'b' });
  assert.deepEqual(calls, ['a', 'b']);
  assert.deepEqual(await once.take(), { name: 'b' });
  assert.equal(once.take(), undefined);
  assert.deepEqual(await once.get('e'), { name: 'e' });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goDuration, newRequestId, cvEnvelope } from '../src/gateway/envelope.js';
import { CvError } from '../src/contract/errors.js';
import { parseKeysEnv, KeyConfigError } from '../src/gateway/keys.js';

test('time_elapsed is a Go duration string', () => {
  assert.equal(goDuration(104_852_309n), '104.852309ms');
  assert.equal(goDuration(36_799_829n), '36.799829ms');
  assert.equal(goDuration(1_234_567_000n), '1.234567s');
  assert.equal(goDuration(2_000_000_000n), '2s');
  assert.equal(goDuration(1_500n), '1.5µs');
  assert.equal(goDuration(999n), '999ns');
  const env = cvEnvelope(10000, 'Success', { x: 1 }, 'id', process.hrtime.bigint());
  assert.equal(typeof env.time_elapsed, 'string');
  assert.match(env.time_elapsed, /^[\d.]+(ns|µs|ms|s)$/);
  assert.equal(env.status, 10000);
});

test('request ids look like the cloud’s: 14-digit UTC timestamp + 20 upper-case hex', () => {
  const id = newRequestId(new Date('2025-04-22T15:07:07Z'));
  assert.match(id, /^20250422150707[0-9A-F]{20}$/);
  assert.notEqual(newRequestId(), newRequestId());
});

test('MENGTU_ACCESS_KEYS parsing', () => {
  assert.deepEqual(parseKeysEnv('AK1:SK1, AK2:S:K2').map((k) => [k.accessKeyId, k.secretAccessKey]), [
    ['AK1', 'SK1'],
    ['AK2', 'S:K2'],
  ]);
  assert.throws(() => parseKeysEnv('AK1'), KeyConfigError);
  assert.throws(() => parseKeysEnv(':SK'), KeyConfigError);
});

test('first start with no keys generates one pair, owner-only, and only once', async () => {
  const { mkdtemp, stat } = await import('node:fs/promises');
  const os = await import('node:os');
  const path = await import('node:path');
  const { loadKeyStore } = await import('../src/gateway/keys.js');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mengtu-keys-'));
  const first = await loadKeyStore(dir, {});
  assert.ok(first.generated, 'generated on first start');
  assert.equal((await stat(path.join(dir, 'keys.json'))).mode & 0o777, 0o600);
  assert.equal(first.store.secretFor(first.generated.accessKeyId), first.generated.secretAccessKey);
  const second = await loadKeyStore(dir, {});
  assert.equal(second.generated, null);
  assert.deepEqual(second.store.ids(), [first.generated.accessKeyId]);
  // Environment keys are added to the file's.
  const both = await loadKeyStore(dir, { accessKeys: 'AKenv:SKenv' });
  assert.equal(both.store.secretFor('AKenv'), 'SKenv');
  assert.equal(both.store.size, 2);
});

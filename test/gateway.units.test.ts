import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goDuration, newRequestId, cvEnvelope } from '../src/gateway/envelope.js';
import { KeyLimiter } from '../src/gateway/limits.js';
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

test('token bucket: burst then 50429, refills with time', () => {
  let now = 0;
  const lim = new KeyLimiter({ qps: 2, concurrency: 0 }, () => now);
  lim.acquire('a').release();
  lim.acquire('a').release();
  assert.throws(() => lim.acquire('a'), (e: unknown) => e instanceof CvError && e.code === 50429 && e.httpStatus === 429);
  // other keys are independent
  lim.acquire('b').release();
  now += 500; // half a second → one token
  lim.acquire('a').release();
  assert.throws(() => lim.acquire('a'), { code: 50429 });
});

test('concurrency: in-flight cap answers 50430 and frees on release (once)', () => {
  const lim = new KeyLimiter({ qps: 0, concurrency: 2 });
  const a = lim.acquire('k');
  const b = lim.acquire('k');
  assert.throws(() => lim.acquire('k'), (e: unknown) => e instanceof CvError && e.code === 50430 && e.httpStatus === 429);
  a.release();
  a.release(); // double release must not free two slots
  const c = lim.acquire('k');
  assert.throws(() => lim.acquire('k'), { code: 50430 });
  b.release();
  c.release();
  assert.equal(lim.inFlightCount('k'), 0);
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

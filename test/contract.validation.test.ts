import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCVProcessRequest, REQ_KEY_V21 } from '../src/contract/cvprocess.js';
import { CvError } from '../src/contract/errors.js';

const ok = { req_key: REQ_KEY_V21, prompt: 'a cat' };

function rejects(body: unknown, code: number, messagePart: string): void {
  assert.throws(
    () => parseCVProcessRequest(body),
    (err: unknown) => {
      assert.ok(err instanceof CvError, 'CvError expected');
      assert.equal(err.code, code, `code for ${JSON.stringify(body).slice(0, 80)}: ${err.message}`);
      assert.ok(err.message.includes(messagePart), `message "${err.message}" should include "${messagePart}"`);
      assert.equal(err.httpStatus, code === 50213 ? 413 : 400);
      return true;
    },
  );
}

test('defaults follow the contract', () => {
  const r = parseCVProcessRequest(ok);
  assert.deepEqual(r, {
    req_key: REQ_KEY_V21, prompt: 'a cat', seed: -1, width: 512, height: 512,
    use_pre_llm: true, use_sr: true, return_url: false, logo_info: null,
  });
});

test('null means absent, unknown fields are ignored', () => {
  const r = parseCVProcessRequest({ ...ok, seed: null, width: null, logo_info: null, extra_field: { x: 1 } });
  assert.equal(r.seed, -1);
  assert.equal(r.width, 512);
  assert.equal(r.logo_info, null);
});

test('logo_info defaults and every field', () => {
  assert.deepEqual(parseCVProcessRequest({ ...ok, logo_info: {} }).logo_info, {
    add_logo: false, position: 0, language: 0, opacity: 0.3, logo_text_content: '',
  });
  assert.deepEqual(
    parseCVProcessRequest({ ...ok, logo_info: { add_logo: true, position: 3, language: 1, opacity: 1, logo_text_content: '梦图 AI' } }).logo_info,
    { add_logo: true, position: 3, language: 1, opacity: 1, logo_text_content: '梦图 AI' },
  );
});

test('body must be a JSON object (50204)', () => {
  rejects([], 50204, 'request body must be a JSON object');
  rejects('x', 50204, 'request body must be a JSON object');
  rejects(null, 50204, 'request body must be a JSON object');
});

test('missing req_key / prompt (50201)', () => {
  rejects({ prompt: 'x' }, 50201, 'Missing Param: req_key');
  rejects({ req_key: REQ_KEY_V21 }, 50201, 'Missing Param: prompt');
  rejects({ req_key: REQ_KEY_V21, prompt: '' }, 50201, 'Missing Param: prompt');
});

test('unknown req_key (50215) keeps the cloud phrase', () => {
  rejects({ req_key: 'jimeng_t2i_v99', prompt: 'x' }, 50215, "Input invalid for this service. req_key: unknown value 'jimeng_t2i_v99'");
});

test('strict types, no coercion (50204)', () => {
  rejects({ ...ok, width: '512' }, 50204, 'width must be an integer');
  rejects({ ...ok, height: 512.5 }, 50204, 'height must be an integer');
  rejects({ ...ok, seed: '42' }, 50204, 'seed must be an integer');
  rejects({ ...ok, use_sr: 1 }, 50204, 'use_sr must be a boolean');
  rejects({ ...ok, use_pre_llm: 'true' }, 50204, 'use_pre_llm must be a boolean');
  rejects({ ...ok, return_url: 0 }, 50204, 'return_url must be a boolean');
  rejects({ ...ok, prompt: 5 }, 50204, 'prompt must be a string');
  rejects({ ...ok, req_key: 5 }, 50204, 'req_key must be a string');
  rejects({ ...ok, logo_info: 'yes' }, 50204, 'logo_info must be an object');
  rejects({ ...ok, logo_info: [] }, 50204, 'logo_info must be an object');
  rejects({ ...ok, logo_info: { add_logo: 'true' } }, 50204, 'logo_info.add_logo must be a boolean');
  rejects({ ...ok, logo_info: { position: 1.5 } }, 50204, 'logo_info.position must be an integer');
  rejects({ ...ok, logo_info: { opacity: '0.3' } }, 50204, 'logo_info.opacity must be a number');
  rejects({ ...ok, logo_info: { logo_text_content: 1 } }, 50204, 'logo_info.logo_text_content must be a string');
});

test('ranges (50200)', () => {
  rejects({ ...ok, width: 4096 }, 50200, 'width must be in [256, 1024]');
  rejects({ ...ok, width: 255 }, 50200, 'width must be in [256, 1024]');
  rejects({ ...ok, height: 1025 }, 50200, 'height must be in [256, 1024]');
  rejects({ ...ok, seed: -2 }, 50200, 'seed must be -1 (random) or in [0, 4294967295]');
  rejects({ ...ok, seed: 4294967296 }, 50200, 'seed');
  rejects({ ...ok, prompt: 'x'.repeat(1001) }, 50200, 'prompt must be at most 1000 characters');
  rejects({ ...ok, prompt: 'a\u0000b' }, 50200, 'control characters');
  rejects({ ...ok, prompt: '   ' }, 50200, 'prompt must not be blank');
  rejects({ ...ok, logo_info: { position: 9 } }, 50200, 'logo_info.position must be one of 0, 1, 2, 3');
  rejects({ ...ok, logo_info: { language: 2 } }, 50200, 'logo_info.language must be 0 (Chinese) or 1 (English)');
  rejects({ ...ok, logo_info: { opacity: 2 } }, 50200, 'logo_info.opacity must be in [0, 1]');
  rejects({ ...ok, logo_info: { opacity: -0.1 } }, 50200, 'logo_info.opacity must be in [0, 1]');
  rejects({ ...ok, logo_info: { logo_text_content: 'x'.repeat(51) } }, 50200, 'at most 50 characters');
});

test('limits count code points, and allow newlines, edges of ranges', () => {
  const r = parseCVProcessRequest({ ...ok, prompt: '海'.repeat(999) + '😀', width: 256, height: 1024, seed: 4294967295 });
  assert.equal(r.width, 256);
  assert.equal(r.seed, 4294967295);
  assert.equal(parseCVProcessRequest({ ...ok, prompt: '第一行\n第二行\t"引号"' }).prompt, '第一行\n第二行\t"引号"');
  assert.equal(parseCVProcessRequest({ ...ok, seed: 0 }).seed, 0);
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LOGO_DEFAULTS, parseCVProcessRequest, REQ_KEY_V21 } from '../src/contract/cvprocess.js';
import { parseGetResultRequest } from '../src/contract/async-task.js';
import { parseFields, type Fields } from '../src/contract/fields.js';
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
  rejects({ req_key: REQ_KEY_V21, prompt: null }, 50201, 'Missing Param: prompt');
  rejects({ req_key: null, prompt: 'x' }, 50201, 'Missing Param: req_key');
});

test('present but empty is out of range (50200), not missing', () => {
  rejects({ req_key: REQ_KEY_V21, prompt: '' }, 50200, 'Invalid Param: prompt must not be empty');
  rejects({ req_key: '', prompt: 'x' }, 50215, "req_key: unknown value ''");
});

test('C1 control characters are refused like C0 (50200), in prompt and logo text', () => {
  for (const c of ['\u0000', '\u001B', '\u007F', '\u0080', '\u0085', '\u009B', '\u009F']) {
    rejects({ ...ok, prompt: `a${c}b` }, 50200, 'prompt must not contain control characters');
    rejects({ ...ok, logo_info: { logo_text_content: `a${c}b` } }, 50200, 'logo_info.logo_text_content must not contain control characters');
  }
  // The neighbours of the C1 block are ordinary text.
  assert.equal(parseCVProcessRequest({ ...ok, prompt: 'a\u00A0b\u007E' }).prompt, 'a\u00A0b\u007E');
  assert.equal(parseCVProcessRequest({ ...ok, logo_info: { logo_text_content: 'é\tx' } }).logo_info?.logo_text_content, 'é\tx');
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

describe('CVSync2AsyncGetResult body (same field-spec style)', () => {
  const base = { req_key: REQ_KEY_V21, task_id: '7392616336519610409' };
  const get = (body: unknown): ReturnType<typeof parseGetResultRequest> => parseGetResultRequest(body);
  function refuses(body: unknown, code: number, messagePart: string): void {
    assert.throws(() => get(body), (err: unknown) => err instanceof CvError && err.code === code && err.message.includes(messagePart));
  }

  test('defaults: no req_json → no delivery choices', () => {
    assert.deepEqual(get(base), { ...base, return_url: false, logo_info: null, aigc_meta: null });
    assert.deepEqual(get({ ...base, req_json: '' }), { ...base, return_url: false, logo_info: null, aigc_meta: null });
  });

  test('req_json carries return_url, logo_info (with its defaults) and aigc_meta', () => {
    const r = get({ ...base, req_json: JSON.stringify({ return_url: true, logo_info: { add_logo: true }, aigc_meta: { producer_id: 'p1' } }) });
    assert.equal(r.return_url, true);
    assert.deepEqual(r.logo_info, { ...LOGO_DEFAULTS, add_logo: true });
    assert.deepEqual(r.aigc_meta, { content_producer: '', producer_id: 'p1', content_propagator: '', propagate_id: '' });
  });

  test('codes: missing 50201, empty 50200, wrong type 50204, unknown req_key 50215, range 50200', () => {
    refuses({ req_key: REQ_KEY_V21 }, 50201, 'Missing Param: task_id');
    refuses({ ...base, task_id: '' }, 50200, 'Invalid Param: task_id must not be empty');
    refuses({ ...base, task_id: 1 }, 50204, 'task_id must be a string');
    refuses({ ...base, req_key: 'x' }, 50215, 'Input invalid for this service.');
    refuses({ ...base, req_json: { return_url: true } }, 50204, 'req_json must be a JSON string');
    refuses({ ...base, req_json: '{not json' }, 50204, 'req_json must be a JSON string of an object');
    refuses({ ...base, req_json: '[1]' }, 50204, 'req_json must be a JSON string of an object');
    refuses({ ...base, req_json: '{"return_url":"yes"}' }, 50204, 'req_json.return_url must be a boolean');
    refuses({ ...base, req_json: '{"logo_info":{"position":9}}' }, 50200, 'req_json.logo_info.position must be one of 0, 1, 2, 3');
    refuses({ ...base, req_json: '{"logo_info":{"logo_text_content":"\\u0085"}}' }, 50200, 'control characters');
    refuses({ ...base, req_json: JSON.stringify({ aigc_meta: { producer_id: 'x'.repeat(257) } }) }, 50200, 'req_json.aigc_meta.producer_id must be at most 256 characters');
    refuses({ ...base, req_json: '{"aigc_meta":[]}' }, 50204, 'req_json.aigc_meta must be an object');
  });
});

describe('field tables (the style a new req_key is written in)', () => {
  const V30_LIKE = {
    req_key: { type: 'string', required: true, oneOf: ['t2i_v30'] },
    prompt: { type: 'string', required: true, minChars: 1, maxChars: 800, text: true },
    scale: { type: 'number', default: 2.5, min: 1, max: 10 },
    width: { type: 'integer', default: 1328, min: 512, max: 2048 },
    height: { type: 'integer', default: 1328, min: 512, max: 2048 },
  } as const satisfies Fields;

  test('defaults, ranges, types and custom codes come from the table', () => {
    assert.deepEqual(parseFields({ req_key: 't2i_v30', prompt: 'cat' }, V30_LIKE), { req_key: 't2i_v30', prompt: 'cat', scale: 2.5, width: 1328, height: 1328 });
    assert.throws(() => parseFields({ req_key: 't2i_v30', prompt: 'cat', scale: 11 }, V30_LIKE), /Invalid Param: scale must be in \[1, 10\]/);
    assert.throws(() => parseFields({ req_key: 't2i_v30', prompt: 'x'.repeat(801) }, V30_LIKE), /prompt must be at most 800 characters \(got 801\)/);
    assert.throws(() => parseFields({ req_key: 't2i_v30', prompt: 'cat', width: 600.5 }, V30_LIKE), /Invalid Param Type: width must be an integer/);
    assert.throws(() => parseFields({ req_key: 'v21', prompt: 'cat' }, V30_LIKE), /Invalid Param: req_key must be one of t2i_v30/);
  });

  test('a body-level check sees the parsed values (e.g. an area or ratio rule)', () => {
    const spec = { w: { type: 'integer', default: 1 }, h: { type: 'integer', default: 1 } } as const satisfies Fields;
    const body = { type: 'object', fields: spec, check: (v: Record<string, unknown>) => ((v.w as number) > 3 * (v.h as number) ? 'ratio must be at most 3:1' : undefined) } as const satisfies Fields[string];
    assert.throws(() => parseFields({ size: { w: 4, h: 1 } }, { size: body }), /Invalid Param: size ratio must be at most 3:1/);
    assert.deepEqual(parseFields({ size: { w: 3, h: 1 } }, { size: body }), { size: { w: 3, h: 1 } });
  });
});

/** The Jimeng 3.x request fields (docs/jimeng-v3.md): defaults, and each rule with its Volcengine code. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCVProcessRequest, REQ_KEY_I2I_V30, REQ_KEY_T2I_V30, REQ_KEY_T2I_V31, REQ_KEY_V21 } from '../src/contract/cvprocess.js';
import { CvError } from '../src/contract/errors.js';
import { base64Bytes, i2iOutputSize, parseSubmitTaskRequest, V3_LIMITS } from '../src/contract/jimeng-v3.js';
import { parseGetResultRequest } from '../src/contract/async-task.js';

function rejects(body: unknown, code: number, messagePart: string): void {
  assert.throws(
    () => parseSubmitTaskRequest(body),
    (err: unknown) => {
      assert.ok(err instanceof CvError, 'CvError expected');
      assert.equal(err.code, code, `code for ${JSON.stringify(body).slice(0, 100)}: ${err.message}`);
      assert.ok(err.message.includes(messagePart), `message "${err.message}" should include "${messagePart}"`);
      return true;
    },
  );
}

const PNG_1PX = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

for (const key of [REQ_KEY_T2I_V30, REQ_KEY_T2I_V31]) {
  describe(`${key} (文生图 3.x)`, () => {
    const ok = { req_key: key, prompt: '一只猫' };

    test('defaults: 1328×1328, use_pre_llm on, random seed, no super-resolution', () => {
      assert.deepEqual(parseSubmitTaskRequest(ok), {
        req_key: key, prompt: '一只猫', use_pre_llm: true, seed: -1, width: 1328, height: 1328, return_url: false, logo_info: null, use_sr: false,
      });
    });

    test('prompt: required (50201), a string (50204), 1…800 characters (50200)', () => {
      rejects({ req_key: key }, 50201, 'Missing Param: prompt');
      rejects({ ...ok, prompt: 5 }, 50204, 'prompt must be a string');
      rejects({ ...ok, prompt: '' }, 50200, 'prompt must not be empty');
      rejects({ ...ok, prompt: '   ' }, 50200, 'prompt must not be blank');
      rejects({ ...ok, prompt: '猫'.repeat(801) }, 50200, 'prompt must be at most 800 characters');
      rejects({ ...ok, prompt: 'a\u0000b' }, 50200, 'control characters');
      assert.equal(parseSubmitTaskRequest({ ...ok, prompt: '猫'.repeat(800) }).prompt.length, 800);
    });

    test('width/height: integers (50204) in 512…2048 (50200), ratio 1:3…3:1 (50200)', () => {
      rejects({ ...ok, width: '1024' }, 50204, 'width must be an integer');
      rejects({ ...ok, height: 1024.5 }, 50204, 'height must be an integer');
      rejects({ ...ok, width: 511 }, 50200, 'width must be in [512, 2048]');
      rejects({ ...ok, height: 2049 }, 50200, 'height must be in [512, 2048]');
      rejects({ ...ok, width: 2048, height: 600 }, 50200, 'aspect ratio between 1:3 and 3:1');
      rejects({ ...ok, width: 512, height: 1537 }, 50200, 'aspect ratio between 1:3 and 3:1');
      const r = parseSubmitTaskRequest({ ...ok, width: 1536, height: 512 });
      assert.deepEqual([r.width, r.height], [1536, 512]);
      assert.deepEqual([parseSubmitTaskRequest({ ...ok, width: 2048 }).width, parseSubmitTaskRequest({ ...ok, width: 2048 }).height], [2048, 1328]);
    });

    test('use_pre_llm: a boolean (50204); seed: -1 or 0…2³²−1 (50204 / 50200)', () => {
      assert.equal(parseSubmitTaskRequest({ ...ok, use_pre_llm: false }).use_pre_llm, false);
      rejects({ ...ok, use_pre_llm: 'true' }, 50204, 'use_pre_llm must be a boolean');
      rejects({ ...ok, use_pre_llm: 1 }, 50204, 'use_pre_llm must be a boolean');
      assert.equal(parseSubmitTaskRequest({ ...ok, seed: 4294967295 }).seed, 4294967295);
      rejects({ ...ok, seed: -2 }, 50200, 'seed must be -1 (random) or in [0, 4294967295]');
      rejects({ ...ok, seed: 4294967296 }, 50200, 'seed must be -1');
      rejects({ ...ok, seed: 1.5 }, 50204, 'seed must be an integer');
    });

    test('return_url and logo_info as on v2.1; GetResult takes the req_key', () => {
      rejects({ ...ok, return_url: 'yes' }, 50204, 'return_url must be a boolean');
      rejects({ ...ok, logo_info: { position: 4 } }, 50200, 'logo_info.position must be one of 0, 1, 2, 3');
      assert.equal(parseGetResultRequest({ req_key: key, task_id: '7' }).req_key, key);
    });

    test('CVProcess (sync) does not serve the 3.x req_keys (50215)', () => {
      assert.throws(() => parseCVProcessRequest(ok), (err: unknown) => err instanceof CvError && err.code === 50215 && /CVSync2AsyncSubmitTask/.test(err.message));
    });
  });
}

describe(`${REQ_KEY_I2I_V30} (图生图 3.0)`, () => {
  const ok = { req_key: REQ_KEY_I2I_V30, prompt: '改成水彩画', binary_data_base64: [PNG_1PX] };

  test('defaults: scale 0.5, size from the input (0 × 0 until decoded), no rewrite, no super-resolution', () => {
    assert.deepEqual(parseSubmitTaskRequest(ok), {
      req_key: REQ_KEY_I2I_V30, prompt: '改成水彩画', seed: -1, scale: 0.5, return_url: false, logo_info: null,
      width: 0, height: 0, use_pre_llm: false, use_sr: false, image_input: { kind: 'base64', data: PNG_1PX },
    });
    const byUrl = parseSubmitTaskRequest({ ...ok, binary_data_base64: undefined, image_urls: ['https://example.com/a.png'] });
    assert.deepEqual(byUrl.image_input, { kind: 'url', url: 'https://example.com/a.png' });
  });

  test('exactly one image: none → 50201, two → 50200, [] counts as none', () => {
    rejects({ ...ok, binary_data_base64: undefined }, 50201, 'Missing Param: binary_data_base64 or image_urls');
    rejects({ ...ok, binary_data_base64: [] }, 50201, 'Missing Param: binary_data_base64 or image_urls');
    rejects({ ...ok, binary_data_base64: [PNG_1PX, PNG_1PX] }, 50200, 'exactly one image');
    rejects({ ...ok, image_urls: ['https://example.com/a.png'] }, 50200, 'exactly one image');
  });

  test('binary_data_base64: an array (50204) of base64 strings (50204 / 50200) of at most 4.7 MB (50200)', () => {
    rejects({ ...ok, binary_data_base64: PNG_1PX }, 50204, 'binary_data_base64 must be an array of strings');
    rejects({ ...ok, binary_data_base64: [42] }, 50204, 'binary_data_base64[0] must be a string');
    rejects({ ...ok, binary_data_base64: ['not base64!'] }, 50200, 'binary_data_base64[0] must be base64');
    rejects({ ...ok, binary_data_base64: [''] }, 50200, 'binary_data_base64[0] must not be empty');
    const big = 'A'.repeat(Math.ceil((V3_LIMITS.inputMaxBytes + 3) / 3) * 4);
    rejects({ ...ok, binary_data_base64: [big] }, 50200, 'must be an image of at most 4.7 MB');
    const fits = 'A'.repeat(Math.floor(V3_LIMITS.inputMaxBytes / 3) * 4);
    assert.equal(base64Bytes(fits), Math.floor(V3_LIMITS.inputMaxBytes / 3) * 3);
    assert.doesNotThrow(() => parseSubmitTaskRequest({ ...ok, binary_data_base64: [fits] }));
    assert.equal(base64Bytes('QUJD\nREVG'), 6, 'line breaks are ignored');
  });

  test('image_urls: an array (50204) of http(s) URLs (50200)', () => {
    const noB64 = { ...ok, binary_data_base64: undefined };
    rejects({ ...noB64, image_urls: 'https://example.com/a.png' }, 50204, 'image_urls must be an array of strings');
    rejects({ ...noB64, image_urls: ['ftp://example.com/a.png'] }, 50200, 'image_urls[0] must be an http or https URL');
    rejects({ ...noB64, image_urls: ['not a url'] }, 50200, 'image_urls[0] must be an http or https URL');
    rejects({ ...noB64, image_urls: [''] }, 50200, 'image_urls[0] must not be empty');
    rejects({ ...noB64, image_urls: [`https://e.com/${'a'.repeat(2100)}`] }, 50200, 'image_urls[0] must be at most 2048 characters');
  });

  test('scale: a number (50204) in [0, 1] (50200)', () => {
    assert.equal(parseSubmitTaskRequest({ ...ok, scale: 0 }).scale, 0);
    assert.equal(parseSubmitTaskRequest({ ...ok, scale: 1 }).scale, 1);
    assert.equal(parseSubmitTaskRequest({ ...ok, scale: 0.35 }).scale, 0.35);
    rejects({ ...ok, scale: '0.5' }, 50204, 'scale must be a number');
    rejects({ ...ok, scale: 1.01 }, 50200, 'scale must be in [0, 1]');
    rejects({ ...ok, scale: -0.1 }, 50200, 'scale must be in [0, 1]');
  });

  test('width/height: together, integers in 512…1536, ratio within 3 (50201/50204/50200)', () => {
    rejects({ ...ok, width: 1024 }, 50200, 'width and height must be given together');
    rejects({ ...ok, width: 1024, height: 1600 }, 50200, 'height must be in [512, 1536]');
    rejects({ ...ok, width: 500, height: 512 }, 50200, 'width must be in [512, 1536]');
    rejects({ ...ok, width: 1024.5, height: 1024 }, 50204, 'width must be an integer');
    const r = parseSubmitTaskRequest({ ...ok, width: 1024, height: 768 });
    assert.deepEqual([r.width, r.height], [1024, 768]);
  });

  test('prompt and seed follow the 3.x rules', () => {
    rejects({ ...ok, prompt: undefined }, 50201, 'Missing Param: prompt');
    rejects({ ...ok, prompt: 'x'.repeat(801) }, 50200, 'prompt must be at most 800 characters');
    rejects({ ...ok, seed: -5 }, 50200, 'seed must be -1');
  });

  test('output size: the input fitted inside 1536², each side a multiple of 16', () => {
    assert.deepEqual(i2iOutputSize(1000, 750, 0, 0), { width: 1008, height: 752 });
    assert.deepEqual(i2iOutputSize(4000, 3000, 0, 0), { width: 1536, height: 1152 });
    assert.deepEqual(i2iOutputSize(3000, 4000, 0, 0), { width: 1152, height: 1536 });
    assert.deepEqual(i2iOutputSize(4096, 1366, 0, 0), { width: 1536, height: 512 });
    assert.deepEqual(i2iOutputSize(7, 9, 0, 0), { width: 16, height: 16 });
    assert.deepEqual(i2iOutputSize(4000, 3000, 1000, 700), { width: 1008, height: 704 });
    for (const [w, h] of [[333, 999], [1999, 667], [640, 480]] as const) {
      const s = i2iOutputSize(w, h, 0, 0);
      assert.ok(s.width % 16 === 0 && s.height % 16 === 0 && Math.max(s.width, s.height) <= 1536, `${w}×${h} → ${s.width}×${s.height}`);
    }
  });
});

test('an unknown req_key is 50215 on submit; v2.1 still parses with its own table', () => {
  rejects({ req_key: 'jimeng_t2i_v99', prompt: 'x' }, 50215, "req_key: unknown value 'jimeng_t2i_v99'");
  const r = parseSubmitTaskRequest({ req_key: REQ_KEY_V21, prompt: 'a cat' });
  assert.deepEqual([r.width, r.height, r.use_sr], [512, 512, true]);
  rejects({ req_key: REQ_KEY_V21, prompt: 'a cat', width: 1328 }, 50200, 'width must be in [256, 1024]');
});

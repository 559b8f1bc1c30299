/** mengtu's request extensions (negative_prompt, steps, guidance_scale, scheduler): optional, typed, bounded. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCVProcessRequest, REQ_KEY_V21 } from '../src/contract/cvprocess.js';
import { CvError } from '../src/contract/errors.js';
import { newJob } from '../src/pipeline/runner.js';

const ok = { req_key: REQ_KEY_V21, prompt: 'a cat' };

function refused(body: object, code: number, msg: RegExp): void {
  assert.throws(
    () => parseCVProcessRequest(body),
    (e: unknown) => e instanceof CvError && e.code === code && msg.test(e.message),
  );
}

test('absent extensions add no keys (official clients see the plain contract): the model decides', () => {
  const r = parseCVProcessRequest(ok);
  for (const k of ['negative_prompt', 'steps', 'guidance_scale', 'scheduler']) assert.ok(!(k in r), k);
  assert.equal(newJob(r, 'rid').negativePrompt, '');
  assert.equal(newJob(r, 'rid').scheduler, undefined);
  assert.equal(newJob(parseCVProcessRequest({ ...ok, negative_prompt: '  ' }), 'rid').negativePrompt, '');
});

test('extensions are parsed and reach the job', () => {
  const r = parseCVProcessRequest({ ...ok, negative_prompt: 'blurry', steps: 8, guidance_scale: 4.5, scheduler: 'euler_a' });
  assert.deepEqual([r.negative_prompt, r.steps, r.guidance_scale, r.scheduler], ['blurry', 8, 4.5, 'euler_a']);
  const job = newJob(r, 'rid');
  assert.equal(job.negativePrompt, 'blurry');
  assert.equal(job.scheduler, 'euler_a');
});

test('extensions are refused with the contract codes', () => {
  refused({ ...ok, steps: '8' }, 50204, /steps must be an integer/);
  refused({ ...ok, steps: 2.5 }, 50204, /steps must be an integer/);
  refused({ ...ok, steps: 0 }, 50200, /steps must be in \[1, 50\]/);
  refused({ ...ok, steps: 51 }, 50200, /steps must be in \[1, 50\]/);
  refused({ ...ok, guidance_scale: -1 }, 50200, /guidance_scale must be in \[0, 30\]/);
  refused({ ...ok, guidance_scale: true }, 50204, /guidance_scale must be a number/);
  refused({ ...ok, scheduler: 'plms' }, 50200, /scheduler must be one of euler, euler_a, ddim, lcm/);
  refused({ ...ok, negative_prompt: 'x'.repeat(1001) }, 50200, /negative_prompt must be at most 1000/);
});

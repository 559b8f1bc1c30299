/**
 * BullMQ refuses a custom job id that reads as an integer ("Custom Id cannot be integers"). Task ids are
 * decimal, and about 1 in 177 of them survives a round trip through a double, so that share of scaled submits
 * failed with 50500 until the queue gave its jobs ids of their own (`bullJobId`). Checked against BullMQ's own
 * validation on a real Redis.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Job, Queue } from 'bullmq';
import { newTaskId } from '../src/contract/async-task.js';
import { bullJobId } from '../src/jobs/bullmq.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

let redis: TestRedis;
let queue: Queue;
before(async () => {
  redis = await startRedis();
  queue = new Queue('ids', { connection: { url: redis.url, maxRetriesPerRequest: null }, prefix: 'mengtu-ids' });
});
after(async () => {
  await queue?.close();
  await redis?.stop();
});

/** A task id as newTaskId makes them, of the kind BullMQ takes for an integer. */
function integerLikeTaskId(): string {
  for (;;) {
    const id = newTaskId();
    if (String(parseInt(id, 10)) === id) return id;
  }
}

test('task ids that read as integers are queued under ids BullMQ accepts, and found again', async () => {
  const id = integerLikeTaskId();
  // The raw id is what failed: BullMQ's own check still refuses it (so this test would catch a regression).
  await assert.rejects(queue.add('generate', {}, { jobId: id }), /Custom Id cannot be integers/);
  const job = await queue.add('generate', { taskId: id }, { jobId: bullJobId(id) });
  assert.equal(job.id, bullJobId(id));
  assert.deepEqual((await Job.fromId(queue, bullJobId(id)))?.data, { taskId: id });
  // Every id newTaskId makes maps to one BullMQ accepts.
  for (let i = 0; i < 2000; i++) {
    const b = bullJobId(newTaskId());
    assert.notEqual(String(parseInt(b, 10)), b);
  }
});

/**
 * Redis failover in scaled mode, on real parts: a primary redis-server and a replica of it (the second Redis
 * of issue #11's tests); the gateway and the worker reach Redis through one stable address (a TCP forwarder,
 * as a managed endpoint or a virtual IP is). Mid-work the primary is killed (SIGKILL), the replica promoted
 * and the address moved to it. Without a restart of either process: the task that was running, the one
 * queued behind it and the one already done all answer done (the finished one with its pixels), and a task
 * submitted after the failover is served. The primary is given its replica's acknowledgement (WAIT) just
 * before it dies: with asynchronous replication the last writes can otherwise be lost (docs/deployment.md).
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ensureTinyModel } from '../src/engine/index.js';
import type { RunningServer } from '../src/runtime/server.js';
import { getResult, pollTask, rawPixels, submit, type Envelope } from './helpers/api.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { startTestServer, testHome } from './helpers/server.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';
import { spawnWorker, type WorkerProc } from './helpers/worker.js';

const PREFIX = 'failover';

/** Until the task is done, read through any refusal the gateway answers while Redis is away. */
const finished = (e: Envelope): boolean => e.code === 10000 && e.data?.status !== 'in_queue' && e.data?.status !== 'generating';

describe('Redis failover: the primary dies and its replica takes over at the same address', { timeout: 600_000 }, () => {
  let primary: TestRedis;
  let replica: TestRedis;
  let proxy: TcpProxy;
  let gateway: RunningServer;
  let worker: WorkerProc;
  const clients: Redis[] = [];

  before(async () => {
    const home = await testHome();
    await ensureTinyModel();
    primary = await startRedis();
    replica = await startRedis({ extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
    const r = new Redis(replica.url);
    clients.push(r);
    for (let i = 0; !/master_link_status:up/.test(await r.info('replication')); i++) {
      assert.ok(i < 200, 'the replica never synced');
      await sleep(50);
    }
    proxy = await startTcpProxy(primary.port);
    const url = `redis://127.0.0.1:${proxy.port}`;
    const shared = await mkdtemp(path.join(os.tmpdir(), 'mengtu-failover-'));
    gateway = await startTestServer({ queue: { redisUrl: url, prefix: PREFIX }, server: { dataDir: shared } });
    worker = spawnWorker({ redisUrl: url, dataDir: shared, home, prefix: PREFIX });
    await worker.ready;
  });

  after(async () => {
    worker?.child.kill('SIGKILL');
    await worker?.exited;
    await gateway?.close();
    for (const c of clients) c.disconnect();
    await proxy?.close();
    await Promise.allSettled([primary?.stop(), replica?.stop()]);
  });

  test('no task is lost and no process restarts', async () => {
    const early = await submit(gateway.url, { prompt: 'a stone bridge', seed: 31, width: 256, height: 256, use_sr: false });
    const earlyDone = await pollTask(gateway.url, early);
    assert.equal(earlyDone.json.data!.status, 'done');
    // One worker: the 1024² task runs for seconds, the next waits behind it.
    const running = await submit(gateway.url, { prompt: 'a harbour at night', seed: 32, width: 1024, height: 1024, use_sr: false });
    const queued = await submit(gateway.url, { prompt: 'a blue door', seed: 33, width: 256, height: 256, use_sr: false });
    await pollTask(gateway.url, running, { until: (e) => e.data?.status !== 'in_queue' });
    assert.equal((await getResult(gateway.url, queued)).data!.status, 'in_queue');

    const p = new Redis(primary.url);
    assert.equal(await p.call('WAIT', '1', '5000'), 1, 'the replica acknowledged the writes');
    p.disconnect();
    await primary.stop();
    await clients[0]!.call('REPLICAOF', 'NO', 'ONE');
    proxy.retarget(replica.port);

    for (const id of [running, queued]) {
      const { json, seen } = await pollTask(gateway.url, id, { until: finished });
      assert.equal(json.data!.status, 'done', `${id}: ${seen.join(' → ')}`);
    }
    const again = await pollTask(gateway.url, early, { until: finished });
    assert.ok((await rawPixels(again.json.data!.binary_data_base64[0]!)).equals(await rawPixels(earlyDone.json.data!.binary_data_base64[0]!)));
    const after = await submit(gateway.url, { prompt: 'a red kite', seed: 34, width: 256, height: 256, use_sr: false });
    assert.equal((await pollTask(gateway.url, after, { until: finished })).json.data!.status, 'done');
    assert.equal((await fetch(`${gateway.url}/readyz`)).status, 200);
    assert.equal(worker.child.exitCode, null, 'the worker kept running');
  });
});

/**
 * A drawing thread: runs one DrawTask and transfers the pixels back. Open font slices live once per thread,
 * like they do once per process without the pool. The classifier has its own thread (classifier-worker.ts).
 */
import { applyTypography } from '../../typography/index.js';
import { reply } from './reply.js';
import type { DrawTask } from './tasks.js';
import { yieldToEventLoop } from './nice.js';

yieldToEventLoop();

export default function run(task: DrawTask): unknown {
  const t0 = performance.now();
  return reply({ image: applyTypography(task.image, task.plan), ms: performance.now() - t0 });
}

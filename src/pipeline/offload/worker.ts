/**
 * A drawing thread: runs one DrawTask (typography, or the PNG encode with its AI label) and transfers the
 * pixels back. Open font slices live once per thread, like they do once per process without the pool. The
 * classifier has its own thread (classifier-worker.ts).
 */
import { encodePng } from '../encode/encode-png.js';
import { applyTypography } from '../../typography/index.js';
import { reply } from './reply.js';
import type { DrawTask } from './tasks.js';
import { yieldToEventLoop } from './nice.js';

yieldToEventLoop();

export default async function run(task: DrawTask): Promise<unknown> {
  const t0 = performance.now();
  if (task.kind === 'typography') return reply({ image: applyTypography(task.image, task.plan), ms: performance.now() - t0 });
  const png = await encodePng(task.image, task.meta, task.options);
  // sharp's own buffer (no label) is external memory, which postMessage copies on the receiving side, i.e. on
  // the event loop: copy it here into a plain buffer that is transferred. A labelled file is already one.
  const labelled = task.meta !== null && task.options.aiLabel !== false;
  const out = labelled ? png : Buffer.from(png);
  return reply({ image: task.image, png: out, ms: performance.now() - t0 });
}

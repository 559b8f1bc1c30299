/**
 * The pool's worker: runs one OffloadTask and transfers the pixels back. Module state (open fonts, the NSFW
 * model) lives once per worker thread, like it does once per process without the pool.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { createImageRiskChecker, type ImageRiskChecker } from '../../safety/image-risk.js';
import { advanceMeasure } from '../../typography/fonts.js';
import { applyTypography } from '../../typography/index.js';
import { transferablesOf, type OffloadResult, type OffloadTask } from './tasks.js';

let checker: Promise<ImageRiskChecker> | undefined;
function classifier(): Promise<ImageRiskChecker> {
  // The threshold is applied by the caller; here only the scores matter.
  checker ??= createImageRiskChecker({ threshold: 1 });
  return checker;
}

async function runTask(task: OffloadTask): Promise<OffloadResult> {
  const t0 = performance.now();
  switch (task.kind) {
    case 'typography':
      return { image: applyTypography(task.image, task.plan), ms: performance.now() - t0 };
    case 'classify': {
      const scores = await (await classifier()).classify(task.image);
      return { image: task.image, scores, ms: performance.now() - t0 };
    }
    case 'warm':
      for (const face of task.faces) advanceMeasure(task.text, 10, face);
      if (task.classifier) await classifier();
      return { ms: performance.now() - t0 };
  }
}

export default async function run(task: OffloadTask): Promise<unknown> {
  const result = await runTask(task);
  const transfer = transferablesOf(result.image);
  if (transfer.length === 0) return result;
  return move({
    get [transferableSymbol]() {
      return transfer;
    },
    get [valueSymbol]() {
      return result;
    },
  });
}

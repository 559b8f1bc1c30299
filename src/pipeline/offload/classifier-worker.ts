/**
 * The classifier thread: loads the NSFW model (tfjs, WebAssembly) once and classifies images, off the event
 * loop and off the drawing threads, so neither a load nor a classification holds a typography task.
 */
import type { RawImage } from '../../engine/types.js';
import type { ImageRiskScores } from '../../safety/image-risk.js';
import { loadNsfwClassifier } from '../../safety/nsfw-model.js';
import { loadOnce } from './load-once.js';
import { reply } from './reply.js';
import type { ClassifierTask } from './tasks.js';
import { yieldToEventLoop } from './nice.js';

yieldToEventLoop();

// A failed load is tried again by the next task (loadNsfwClassifier forgets a failed model promise too).
const classifier = loadOnce((): Promise<(image: RawImage) => Promise<ImageRiskScores>> => loadNsfwClassifier('wasm'));

export default async function run(task: ClassifierTask): Promise<unknown> {
  const t0 = performance.now();
  if (task.kind === 'load') {
    await classifier.get();
    return reply({ ms: performance.now() - t0 });
  }
  const scores = await (await classifier.get())(task.image);
  return reply({ image: task.image, scores, ms: performance.now() - t0 });
}

/**
 * The super-resolution thread: builds the configured resolver once (ESRGAN on onnxruntime, a user ONNX model,
 * or Lanczos) and upscales there. onnxruntime-node's `run` computes on the calling thread, and the tiling, float
 * conversion and Lanczos loops are plain JavaScript: on the event loop they held it ~1.1 s per tile or image.
 */
import { createSuperResolver, type SuperResolver, type SuperResolverOptions } from '../sr/index.js';
import { loadOnce } from './load-once.js';
import { reply } from './reply.js';
import type { SrTask } from './tasks.js';
import { yieldToEventLoop } from './nice.js';

yieldToEventLoop();

const resolver = loadOnce((options: SuperResolverOptions): Promise<SuperResolver> => createSuperResolver(options));

export default async function run(task: SrTask): Promise<unknown> {
  const t0 = performance.now();
  if (task.kind === 'load') {
    const r = await resolver.get(task.options);
    return { sr: { method: r.method, status: r.status }, ms: performance.now() - t0 };
  }
  if (task.kind === 'close') {
    await (await resolver.take())?.close();
    return { ms: performance.now() - t0 };
  }
  const image = await (await resolver.get(task.options)).upscale(task.image, 2);
  return reply({ image, ms: performance.now() - t0 });
}

/**
 * The super-resolution thread: builds the configured resolver once (ESRGAN on onnxruntime, a user ONNX model,
 * or Lanczos) and upscales there. onnxruntime-node's `run` computes on the calling thread, and the tiling, float
 * conversion and Lanczos loops are plain JavaScript: on the event loop they held it ~1.1 s per tile or image.
 */
import { createSuperResolver, type SuperResolver, type SuperResolverOptions } from '../sr/index.js';
import { reply } from './reply.js';
import type { SrTask } from './tasks.js';
import { yieldToEventLoop } from './nice.js';

yieldToEventLoop();

let resolver: Promise<SuperResolver> | undefined;

function loaded(options: SuperResolverOptions): Promise<SuperResolver> {
  resolver ??= createSuperResolver(options).catch((err: unknown) => {
    resolver = undefined;
    throw err;
  });
  return resolver;
}

export default async function run(task: SrTask): Promise<unknown> {
  const t0 = performance.now();
  if (task.kind === 'load') {
    const r = await loaded(task.options);
    return { sr: { method: r.method, status: r.status }, ms: performance.now() - t0 };
  }
  if (task.kind === 'close') {
    await (await resolver)?.close();
    resolver = undefined;
    return { ms: performance.now() - t0 };
  }
  const image = await (await loaded(task.options)).upscale(task.image, 2);
  return reply({ image, ms: performance.now() - t0 });
}

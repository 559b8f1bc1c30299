/**
 * The engine thread: the diffusion engine (onnxruntime sessions, tokenizer, sampler loops, VAE tiling) lives
 * here. onnxruntime-node's `run` computes on the thread that calls it, so on the event loop every text
 * encoder, UNet step and VAE tile held all other requests for its whole duration.
 *
 * A `generate` task brings a MessagePort: steps go back over it as they happen, an `abort` comes in over it,
 * and a previews policy is asked over it synchronously (the sampler asks before it decodes a preview).
 */
import type { MessagePort } from 'node:worker_threads';
import { loadEngine, type LoadEngineOptions } from '../../engine/index.js';
import type { Engine, GenerateRequest, StepInfo } from '../../engine/types.js';
import { loadOnce } from './load-once.js';
import { reply } from './reply.js';
import { yieldToEventLoop } from './nice.js';

yieldToEventLoop();

export type EngineTask =
  | { kind: 'load'; dir: string; options: LoadEngineOptions }
  | {
      kind: 'generate';
      /** What `load` loaded: a thread piscina started again after a crash loads it before this request. */
      load: { dir: string; options: LoadEngineOptions };
      req: Omit<GenerateRequest, 'onStep' | 'previews' | 'signal'>;
      port: MessagePort;
      steps: boolean;
      /** A fixed policy, or 'ask': the caller's function, asked over the port (answer in `answer`). */
      previews: boolean | 'ask' | undefined;
      /** [0]: 1 once answered, [1]: the answer (1 = preview wanted). */
      answer: Int32Array | undefined;
    }
  | { kind: 'close' };

/** A failure as data: the caller rebuilds the same error class (CvError codes survive the thread boundary). */
export interface EngineFailure {
  failed: { name: string; message: string; code?: number; logDetail?: string };
}

/** How long the sampler waits for the caller's preview decision before going on without one. */
const ASK_TIMEOUT_MS = 2_000;

const engine = loadOnce((dir: string, options: LoadEngineOptions): Promise<Engine> => loadEngine(dir, options));

function failure(err: unknown): EngineFailure {
  const e = err as { name?: string; message?: string; code?: unknown; logDetail?: unknown };
  return {
    failed: {
      name: typeof e?.name === 'string' ? e.name : 'Error',
      message: typeof e?.message === 'string' ? e.message : String(err),
      ...(typeof e?.code === 'number' ? { code: e.code } : {}),
      ...(typeof e?.logDetail === 'string' ? { logDetail: e.logDetail } : {}),
    },
  };
}

export default async function run(task: EngineTask): Promise<unknown> {
  try {
    switch (task.kind) {
      case 'load': {
        const e = await engine.get(task.dir, task.options);
        return { modelName: e.modelName, img2img: e.img2img, nativeSize: e.nativeSize };
      }
      case 'close': {
        await (await engine.take())?.close();
        return {};
      }
      case 'generate':
        return await generate(task);
    }
  } catch (err) {
    return failure(err);
  }
}

async function generate(task: Extract<EngineTask, { kind: 'generate' }>): Promise<unknown> {
  const { port, answer } = task;
  const abort = new AbortController();
  port.on('message', (m: { type: string }) => {
    if (m.type === 'abort') abort.abort();
  });
  const ask = (step: number, totalSteps: number): boolean => {
    if (!answer) return false;
    Atomics.store(answer, 0, 0);
    port.postMessage({ type: 'ask', step, totalSteps });
    // The caller answers from its event loop; this thread waits (it has nothing else to do meanwhile).
    if (Atomics.wait(answer, 0, 0, ASK_TIMEOUT_MS) === 'timed-out') return false;
    return Atomics.load(answer, 1) === 1;
  };
  try {
    const out = await (await engine.get(task.load.dir, task.load.options)).generate({
      ...task.req,
      ...(task.steps ? { onStep: (info: StepInfo) => port.postMessage({ type: 'step', info }) } : {}),
      ...(task.previews === 'ask' ? { previews: ask } : task.previews !== undefined ? { previews: task.previews } : {}),
      signal: abort.signal,
    });
    const { image, ...rest } = out;
    return reply({ image, ms: out.timings.totalMs, generated: rest });
  } finally {
    // After the last step message: the caller returns the result only once it has handled every step.
    port.postMessage({ type: 'done' });
    port.close();
  }
}

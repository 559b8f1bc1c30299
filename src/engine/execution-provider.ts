/** Which onnxruntime execution providers this install can use, and the session options for them. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { EngineError } from '../contract/errors.js';

export type ExecutionProviderName = 'cpu' | 'cuda';

export interface SessionConfig {
  executionProvider: ExecutionProviderName;
  /** Threads inside one operator; 0 lets onnxruntime pick (one a physical core). */
  intraOpNumThreads: number;
  /**
   * Keep activation memory between runs: the arena keeps its peak and a memory pattern (one pre-planned
   * block per input shape) is cached. Worth it for the graph run every step (the UNet). false: the arena
   * stays (turning it off made a VAE decode 5× slower here: every op's buffers were fresh pages) but no
   * pattern is cached and the arena is shrunk after each run, so graphs run once a request (text encoder,
   * decoder) do not hold their peak while the UNet runs. Default true.
   */
  reuseMemory?: boolean;
  /**
   * Let kernels repack constant weights at session creation (MLAS's packed GEMM layouts). Default true.
   * SD-Turbo-class UNet from the graph cache: fp32 7.6 → 0.8 s of CPU to load without it, ~5 % more CPU a
   * step; the int8 copy 3.0 → 0.7 s, no step difference measured. Worth skipping for graphs created again
   * every request (lowMemory); the packed copy replaces the weights it packs, so peak RSS is the same.
   */
  prepack?: boolean;
  /** Graph optimization level; a graph loaded from the optimized-graph cache is already optimized. */
  optimization?: 'all' | 'disabled';
  /** Write the optimized graph here (its weights to `<file>.data` beside it) while loading. */
  saveOptimizedTo?: string;
}

function nativeDir(): string {
  const require = createRequire(import.meta.url);
  const pkgDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
  return path.join(pkgDir, 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * The CUDA provider is not in onnxruntime-node's npm tarball for Linux: its install script fetches
 * libonnxruntime_providers_cuda.so, and installs that skip scripts never get it.
 */
export function cudaAvailability(): { available: boolean; reason: string } {
  const backend = ort.listSupportedBackends().find((b) => b.name === 'cuda');
  if (!backend) return { available: false, reason: `onnxruntime-node has no CUDA build for ${process.platform}/${process.arch}` };
  const lib = path.join(nativeDir(), process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so');
  if (backend.bundled || existsSync(lib)) return { available: true, reason: '' };
  return { available: false, reason: `${lib} is not installed` };
}

export function assertExecutionProvider(ep: ExecutionProviderName): void {
  if (ep === 'cpu') return;
  const { available, reason } = cudaAvailability();
  if (!available) {
    throw new EngineError(
      `CUDA execution provider is unavailable: ${reason}. onnxruntime-node downloads it at install time; ` +
        'on a machine with an NVIDIA GPU, CUDA 12 and cuDNN 9, reinstall with ' +
        '`npm install onnxruntime-node --onnxruntime-node-install=cuda12` (install scripts enabled), ' +
        "or run with executionProvider 'cpu'.",
    );
  }
}

/** Run options for a session built with `reuseMemory: false`: give the arena's free chunks back after the run. */
export const SHRINK_AFTER_RUN: ort.InferenceSession.RunOptions = { extra: { memory: { enable_memory_arena_shrinkage: 'cpu:0' } } };

export function sessionOptions(cfg: SessionConfig): ort.InferenceSession.SessionOptions {
  const reuse = cfg.reuseMemory ?? true;
  const session: Record<string, unknown> = {
    // Idle pool threads sleep rather than spin: between UNet steps the JS thread needs the core (scheduler,
    // guidance), and spinning workers measurably slowed tiny-graph loops on a 2-core host.
    intra_op: { allow_spinning: '0' },
  };
  if (cfg.prepack === false) session.disable_prepacking = '1';
  if (cfg.saveOptimizedTo) {
    // Weights go to a side file (a protobuf cannot hold > 2 GB), aligned so a later load can map them.
    session.optimized_model_external_initializers_file_name = `${path.basename(cfg.saveOptimizedTo)}.data`;
    session.optimized_model_external_initializers_min_size_in_bytes = '1024';
  }
  return {
    executionProviders: cfg.executionProvider === 'cuda' ? [{ name: 'cuda' }, 'cpu'] : ['cpu'],
    graphOptimizationLevel: cfg.optimization ?? 'all',
    intraOpNumThreads: cfg.intraOpNumThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: true,
    enableMemPattern: reuse,
    ...(cfg.saveOptimizedTo ? { optimizedModelFilePath: cfg.saveOptimizedTo } : {}),
    extra: { session },
  };
}

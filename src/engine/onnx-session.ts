/**
 * One ONNX graph of a model: a session created once, its inputs/outputs as the file declares them,
 * and float feeds that convert to the graph's float type (float32 or float16) into reused buffers.
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { EngineError } from '../contract/errors.js';
import { SHRINK_AFTER_RUN, sessionOptions, type SessionConfig } from './execution-provider.js';
import { floatsToHalf, halfToFloats, toHalfBits } from './fp16.js';
import { cacheEntry, cachedGraph, dropEntry, prepareEntry } from './graph-cache.js';
import { externalDataLocations, weightsFirstInFile } from './onnx-inspect.js';

export interface ValueInfo {
  name: string;
  type: ort.Tensor.Type;
  /** Numbers for fixed dims, names for symbolic ones. */
  shape: ReadonlyArray<number | string>;
}

/** Files this small or smaller are parsed up front to check their external data files exist. */
const INSPECT_LIMIT = 64 * 1024 * 1024;

async function checkFiles(file: string): Promise<void> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    throw new EngineError(`model file missing: ${file}`, { cause: err });
  }
  if (size === 0) throw new EngineError(`model file is empty: ${file}`);
  if (size > INSPECT_LIMIT) return;
  const fh = await open(file, 'r');
  let bytes: Buffer;
  try {
    bytes = await fh.readFile();
  } finally {
    await fh.close();
  }
  let locations: string[];
  try {
    locations = externalDataLocations(bytes);
  } catch (err) {
    throw new EngineError(`model file is corrupt (not an ONNX protobuf): ${file}: ${(err as Error).message}`, { cause: err });
  }
  for (const loc of locations) {
    const data = path.resolve(path.dirname(file), loc);
    try {
      await stat(data);
    } catch (err) {
      throw new EngineError(`external data file missing: ${data} (referenced by ${file})`, { cause: err });
    }
  }
}

function runOptionsFor(cfg: SessionConfig): ort.InferenceSession.RunOptions | undefined {
  return cfg.reuseMemory === false && cfg.executionProvider === 'cpu' ? SHRINK_AFTER_RUN : undefined;
}

export class OnnxGraph {
  readonly inputs: ReadonlyMap<string, ValueInfo>;
  readonly outputs: ReadonlyMap<string, ValueInfo>;

  /** The live session; null after `unload` until the next run (or `ensureLoaded`) creates it again. */
  private live: ort.InferenceSession | null;
  private reloading: Promise<ort.InferenceSession> | null = null;
  /** Runs in progress: `unload` waits for none. */
  private active = 0;
  /** How this graph's session was created, to create it again after `unload`. */
  private reopen: (() => Promise<OnnxGraph>) | null = null;
  /** Sessions created again after `unload`. */
  reloads = 0;

  private constructor(
    readonly file: string,
    session: ort.InferenceSession,
    /** Where the session came from: the file itself, or the optimized-graph cache. */
    readonly source: 'file' | 'cache',
    readonly loadMs: number,
    private readonly runOptions: ort.InferenceSession.RunOptions | undefined,
  ) {
    this.live = session;
    const toInfo = (m: ort.InferenceSession.ValueMetadata): ValueInfo =>
      m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name, type: 'float32', shape: [] };
    this.inputs = new Map(session.inputMetadata.map((m) => [m.name, toInfo(m)]));
    this.outputs = new Map(session.outputMetadata.map((m) => [m.name, toInfo(m)]));
  }

  /**
   * Opens `file` (external data resolves next to it). Missing or corrupt files → EngineError naming them.
   * With `cacheDir`, the optimized graph is saved there on first load and loaded from there afterwards.
   */
  static async load(file: string, cfg: SessionConfig, cacheDir?: string): Promise<OnnxGraph> {
    const graph = await OnnxGraph.open(file, cfg, cacheDir);
    graph.reopen = () => OnnxGraph.open(file, cfg, cacheDir);
    return graph;
  }

  private static async open(file: string, cfg: SessionConfig, cacheDir?: string): Promise<OnnxGraph> {
    const t0 = performance.now();
    await checkFiles(file);
    if (cacheDir) {
      const cached = await OnnxGraph.loadCached(file, cfg, cacheDir, t0);
      if (cached) return cached;
    }
    try {
      return new OnnxGraph(file, await ort.InferenceSession.create(file, sessionOptions(cfg)), 'file', performance.now() - t0, runOptionsFor(cfg));
    } catch (err) {
      throw new EngineError(`cannot load ONNX model ${file}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The cached optimized graph, or a first load that writes it; null when the cache cannot be used. */
  private static async loadCached(file: string, cfg: SessionConfig, cacheDir: string, t0: number): Promise<OnnxGraph | null> {
    let entry: string;
    try {
      entry = await cacheEntry(cacheDir, file, cfg);
    } catch {
      return null;
    }
    const saved = await cachedGraph(entry);
    if (saved) {
      try {
        const session = await ort.InferenceSession.create(saved, sessionOptions({ ...cfg, optimization: 'disabled' }));
        return new OnnxGraph(file, session, 'cache', performance.now() - t0, runOptionsFor(cfg));
      } catch {
        // A damaged entry (disk full, killed mid-copy by hand): rebuild it below.
        await dropEntry(entry);
      }
    }
    let scratch: Awaited<ReturnType<typeof prepareEntry>>;
    try {
      scratch = await prepareEntry(entry);
    } catch {
      return null; // read-only or missing cache folder: load without it
    }
    try {
      const session = await ort.InferenceSession.create(file, sessionOptions({ ...cfg, saveOptimizedTo: scratch.file }));
      await weightsFirstInFile(scratch.file);
      await scratch.commit();
      return new OnnxGraph(file, session, 'file', performance.now() - t0, runOptionsFor(cfg));
    } catch {
      // Saving failed (disk full, a graph ORT cannot serialize): the caller loads it the plain way, which
      // also reports a genuinely broken file.
      await scratch.abandon();
      return null;
    }
  }

  input(name: string): ValueInfo {
    const v = this.inputs.get(name);
    if (!v) throw new EngineError(`${this.file} has no input "${name}" (inputs: ${[...this.inputs.keys()].join(', ')})`);
    return v;
  }

  output(name: string): ValueInfo {
    const v = this.outputs.get(name);
    if (!v) throw new EngineError(`${this.file} has no output "${name}" (outputs: ${[...this.outputs.keys()].join(', ')})`);
    return v;
  }

  /** First output's name when the expected one is absent (some exports rename outputs). */
  outputName(preferred: string): string {
    if (this.outputs.has(preferred)) return preferred;
    const first = this.outputs.keys().next();
    if (first.done) throw new EngineError(`${this.file} declares no outputs`);
    return first.value;
  }

  /** Total wall time spent inside `run` so far (lets benchmarks separate mengtu's own time from ORT's). */
  runMs = 0;

  async run(feeds: Record<string, ort.Tensor>, fetch: readonly string[]): Promise<Record<string, ort.Tensor>> {
    this.active++;
    try {
      const session = await this.ensureLoaded();
      const t0 = performance.now();
      try {
        return (await session.run(feeds, fetch as string[], this.runOptions ?? {})) as Record<string, ort.Tensor>;
      } catch (err) {
        throw new EngineError(`inference failed in ${this.file}: ${(err as Error).message}`, { cause: err });
      } finally {
        this.runMs += performance.now() - t0;
      }
    } finally {
      this.active--;
    }
  }

  /** The underlying session (benchmarks compare against bare `run` calls on it); throws while unloaded. */
  get session(): ort.InferenceSession {
    if (!this.live) throw new EngineError(`${this.file} is unloaded (ensureLoaded() brings it back)`);
    return this.live;
  }

  /** The session, created again (from the graph cache when one is used) if `unload` released it. */
  ensureLoaded(): Promise<ort.InferenceSession> {
    if (this.live) return Promise.resolve(this.live);
    if (!this.reopen) return Promise.reject(new EngineError(`${this.file} was released`));
    this.reloading ??= this.reopen()
      .then((g) => {
        this.live = g.live;
        this.reloads++;
        return g.live!;
      })
      .finally(() => {
        this.reloading = null;
      });
    return this.reloading;
  }

  /**
   * Gives the session's weights and buffers back while keeping its signature; the next `run` creates it
   * again. Skipped while a run or a reload is in progress (that caller needs the session).
   */
  async unload(): Promise<void> {
    if (this.active > 0 || this.reloading || !this.live) return;
    const s = this.live;
    this.live = null;
    await s.release();
  }

  async release(): Promise<void> {
    this.reopen = null;
    await this.reloading?.catch(() => undefined);
    const s = this.live;
    this.live = null;
    await s?.release();
  }
}

/**
 * A float input fed from Float32Array data: float32 graphs read the buffer directly, float16 graphs get
 * it converted into a reused half buffer. Same dims every run → the tensor object is reused too.
 */
export class FloatFeed {
  private readonly half: Uint16Array | null;
  readonly tensor: ort.Tensor;
  readonly data: Float32Array;

  constructor(type: ort.Tensor.Type, dims: readonly number[]) {
    if (type !== 'float32' && type !== 'float16') throw new EngineError(`expected a float input, the graph declares ${type}`);
    const n = dims.reduce((a, b) => a * b, 1);
    this.data = new Float32Array(n);
    this.half = type === 'float16' ? new Uint16Array(n) : null;
    this.tensor = this.half ? new ort.Tensor('float16', this.half, dims) : new ort.Tensor('float32', this.data, dims);
  }

  /** Call after writing `data` and before running. */
  sync(): ort.Tensor {
    if (this.half) floatsToHalf(this.data, this.half);
    return this.tensor;
  }
}

/** A float output as float32 (converted from float16 if need be; float32 outputs are not copied). */
export function readFloats(t: ort.Tensor, into?: Float32Array): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') return halfToFloats(t.data as ArrayLike<number>, into);
  throw new EngineError(`expected a float output, got ${t.type}`);
}

/** A tensor filled with one number (the UNet's timestep), in whatever numeric type the graph declares. */
export class ScalarFeed {
  readonly tensor: ort.Tensor;
  private readonly set: (v: number) => void;

  constructor(type: ort.Tensor.Type, dims: readonly number[]) {
    const n = dims.reduce((a, b) => a * b, 1);
    switch (type) {
      case 'float32': {
        const d = new Float32Array(n);
        this.tensor = new ort.Tensor('float32', d, dims);
        this.set = (v) => d.fill(v);
        break;
      }
      case 'float16': {
        const d = new Uint16Array(n);
        this.tensor = new ort.Tensor('float16', d, dims);
        this.set = (v) => d.fill(toHalfBits(v));
        break;
      }
      case 'int64': {
        const d = new BigInt64Array(n);
        this.tensor = new ort.Tensor('int64', d, dims);
        this.set = (v) => d.fill(BigInt(Math.round(v)));
        break;
      }
      case 'int32': {
        const d = new Int32Array(n);
        this.tensor = new ort.Tensor('int32', d, dims);
        this.set = (v) => d.fill(Math.round(v));
        break;
      }
      default:
        throw new EngineError(`unsupported timestep type ${type}`);
    }
  }

  fill(value: number): ort.Tensor {
    this.set(value);
    return this.tensor;
  }
}

/** Token ids as the text encoder declares them (int32 in diffusers exports, int64 in some others). */
export function idsTensor(type: ort.Tensor.Type, ids: Int32Array, dims: readonly number[]): ort.Tensor {
  if (type === 'int32') return new ort.Tensor('int32', ids, dims);
  if (type === 'int64') return new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), dims);
  throw new EngineError(`unsupported input_ids type ${type}`);
}

/** Dim `i` of a declared shape is symbolic (any size accepted). */
export function isDynamic(info: ValueInfo, i: number): boolean {
  const d = info.shape[i];
  return d === undefined || typeof d === 'string' || d < 0;
}

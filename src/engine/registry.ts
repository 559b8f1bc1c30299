/**
 * Named models and where they live. A name is either a registry entry (`sd-turbo`), a hub repo
 * (`owner/repo`, installed as `<models>/owner--repo`) or a local directory used as-is.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { EngineError } from '../contract/errors.js';
import { modelsDir, withHome } from './home.js';
import { createLogReporter, pullRepo, readManifest, type ProgressFn, type PullOptions } from './download/index.js';
import type { SchedulerName } from './types.js';

export interface ModelDefaults {
  steps: number;
  guidanceScale: number;
  scheduler?: SchedulerName;
  size: number;
}

export interface RegistryEntry {
  name: string;
  description: string;
  /** Hub repo; absent for models built locally. */
  repo?: string;
  revision: string;
  subfolder?: string;
  /** 'pipeline' (default): a whole text-to-image model; 'decoder': a latent decoder such as TAESD. */
  kind?: 'pipeline' | 'decoder';
  /** Generation defaults (pipelines only). */
  defaults?: ModelDefaults;
  /** Whether the repo's existence and layout were checked when the entry was written (see docs/models.md). */
  verified: boolean;
  /** The text encoder reads Chinese natively: prompts reach it untranslated (default: English-only CLIP). */
  textEncoderReadsChinese?: boolean;
}

export const REGISTRY: readonly RegistryEntry[] = [
  {
    name: 'sd-turbo',
    description: 'SD-Turbo (stabilityai/sd-turbo) ONNX export; 1-step, no CFG, 512×512',
    repo: 'jdp8/sd-turbo-onnx',
    revision: 'main',
    defaults: { steps: 1, guidanceScale: 0, scheduler: 'euler', size: 512 },
    verified: true,
  },
  {
    name: 'lcm-dreamshaper-v7',
    description: 'LCM Dreamshaper v7 (SimianLuo/LCM_Dreamshaper_v7) ONNX export; 4-step LCM',
    repo: 'TheyCallMeHex/LCM-Dreamshaper-V7-ONNX',
    revision: 'main',
    // Its UNet takes the guidance scale as an embedding (timestep_cond), not as CFG: 8 is the model card's value.
    defaults: { steps: 4, guidanceScale: 8, scheduler: 'lcm', size: 512 },
    verified: true,
  },
  {
    name: 'sd15',
    description: 'Stable Diffusion 1.5 ONNX export (onnx-community); 20 steps, CFG 7.5',
    repo: 'onnx-community/stable-diffusion-v1-5-ONNX',
    revision: 'main',
    defaults: { steps: 20, guidanceScale: 7.5, scheduler: 'euler_a', size: 512 },
    verified: true,
  },
  {
    name: 'sdxl-turbo',
    description: 'SDXL-Turbo (stabilityai/sdxl-turbo) ONNX export by optimum, fp32; 1-step, no CFG; two text encoders, 1024² native UNet',
    repo: 'stabilityai/sdxl-turbo',
    revision: 'main',
    // Distilled at 512² (the model card's size); the UNet is SDXL's, so Jimeng's 1024² renders natively too.
    // The repo's euler_a config (EulerAncestralDiscreteScheduler, trailing) is what the model card runs.
    defaults: { steps: 1, guidanceScale: 0, scheduler: 'euler_a', size: 512 },
    // Seen in the hub listing (commit fbda352, optimum's export, #15): unet/model.onnx (7.29 MB) + model.onnx_data
    // (10.3 GB), text_encoder_2/model.onnx (1.04 MB) + model.onnx_data (2.78 GB), vae_decoder/model.onnx (198 MB)
    // + config.json, tokenizer_2/vocab.json + merges.txt, folders text_encoder/, tokenizer/, scheduler/, model_index.json.
    verified: true,
  },
  {
    name: 'sdxl',
    description: 'Stable Diffusion XL base 1.0 (stabilityai/stable-diffusion-xl-base-1.0) ONNX export by optimum, fp32; 1024², CFG',
    repo: 'stabilityai/stable-diffusion-xl-base-1.0',
    revision: 'main',
    defaults: { steps: 25, guidanceScale: 5, scheduler: 'euler', size: 1024 },
    // Seen in the hub listing (commit 51f7329, "onnx-model" #18): unet/model.onnx (7.29 MB) + model.onnx_data (10.3 GB),
    // text_encoder_2/model.onnx (1.04 MB) + model.onnx_data (2.78 GB), vae_decoder/model.onnx (198 MB) + config.json,
    // folders text_encoder/, tokenizer/, tokenizer_2/, scheduler/, model_index.json.
    verified: true,
  },
  {
    name: 'taesd',
    description: 'TAESD tiny decoder for SD 1.x/2.x latents (madebyollin/taesd as diffusers AutoencoderTiny ONNX): step previews, --vae taesd',
    repo: 'deinferno/taesd-onnx',
    revision: 'main',
    kind: 'decoder',
    // vae_encoder/model.onnx (4.91 MB) and the vae_decoder/ folder seen in the hub listing; the decoder file's
    // name inside vae_decoder/ was not listed (the export script writes model.onnx there).
    verified: false,
  },
  {
    name: 'taesdxl',
    description: 'TAESDXL tiny decoder for SDXL latents (madebyollin/taesdxl, ONNX): step previews, --vae taesd',
    repo: 'julienkay/taesdxl',
    revision: 'main',
    kind: 'decoder',
    // vae_decoder/ and vae_encoder/ folders seen in the hub listing; their files were not.
    verified: false,
  },
  {
    name: 'tiny',
    description: 'tiny random-weight model with SD signatures, built locally (tests, benchmarks)',
    revision: 'main',
    defaults: { steps: 4, guidanceScale: 7.5, scheduler: 'euler', size: 64 },
    verified: true,
  },
  {
    name: 'tiny-sdxl',
    description: 'tiny random-weight model with SDXL signatures (two text encoders, text_embeds, time_ids), built locally',
    revision: 'main',
    defaults: { steps: 4, guidanceScale: 5, scheduler: 'euler', size: 1024 },
    verified: true,
  },
];

export interface ResolvedModel {
  name: string;
  dir: string;
  defaults: ModelDefaults;
  kind: 'pipeline' | 'decoder';
}

/** Used for a registry pipeline without its own defaults (none today) and for decoders, which need none. */
const GENERIC_DEFAULTS: ModelDefaults = { steps: 20, guidanceScale: 7.5, size: 512 };

export interface ResolveOptions {
  pull?: boolean;
  onProgress?: ProgressFn;
  log?: (msg: string) => void;
  /** Hub overrides for pulls (default: HF_ENDPOINT / HF_TOKEN / "main"). */
  revision?: string;
  endpoint?: string;
  /** Bearer token for gated repos (default: HF_TOKEN). */
  token?: string;
  /** The models' home (the runtime's cfg.engine.home); default MENGTU_HOME from `env`, else ~/.cache/mengtu. */
  home?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Test hook for the downloader's retry pacing. */
  retryDelayMs?: number;
}

const REPO_RE = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

export function findEntry(nameOrRepo: string): RegistryEntry | undefined {
  return REGISTRY.find((e) => e.name === nameOrRepo) ?? REGISTRY.find((e) => e.repo === nameOrRepo);
}

/** `<models>/<name>` for registry entries, `<models>/owner--repo` for bare repos. */
export function installDir(nameOrRepo: string, env: NodeJS.ProcessEnv = process.env): string {
  const entry = findEntry(nameOrRepo);
  if (entry) return path.join(modelsDir(env), entry.name);
  if (!REPO_RE.test(nameOrRepo)) {
    throw new EngineError(`unknown model "${nameOrRepo}": not a registry name (${REGISTRY.map((e) => e.name).join(', ')}), an owner/repo, or a model directory`);
  }
  return path.join(modelsDir(env), nameOrRepo.replace('/', '--'));
}

async function isDir(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** The registry entry an int8 copy was made from (its defaults apply), per `mengtu-quantized.json`. */
async function quantizedFrom(dir: string): Promise<RegistryEntry | undefined> {
  try {
    const q = JSON.parse(await fs.readFile(path.join(dir, 'mengtu-quantized.json'), 'utf8')) as { source?: unknown };
    return typeof q.source === 'string' ? findEntry(q.source) : undefined;
  } catch {
    return undefined;
  }
}

async function isFile(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function isModelDir(dir: string): Promise<boolean> {
  return (await isDir(path.join(dir, 'unet'))) && (await isDir(path.join(dir, 'text_encoder')));
}

/** Defaults for a model not in the registry, guessed from its scheduler config and name. */
export async function inferDefaults(dir: string, name: string): Promise<ModelDefaults> {
  let cls: string | undefined;
  try {
    const cfg = JSON.parse(await fs.readFile(path.join(dir, 'scheduler', 'scheduler_config.json'), 'utf8')) as { _class_name?: unknown };
    if (typeof cfg._class_name === 'string') cls = cfg._class_name;
  } catch {
    // No readable config: the engine will report it; defaults stay generic.
  }
  // SDXL-class (a second text encoder): 1024² native, diffusers' SDXL guidance of 5.
  const sdxl = await isDir(path.join(dir, 'text_encoder_2'));
  if (cls === 'LCMScheduler' || /lcm/i.test(name)) return { steps: 4, guidanceScale: 1, scheduler: 'lcm', size: sdxl ? 1024 : 512 };
  if (/turbo/i.test(name)) return { steps: 1, guidanceScale: 0, scheduler: 'euler', size: 512 };
  return sdxl ? { steps: 25, guidanceScale: 5, size: 1024 } : { steps: 20, guidanceScale: 7.5, size: 512 };
}

export async function pullModel(
  nameOrRepo: string,
  opts: ResolveOptions = {},
): Promise<ResolvedModel> {
  const env = withHome(opts.home, opts.env ?? process.env);
  const entry = findEntry(nameOrRepo);
  if (entry && !entry.repo) {
    // Built, not downloaded.
    opts.log?.(`building ${entry.name} locally`);
    // Imported here: the ONNX graph builder is heavy and only the tiny model needs it (keeps `--help` fast).
    const { ensureTinyModel } = await import('./tiny/index.js');
    const dir = await ensureTinyModel(env, entry.name === 'tiny-sdxl' ? 'tiny-sdxl' : 'tiny');
    return { name: entry.name, dir, defaults: entry.defaults ?? GENERIC_DEFAULTS, kind: 'pipeline' };
  }
  const dir = installDir(nameOrRepo, env);
  const repo = entry?.repo ?? nameOrRepo;
  const revision = opts.revision ?? entry?.revision ?? 'main';
  opts.log?.(`pulling ${repo}@${revision} into ${dir}`);
  const pullOpts: PullOptions = { targetDir: dir };
  if (opts.endpoint !== undefined) pullOpts.endpoint = opts.endpoint;
  if (opts.token !== undefined) pullOpts.token = opts.token;
  // Without a progress callback, a logger gets periodic progress lines (server logs, no TTY bars).
  if (opts.onProgress) pullOpts.onProgress = opts.onProgress;
  else if (opts.log) pullOpts.onProgress = createLogReporter(opts.log).onProgress;
  if (opts.log) pullOpts.log = opts.log;
  if (opts.signal) pullOpts.signal = opts.signal;
  if (opts.retryDelayMs !== undefined) pullOpts.retryDelayMs = opts.retryDelayMs;
  await pullRepo({ repo, revision, ...(entry?.subfolder ? { subfolder: entry.subfolder } : {}), ...(entry?.kind === 'decoder' ? { layout: 'decoder' as const } : {}) }, dir, pullOpts);
  const name = entry?.name ?? nameOrRepo;
  if (entry?.kind === 'decoder') return { name, dir, defaults: GENERIC_DEFAULTS, kind: 'decoder' };
  return { name, dir, defaults: entry?.defaults ?? (await inferDefaults(dir, name)), kind: 'pipeline' };
}

/**
 * Where a model is and how to run it. Local directories are used as they are; names and repos are
 * looked up under the models directory and pulled when missing (unless `pull: false`).
 */
export async function resolveModel(nameOrPathOrRepo: string, opts: ResolveOptions = {}): Promise<ResolvedModel> {
  const env = withHome(opts.home, opts.env ?? process.env);
  const entry = findEntry(nameOrPathOrRepo);
  if (entry?.kind === 'decoder') {
    throw new EngineError(`${entry.name} is a latent decoder, not a text-to-image model: pull it and it is used for previews and with --vae taesd`);
  }
  const looksLikePath = !entry && (path.isAbsolute(nameOrPathOrRepo) || nameOrPathOrRepo.startsWith('.') || !REPO_RE.test(nameOrPathOrRepo));
  // A bare name of a folder in the models directory: a copy made there, e.g. `mengtu models quantize` output.
  const local = !entry && /^[\w.-]+$/.test(nameOrPathOrRepo) && !nameOrPathOrRepo.startsWith('.') ? path.join(modelsDir(env), nameOrPathOrRepo) : null;
  if (local && !(await isDir(path.resolve(nameOrPathOrRepo))) && (await isModelDir(local))) {
    const manifest = await readManifest(local);
    const known = (manifest ? findEntry(manifest.repo) : undefined) ?? (await quantizedFrom(local));
    return { name: nameOrPathOrRepo, dir: local, defaults: known?.defaults ?? (await inferDefaults(local, manifest?.repo ?? nameOrPathOrRepo)), kind: 'pipeline' };
  }
  if (!entry && (looksLikePath || (await isModelDir(nameOrPathOrRepo)))) {
    const dir = path.resolve(nameOrPathOrRepo);
    const bare = !/[\\/]/.test(nameOrPathOrRepo);
    if (bare && !(await isDir(dir))) {
      throw new EngineError(`unknown model "${nameOrPathOrRepo}": not a registry name (${REGISTRY.map((e) => e.name).join(', ')}), an owner/repo, or a model directory`);
    }
    if (!(await isModelDir(dir))) {
      throw new EngineError(`${dir} is not a model directory (expected unet/ and text_encoder/ in the diffusers ONNX layout)`);
    }
    const manifest = await readManifest(dir);
    const known = manifest ? findEntry(manifest.repo) : undefined;
    return { name: dir, dir, defaults: known?.defaults ?? (await inferDefaults(dir, manifest?.repo ?? path.basename(dir))), kind: 'pipeline' };
  }
  if (entry && !entry.repo) {
    if (opts.pull === false) {
      const dir = path.join(modelsDir(env), entry.name);
      if (!(await isModelDir(dir))) throw new EngineError(`model ${entry.name} is not built yet; run \`mengtu models pull ${entry.name}\``);
      return { name: entry.name, dir, defaults: entry.defaults ?? GENERIC_DEFAULTS, kind: 'pipeline' };
    }
    return pullModel(entry.name, opts);
  }
  const dir = installDir(nameOrPathOrRepo, env);
  const name = entry?.name ?? nameOrPathOrRepo;
  if ((await readManifest(dir)) && (await isModelDir(dir))) {
    return { name, dir, defaults: entry?.defaults ?? (await inferDefaults(dir, name)), kind: 'pipeline' };
  }
  if (opts.pull === false) {
    throw new EngineError(`model ${name} is not installed (looked in ${dir}); run \`mengtu models pull ${nameOrPathOrRepo}\` or pass a model directory`);
  }
  return pullModel(nameOrPathOrRepo, opts);
}

export interface ListedModel {
  name: string;
  repo: string | undefined;
  dir: string;
  installed: boolean;
  /** Bytes on disk (0 when not installed). */
  sizeBytes: number;
  defaults: ModelDefaults | undefined;
  inRegistry: boolean;
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else if (e.isFile()) total += (await fs.stat(p)).size;
  }
  return total;
}

/** Registry entries (installed or not) and anything else found in the models directory. */
export async function listModels(env: NodeJS.ProcessEnv = process.env): Promise<ListedModel[]> {
  const root = modelsDir(env);
  const out: ListedModel[] = [];
  const seen = new Set<string>();
  for (const e of REGISTRY) {
    const dir = path.join(root, e.name);
    seen.add(e.name);
    const complete = e.kind === 'decoder' ? await isFile(path.join(dir, 'vae_decoder', 'model.onnx')) : await isModelDir(dir);
    const installed = complete && (e.repo === undefined || (await readManifest(dir)) !== null);
    out.push({ name: e.name, repo: e.repo, dir, installed, sizeBytes: installed ? await dirSize(dir) : 0, defaults: e.defaults, inRegistry: true });
  }
  let names: string[] = [];
  try {
    names = (await fs.readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
  } catch {
    // No models directory yet.
  }
  for (const n of names.sort()) {
    if (seen.has(n)) continue;
    const dir = path.join(root, n);
    const manifest = await readManifest(dir);
    const repo = manifest?.repo ?? (n.includes('--') ? n.replace('--', '/') : undefined);
    const installed = (await isModelDir(dir)) && manifest !== null;
    out.push({
      name: repo ?? n,
      repo,
      dir,
      installed,
      sizeBytes: await dirSize(dir),
      defaults: installed ? await inferDefaults(dir, repo ?? n) : undefined,
      inRegistry: false,
    });
  }
  return out;
}

/** Deletes an installed model; returns the directory removed. Only ever touches the models directory. */
export async function removeModel(nameOrRepo: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const root = path.resolve(modelsDir(env));
  const dir = path.resolve(installDir(nameOrRepo, env));
  if (path.dirname(dir) !== root) throw new EngineError(`refusing to remove ${dir}: not inside ${root}`);
  if (!(await isDir(dir))) throw new EngineError(`model ${nameOrRepo} is not installed (no ${dir})`);
  await fs.rm(dir, { recursive: true, force: true });
  return dir;
}

/** The engine's public surface: what the pipeline asks of a diffusion model. */

export type SchedulerName = 'euler' | 'euler_a' | 'ddim' | 'lcm';

/** The model's own VAE, or TAESD (the tiny decoder: much faster, slightly softer detail). */
export type DecoderName = 'vae' | 'taesd';

export interface GenerateRequest {
  prompt: string;
  negativePrompt?: string;
  /** Requested output size; the engine renders the next multiple of 8 and resizes to exactly this. */
  width: number;
  height: number;
  /** 0 … 4294967295. Callers resolve -1 to a concrete seed before calling (see resolveSeed). */
  seed: number;
  /** Defaults come from the model's profile (e.g. 1 for SD-Turbo, 4 for LCM, 20 for SD 1.5). */
  steps?: number;
  guidanceScale?: number;
  scheduler?: SchedulerName;
  /** Called after each denoising step; `latents` lets callers build previews. */
  onStep?: (info: StepInfo) => void;
  /**
   * Attach a decoded preview (TAESD when installed, else the linear map) to each step but the last (`true`),
   * or to the steps this asks for: called once per step before decoding, so a caller that shows one preview
   * per interval does not pay a TAESD decode on every step.
   */
  previews?: boolean | ((step: number, totalSteps: number) => boolean);
  /** The final image's decoder; default: the engine's (see LoadEngineOptions.decoder). */
  decoder?: DecoderName;
  /** Image-to-image: start from this picture instead of pure noise (needs the model's vae_encoder). */
  init?: InitImage;
  signal?: AbortSignal;
}

export interface InitImage {
  /** Any size: it is resized to the render size (width × height rounded up to a multiple of 8). */
  image: RawImage;
  /**
   * 0…1, how much of the schedule runs over it (diffusers' `strength`): 1 starts from noise at the top of
   * the schedule, 0 returns the input's VAE round trip. Without `steps`, the step count is raised so at
   * least one step runs (SD-Turbo's 1 step becomes 2 at strength 0.5).
   */
  strength: number;
  /** The encoder's latent distribution as its mean (default) or a draw from it with the seed. */
  latents?: 'mean' | 'sample';
}

export interface StepInfo {
  step: number; // 1-based
  totalSteps: number;
  timestep: number;
  elapsedMs: number;
  /** x̂₀ after this step: the model's estimate of the clean latents, for previews (see preview.ts). */
  latents: Latents;
  /** With `previews`: x̂₀ decoded (full size with TAESD, latent size with the linear map). */
  preview?: RawImage;
}

/** Which published latent space a model uses: it picks the preview factors and TAESD variant. */
export type LatentFormat = 'sd' | 'sdxl';

/** One image's latents, planar [channels, height, width], in the model's (scaled) latent space. */
export interface Latents {
  format: LatentFormat;
  channels: number;
  height: number;
  width: number;
  data: Float32Array;
}

/** Raw RGBA pixels, row-major, 4 bytes a pixel. The currency between pipeline stages. */
export interface RawImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export interface EngineTimings {
  textEncoderMs: number;
  unetMs: number;
  unetMsPerStep: number;
  vaeMs: number;
  /** Image-to-image: resizing and encoding the input picture. */
  encodeMs?: number;
  totalMs: number;
}

export interface GeneratedImage {
  image: RawImage;
  seed: number;
  steps: number;
  guidanceScale: number;
  negativePrompt: string;
  scheduler: SchedulerName;
  decoder: DecoderName;
  /** Image-to-image: the strength used and the steps actually run (of `steps`); null for text-to-image. */
  img2img: { strength: number; stepsRun: number } | null;
  timings: EngineTimings;
}

export interface Engine {
  /** Registry name or directory of the loaded model. */
  readonly modelName: string;
  /** Whether the model has a vae_encoder, so requests with `init` can run (known at load time). */
  readonly img2img: boolean;
  /**
   * The side the model was trained at (SD 1.x 512, SD 2.x 768, SDXL 1024), from unet/config.json; SDXL-class
   * models draw Jimeng's use_sr sizes directly (see the generate stage). Absent: unknown.
   */
  readonly nativeSize?: number;
  generate(req: GenerateRequest): Promise<GeneratedImage>;
  close(): Promise<void>;
}

/** The body of `mengtu generate`, loaded only when the command runs (it pulls in the engine and pipeline). */
import cliProgress from 'cli-progress';
import { readFile, writeFile } from 'node:fs/promises';
import { parseCVProcessRequest, REQ_KEY_I2I_V30, REQ_KEY_V21, type CVProcessRequest } from '../contract/cvprocess.js';
import { parseI2iV30Request } from '../contract/jimeng-v3.js';
import { newRequestId } from '../gateway/envelope.js';
import { loadConfig } from '../runtime/config.js';
import { createRuntime } from '../runtime/create.js';
import { createLogger } from '../runtime/server.js';
import { outputPaths, type GenerateOpts } from './generate.js';

/** The request body the options describe (the same fields a CVProcess caller would send). */
export function requestBody(prompt: string, o: GenerateOpts, seed: number | undefined): Record<string, unknown> {
  const wantsLogo = o.logo === true || [o.logoPosition, o.logoLanguage, o.logoOpacity, o.logoText].some((v) => v !== undefined);
  return {
    req_key: REQ_KEY_V21,
    prompt,
    seed,
    width: o.width,
    height: o.height,
    use_sr: o.sr,
    use_pre_llm: o.preLlm,
    negative_prompt: o.negative,
    steps: o.steps,
    guidance_scale: o.guidance,
    scheduler: o.scheduler,
    logo_info: wantsLogo
      ? { add_logo: true, position: o.logoPosition, language: o.logoLanguage, opacity: o.logoOpacity, logo_text_content: o.logoText }
      : undefined,
  };
}

/** With --image: the jimeng_i2i_v30 body (the same rules and limits as the API). */
export function imageRequestBody(prompt: string, o: GenerateOpts, seed: number | undefined, image: Buffer): Record<string, unknown> {
  return {
    req_key: REQ_KEY_I2I_V30,
    prompt,
    seed,
    binary_data_base64: [image.toString('base64')],
    scale: o.strength,
    width: o.width,
    height: o.height,
    negative_prompt: o.negative,
    steps: o.steps,
    guidance_scale: o.guidance,
    scheduler: o.scheduler,
  };
}

export async function runGenerate(prompt: string, o: GenerateOpts): Promise<void> {
  const cfg = loadConfig({ engine: { model: o.model, threads: o.threads, vae: o.vae, lowMemory: o.lowMemory } }, process.env, { server: { logLevel: 'warn' } });
  const log = createLogger(cfg);
  const files = outputPaths(o.output, o.count);
  // Several images: consecutive seeds from a given one, else each its own random seed.
  const input = o.image ? await readFile(o.image) : null;
  if (o.strength !== undefined && !input) throw new Error('--strength needs --image');
  const seedOf = (i: number): number | undefined => (o.seed === undefined || o.seed === -1 ? o.seed : o.seed + i);
  const requests: CVProcessRequest[] = files.map((_, i) =>
    input ? parseI2iV30Request(imageRequestBody(prompt, o, seedOf(i), input)) : parseCVProcessRequest(requestBody(prompt, o, seedOf(i))),
  );
  const bar = new cliProgress.SingleBar(
    { format: 'image {image} [{bar}] {value}/{total} steps | {duration_formatted} elapsed | ETA {eta_formatted}', hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let image = 0;
  let started = false;
  const runtime = await createRuntime({ ...cfg, engine: { ...cfg.engine, workers: 1, maxQueue: 1 } }, { log, hosting: false, role: 'embedded', oneShot: true });
  const stopProgress = runtime.queue.onProgress((e) => {
    if (e.stage !== 'generate' || e.totalSteps === 0) return;
    if (!started) {
      bar.start(e.totalSteps, 0, { image: `${image}/${files.length}` });
      started = true;
    }
    bar.update(e.step, { image: `${image}/${files.length}` });
  });
  try {
    await runtime.host.load();
    for (const [i, request] of requests.entries()) {
      image = i + 1;
      const { job } = await runtime.jobs.process(request, { requestId: newRequestId(), accessKey: 'cli' });
      if (started) bar.stop();
      started = false;
      const png = job.encoded[0];
      if (!png) throw new Error('the pipeline produced no image');
      await writeFile(files[i]!, png);
      process.stdout.write(
        `${files[i]}: ${job.outputWidth}x${job.outputHeight}, seed ${job.seed}, ${job.steps} steps, guidance ${job.guidanceScale}, ` +
          `${job.scheduler ?? 'default'} | ${Object.entries(job.stageMs).map(([k, v]) => `${k} ${Math.round(v)}ms`).join(', ')}\n`,
      );
    }
  } finally {
    if (started) bar.stop();
    stopProgress();
    await runtime.close();
  }
}

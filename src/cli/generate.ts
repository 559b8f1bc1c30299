/** `mengtu generate "<prompt>" -o out.png`: the whole pipeline in-process, no server. */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { parseCVProcessRequest, REQ_KEY_V21 } from '../contract/cvprocess.js';
import { CvError } from '../contract/errors.js';
import { newRequestId } from '../gateway/envelope.js';
import { loadConfig } from '../runtime/config.js';
import { EngineHost } from '../runtime/engine-host.js';
import { Generator } from '../runtime/generator.js';
import { createPipelineServices } from '../runtime/services.js';
import { createLogger } from '../runtime/server.js';

interface GenerateOpts {
  output: string;
  seed?: string;
  width?: string;
  height?: string;
  model?: string;
  sr: boolean;
  preLlm: boolean;
  threads?: string;
  vae?: string;
}

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new CvError(50204, `Invalid Param Type: ${name} must be an integer`);
  return n;
}

export function registerGenerateCommand(program: Command): void {
  program
    .command('generate')
    .description('generate one image in-process (no server needed)')
    .argument('<prompt>', 'the prompt; quoted text inside it is rendered as typography')
    .requiredOption('-o, --output <file>', 'PNG file to write')
    .option('--seed <n>', 'seed, -1 = random (default -1)')
    .option('--width <px>', 'render width 256…1024 (default 512)')
    .option('--height <px>', 'render height 256…1024 (default 512)')
    .option('--model <name>', 'model name, repo or directory (env MENGTU_MODEL; "tiny" needs no download)')
    .option('--threads <n>', 'ONNX Runtime intra-op threads')
    .option('--vae <decoder>', 'decoder for the final image: vae or taesd (env MENGTU_VAE)')
    .option('--no-sr', 'deliver the render size instead of 2× super-resolution')
    .option('--no-pre-llm', 'do not expand the prompt')
    .action(async (prompt: string, o: GenerateOpts) => {
      const cfg = loadConfig({ engine: { model: o.model, threads: o.threads, vae: o.vae } }, process.env, { server: { logLevel: 'warn' } });
      const log = createLogger(cfg);
      const request = parseCVProcessRequest({
        req_key: REQ_KEY_V21,
        prompt,
        seed: int('seed', o.seed),
        width: int('width', o.width),
        height: int('height', o.height),
        use_sr: o.sr,
        use_pre_llm: o.preLlm,
      });
      const host = new EngineHost({ model: cfg.engine.model, pull: true, threads: cfg.engine.threads, executionProvider: cfg.engine.executionProvider, decoder: cfg.engine.vae, log });
      const bar = new cliProgress.SingleBar(
        { format: 'denoising [{bar}] {value}/{total} steps | {duration_formatted} elapsed | ETA {eta_formatted}', hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      let started = false;
      const services = await createPipelineServices(cfg, log, {
        hosting: false,
        generate: {
          onStep: (_id, info) => {
            if (!started) {
              bar.start(info.totalSteps, 0);
              started = true;
            }
            bar.update(info.step);
          },
        },
      });
      const generator = new Generator({
        host,
        stages: services.stages,
        workers: 1,
        maxQueue: 1,
        log,
        srUpscaler: () => services.deps.sr.method,
        deliver: async () => ({ base64: [], urls: null }),
      });
      try {
        await host.load();
        const { job } = await generator.submit(request, { requestId: newRequestId(), accessKey: 'cli' });
        if (started) bar.stop();
        const png = job.encoded[0];
        if (!png) throw new Error('the pipeline produced no image');
        await writeFile(o.output, png);
        process.stdout.write(
          `${o.output}: ${job.outputWidth}x${job.outputHeight}, seed ${job.seed}, ${job.steps} steps, ` +
            `${Object.entries(job.stageMs).map(([k, v]) => `${k} ${Math.round(v)}ms`).join(', ')}\n`,
        );
      } finally {
        if (started) bar.stop();
        await host.close();
        await services.close();
      }
    });
}

/** `mengtu models pull|list|rm`: fetch, inspect and delete diffusion models. */
import { Option, type Command } from 'commander';
import { createBarReporter, createLogReporter, formatBytes } from '../engine/download/index.js';
import { listModels, pullModel, removeModel, REGISTRY, resolveModel, type ModelDefaults } from '../engine/registry.js';
import { modelsDir, withHome } from '../engine/home.js';
import { CONV_MODES, quantizeModel, type ConvMode } from '../engine/quantize.js';
import path from 'node:path';

function describeDefaults(d: ModelDefaults | undefined): string {
  if (!d) return '-';
  return `${d.steps} steps, cfg ${d.guidanceScale}, ${d.scheduler ?? 'auto'}, ${d.size}px`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** MENGTU_HOME, HF_ENDPOINT and HF_TOKEN as the configuration reads them (one place: src/runtime/config.ts). */
async function modelSettings(): Promise<{ home: string | undefined; endpoint: string | undefined; token: string | undefined }> {
  const { loadConfig } = await import('../runtime/config.js');
  const { engine } = loadConfig();
  return { home: engine.home, endpoint: engine.hubEndpoint, token: engine.hubToken };
}

export function registerModelCommands(program: Command): void {
  const models = program
    .command('models')
    .description('manage diffusion models (stored under $MENGTU_HOME/models, default ~/.cache/mengtu/models)');

  models
    .command('pull')
    .description('download a model from the Hugging Face hub (resumable, checksummed)')
    .argument('<name|repo>', `a registry name (${REGISTRY.map((e) => e.name).join(', ')}) or a hub repo owner/name in the diffusers ONNX layout`)
    .option('--revision <rev>', 'branch, tag or commit to fetch (default: the registry entry\'s, else main)')
    .option('--endpoint <url>', 'hub endpoint or mirror (default: $HF_ENDPOINT or https://huggingface.co)')
    .addHelpText(
      'after',
      '\nEnvironment:\n  HF_ENDPOINT  hub mirror, e.g. https://hf-mirror.com\n  HF_TOKEN     access token for private or gated repos\n  MENGTU_HOME  where models are stored (default ~/.cache/mengtu)\n\nInterrupted downloads resume where they stopped when the command is run again.',
    )
    .action(async (name: string, o: { revision?: string; endpoint?: string }) => {
      const log = (msg: string): void => void process.stderr.write(`${msg}\n`);
      const reporter = process.stderr.isTTY ? createBarReporter(process.stderr) : createLogReporter(log);
      try {
        const s = await modelSettings();
        const endpoint = o.endpoint ?? s.endpoint;
        const m = await pullModel(name, {
          onProgress: reporter.onProgress,
          log,
          ...(o.revision !== undefined ? { revision: o.revision } : {}),
          ...(endpoint !== undefined ? { endpoint } : {}),
          ...(s.token !== undefined ? { token: s.token } : {}),
          ...(s.home !== undefined ? { home: s.home } : {}),
        });
        reporter.stop();
        const what = m.kind === 'decoder' ? 'latent decoder: used for step previews and with --vae taesd' : `defaults: ${describeDefaults(m.defaults)}`;
        process.stdout.write(`${m.name} ready in ${m.dir} (${what})\n`);
      } finally {
        reporter.stop();
      }
    });

  models
    .command('list')
    .alias('ls')
    .description('show registry models and what is installed, with sizes and generation defaults')
    .option('--json', 'print JSON instead of a table')
    .action(async (o: { json?: boolean }) => {
      const list = await listModels(withHome((await modelSettings()).home));
      if (o.json) {
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      const rows = [['NAME', 'REPO', 'INSTALLED', 'SIZE', 'DEFAULTS']];
      for (const m of list) {
        rows.push([m.name, m.repo ?? '(built locally)', m.installed ? 'yes' : m.sizeBytes > 0 ? 'partial' : 'no', m.sizeBytes > 0 ? formatBytes(m.sizeBytes) : '-', describeDefaults(m.defaults)]);
      }
      process.stdout.write(table(rows));
    });

  models
    .command('quantize')
    .description('write an int8 copy of a model (UNet and text encoder weights; dynamic quantization with standard ONNX operators), usable as its own model')
    .argument('<name|dir>', 'an installed model: registry name, owner/repo or directory')
    .option('--out <name>', 'name of the copy under the models directory (default: <name>-int8)')
    .addOption(
      new Option('--convs <mode>', "Conv weights: 'dequantize' stores them int8 and computes in float; 'integer' uses ConvInteger (onnxruntime's CPU int8 convolution is much slower); 'float' leaves them")
        .choices(CONV_MODES)
        .default('dequantize'),
    )
    .option('--reduce-range', '7-bit weights, for AVX2 CPUs without VNNI (avoids int16 saturation)')
    .action(async (name: string, o: { out?: string; convs: ConvMode; reduceRange?: boolean }) => {
      const { home } = await modelSettings();
      const src = await resolveModel(name, { pull: false, ...(home !== undefined ? { home } : {}) });
      const outName = o.out ?? `${path.basename(src.name)}-int8`;
      const dst = path.join(modelsDir(withHome(home)), outName);
      process.stderr.write(`quantizing ${src.dir} → ${dst} …\n`);
      const t0 = performance.now();
      const report = await quantizeModel(src.dir, dst, { convs: o.convs, reduceRange: o.reduceRange === true, source: src.name });
      for (const [part, r] of Object.entries(report.parts)) {
        process.stdout.write(`${part}: ${r.quantized} weights to int8, ${formatBytes(r.floatBytes)} → ${formatBytes(r.int8Bytes)}\n`);
      }
      process.stdout.write(`${outName} ready in ${dst} (${((performance.now() - t0) / 1000).toFixed(1)} s); use it with --model ${outName}\n`);
    });

  models
    .command('rm')
    .alias('remove')
    .description('delete an installed model from the models directory')
    .argument('<name|repo>', 'registry name or owner/name as given to `models pull`')
    .action(async (name: string) => {
      const dir = await removeModel(name, withHome((await modelSettings()).home));
      process.stdout.write(`removed ${dir}\n`);
    });
}

/**
 * Progress-stream costs on the tiny model: what a step preview costs (the linear latent→RGB map and the
 * JPEG encode) against the step it follows, at two render sizes; with a tiny TAESD (TAESD's real layers,
 * random weights), the decode cost per step when every step is decoded (as before) and when only the steps
 * that send a preview are (one per 500 ms); and, with a server, the first byte of a task's progress stream
 * after its submit. `npm run bench:progress`
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureTinyModel, loadEngine, latentPreview } from '../src/engine/index.js';
import { buildTinyTaesd } from '../src/engine/tiny/build.js';
import { encodePreview, previewCadence } from '../src/pipeline/preview.js';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number): string => x.toFixed(2);

async function previewCost(): Promise<void> {
  const dir = await ensureTinyModel();
  const engine = await loadEngine(dir, { name: 'tiny', threads: 1 });
  console.log(`preview cost per step, tiny model, 1 ONNX thread, ${os.cpus()[0]?.model ?? ''}`);
  console.log('render   latents   step ms   linear map ms   JPEG ms   preview ms   share of step');
  for (const side of [256, 512]) {
    const steps = 20;
    const stepMs: number[] = [];
    const mapMs: number[] = [];
    const jpegMs: number[] = [];
    let prev = 0;
    const pictures: ReturnType<typeof latentPreview>[] = [];
    let latentSide = 0;
    await engine.generate({
      prompt: 'a lighthouse at dusk',
      width: side,
      height: side,
      seed: 1,
      steps,
      onStep: (info) => {
        stepMs.push(info.elapsedMs - prev);
        prev = info.elapsedMs;
        latentSide = info.latents.width;
        const t0 = performance.now();
        const rgb = latentPreview(info.latents);
        const t1 = performance.now();
        mapMs.push(t1 - t0);
        pictures.push(rgb);
      },
    });
    // Encoded one after another (a worker encodes at most one per 500 ms), each timed on its own.
    for (const rgb of pictures) {
      const t = performance.now();
      await encodePreview(rgb);
      jpegMs.push(performance.now() - t);
    }
    // The first step carries the text encoder's warm-up; leave it out.
    const s = median(stepMs.slice(1));
    const m = median(mapMs.slice(1));
    const j = median(jpegMs.slice(1));
    console.log(
      `${`${side}²`.padEnd(9)}${`${latentSide}²`.padEnd(10)}${fmt(s).padStart(7)}   ${fmt(m).padStart(13)}   ${fmt(j).padStart(7)}   ${fmt(m + j).padStart(10)}   ${((100 * (m + j)) / s).toFixed(1).padStart(12)} %`,
    );
  }
  await engine.close();
  console.log('(a preview is encoded at most every 500 ms, so on a slow model the share per step is lower still)');
}

/** Submit → first byte (and first event) of the task's progress stream, on a real server with the tiny model. */
async function firstByte(runs = 10): Promise<void> {
  const { mkdtemp } = await import('node:fs/promises');
  const path = await import('node:path');
  const pino = (await import('pino')).default;
  const { loadConfig } = await import('../src/runtime/config.js');
  const { startServer } = await import('../src/runtime/server.js');
  const { MengtuClient, signRequest } = await import('../src/client/index.js');
  const AK = 'AKLTbenchprogress000000000000000001';
  const SK = 'YmVuY2gtcHJvZ3Jlc3Mtc2VjcmV0LTAwMDAwMDAwMDAwMDA=';
  process.env.MENGTU_ACCESS_KEYS = `${AK}:${SK}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mengtu-bench-progress-'));
  const server = await startServer(loadConfig({ engine: { model: 'tiny' }, server: { port: 0, dataDir } }), pino({ level: 'silent' }));
  try {
    await (server as unknown as { runtime?: { host: { load(): Promise<unknown> } } }).runtime?.host.load();
    const client = new MengtuClient({ endpoint: server.url, accessKeyId: AK, secretAccessKey: SK });
    const byte: number[] = [];
    const event: number[] = [];
    for (let i = 0; i < runs; i++) {
      const id = await client.submitTask({ prompt: 'a lighthouse at dusk', seed: i, width: 256, height: 256, use_sr: false, use_pre_llm: false });
      const t0 = performance.now();
      const p = `/v1/tasks/${id}/events`;
      const { headers } = signRequest({ accessKeyId: AK, secretAccessKey: SK, region: 'cn-north-1', service: 'cv' }, { method: 'GET', path: p, rawQuery: '', body: '' }, new Date());
      const res = await fetch(`${server.url}${p}`, { headers });
      if (res.status === 404) {
        console.log('first byte: this server has no progress stream');
        return;
      }
      const reader = res.body!.getReader();
      let text = '';
      let gotByte = false;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (!gotByte) {
          byte.push(performance.now() - t0);
          gotByte = true;
        }
        text += new TextDecoder().decode(value);
        if (text.includes('event: ')) {
          event.push(performance.now() - t0);
          break;
        }
      }
      await reader.cancel();
      await client.runTask({ prompt: 'x', seed: 1, width: 256, height: 256, use_sr: false, use_pre_llm: false }, { intervalMs: 50 }).catch(() => undefined);
    }
    console.log(`\nprogress stream after submit (${runs} tasks, tiny model, loopback): first byte median ${fmt(median(byte))} ms, first event median ${fmt(median(event))} ms`);
  } finally {
    await server.close();
  }
}

/**
 * TAESD preview decodes: the same 20-step generation without previews, with a decode on every step (the old
 * behaviour) and with decodes only when a preview is due (previewCadence, as the job processor asks).
 * Cost per step = (time with previews − time without) / steps; medians of 3 runs after a warm-up.
 */
async function taesdCost(): Promise<void> {
  const model = await ensureTinyModel();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'mengtu-bench-taesd-'));
  const taesd = path.join(scratch, 'taesd');
  await buildTinyTaesd(taesd);
  const engine = await loadEngine(model, { name: 'tiny', threads: 1, taesd });
  try {
    console.log('\nTAESD step previews (tiny TAESD), 20 steps, 1 ONNX thread');
    console.log('render   step ms   every step: preview ms/step (share)   when due: preview ms/step (share)   decodes (every / due)');
    for (const side of [256, 512]) {
      const steps = 20;
      const run = async (previews: boolean | 'due'): Promise<{ ms: number; decodes: number }> => {
        let decodes = 0;
        const cadence = previewCadence();
        const t = performance.now();
        const request = { prompt: 'a lighthouse at dusk', width: side, height: side, seed: 1, steps, guidanceScale: 0 };
        await engine.generate({
          ...request,
          previews: previews === 'due' ? () => cadence.due() : previews,
          onStep: (i) => {
            if (!i.preview) return;
            decodes++;
            cadence.delivered();
          },
        });
        return { ms: performance.now() - t, decodes };
      };
      await run(false);
      const none: number[] = [];
      const every: number[] = [];
      const due: number[] = [];
      let decodes = [0, 0];
      for (let r = 0; r < 3; r++) {
        none.push((await run(false)).ms);
        const e = await run(true);
        every.push(e.ms);
        const d = await run('due');
        due.push(d.ms);
        decodes = [e.decodes, d.decodes];
      }
      const base = median(none) / steps;
      const perEvery = Math.max(0, median(every) / steps - base);
      const perDue = Math.max(0, median(due) / steps - base);
      const share = (x: number): string => `${((100 * x) / base).toFixed(1)} %`;
      console.log(
        `${`${side}²`.padEnd(9)}${fmt(base).padStart(7)}   ${`${fmt(perEvery)} (${share(perEvery)})`.padStart(35)}   ${`${fmt(perDue)} (${share(perDue)})`.padStart(33)}   ${`${decodes[0]} / ${decodes[1]}`.padStart(21)}`,
      );
    }
  } finally {
    await engine.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

await previewCost();
await taesdCost();
await firstByte();

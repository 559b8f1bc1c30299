/**
 * Progress-stream costs on the tiny model: what a step preview costs (the linear latent→RGB map and the
 * JPEG encode) against the step it follows, at two render sizes; and, with a server, the first byte of a
 * task's progress stream after its submit. `npm run bench:progress`
 */
import os from 'node:os';
import { ensureTinyModel, loadEngine, latentPreview } from '../src/engine/index.js';
import { encodePreview } from '../src/pipeline/preview.js';

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

await previewCost();

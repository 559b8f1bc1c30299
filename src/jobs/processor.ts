/**
 * What a worker does with one payload, whichever queue delivered it: take the loaded engine, run the
 * picture-making stages (the stage list is fixed here, not sent with the job), publish progress, and for an
 * async task record the outcome in the task store. Used by the in-process queue and by `mengtu worker`.
 */
import { CvError } from '../contract/errors.js';
import { newJob, runPipeline, type StageObserver } from '../pipeline/runner.js';
import { splitDelivery, SUBMIT_CHECK_STAGES } from '../pipeline/stages/index.js';
import type { Job, Log, Stage } from '../pipeline/types.js';
import type { RawImage } from '../engine/types.js';
import type { EngineHost } from './engine-host.js';
import { progressBase, STORING_STAGE, type JobPayload, type ProgressEvent, type TaskStore } from './types.js';
import { encodePreview, previewCadence } from '../pipeline/preview.js';

export interface ProcessorOptions {
  host: EngineHost;
  /** The full stage list; the processor runs its production part (splitDelivery). */
  stages: readonly Stage[];
  tasks: TaskStore;
  log: Log;
  observeStage?: StageObserver;
}

export interface ProcessControl {
  signal?: AbortSignal;
  log?: Log;
  onProgress?: (e: ProgressEvent) => void;
}

export type JobProcessor = (payload: JobPayload, ctl: ProcessControl) => Promise<Job>;

/** Progress reaches the task store at most this often per task (each write may be a network call). */
const STORE_PROGRESS_EVERY_MS = 250;

export function createJobProcessor(opts: ProcessorOptions): JobProcessor {
  const { production } = splitDelivery(opts.stages);
  // An async submit ran these before answering; a task does not run them twice.
  const forTasks = production.filter((s) => !SUBMIT_CHECK_STAGES.has(s.name));
  return async (payload, ctl) => {
    const engine = opts.host.engine(payload.model);
    const t0 = performance.now();
    const job = newJob(payload.request, payload.requestId, engine.modelName);
    const base = progressBase(payload);
    let storedAt = -Infinity;
    let storedStage = '';
    const cadence = previewCadence();
    const publish = (stage: string, step: number, totalSteps: number, preview?: RawImage): void => {
      const event: ProgressEvent = { ...base, stage, step, totalSteps, elapsedMs: Math.round(performance.now() - t0) };
      ctl.onProgress?.(event);
      // The step's picture follows as its own event once encoded (a few ms, off the sampler's path).
      if (preview && ctl.onProgress) {
        cadence.delivered();
        void encodePreview(preview).then((p) => ctl.onProgress?.({ ...event, preview: p }), () => undefined);
      }
      // A new stage is always recorded (GetResult names the true stage); steps within one are throttled.
      if (payload.taskId && (stage !== storedStage || performance.now() - storedAt >= STORE_PROGRESS_EVERY_MS || (step > 0 && step === totalSteps))) {
        storedAt = performance.now();
        storedStage = stage;
        opts.tasks.progress(payload.taskId, event).catch(() => undefined);
      }
    };
    if (payload.taskId) await opts.tasks.markGenerating(payload.taskId);
    const stages = payload.taskId ? forTasks : production;
    const done = await runPipeline(
      job,
      stages,
      {
        engine,
        log: ctl.log ?? opts.log,
        ...(ctl.signal ? { signal: ctl.signal } : {}),
        progress: (p) => publish(p.stage, p.step, p.totalSteps, p.preview),
        // The engine decodes a preview (a TAESD run) only on the steps that will send one.
        wantPreview: () => ctl.onProgress !== undefined && cadence.due(),
      },
      opts.observeStage,
    );
    if (payload.taskId) {
      // The queue writes the picture to the task store next (a PNG encode and a file or bucket write): the
      // task says so rather than still `generate`. Awaited, so the record has it before `finish` lands.
      const event: ProgressEvent = { ...base, stage: STORING_STAGE, step: 0, totalSteps: 0, elapsedMs: Math.round(performance.now() - t0) };
      ctl.onProgress?.(event);
      await opts.tasks.progress(payload.taskId, event).catch(() => undefined);
    }
    return done;
  };
}

/** Records a task's failure: internal failures keep their text out of what GetResult answers. */
export async function failTask(tasks: TaskStore, taskId: string, err: unknown, log: Log): Promise<void> {
  const cv = CvError.from(err);
  if (cv.internal) log.error({ err, detail: cv.logDetail }, 'task failed');
  else log.info({ code: cv.code, detail: cv.logDetail }, 'task refused');
  await tasks.fail(taskId, cv.code, cv.publicMessage);
}

/**
 * The async pair over the in-process queue: submit validates, checks the prompt's text risk and queues the
 * picture-making stages; the result is fetched with the delivery stages (watermark, label, store) run for
 * the fetch's req_json. Errors before a task exists are thrown (no task); a task that fails later is
 * reported by GetResult with the failure's code.
 */
import type { Logger } from 'pino';
import { newTaskId, pendingData, type GetResultRequest, type TaskStatus } from '../contract/async-task.js';
import type { CVProcessRequest } from '../contract/cvprocess.js';
import { CvError } from '../contract/errors.js';
import type { CVProcessData } from '../contract/response.js';
import { newJob } from '../pipeline/runner.js';
import { splitDelivery, SUBMIT_CHECK_STAGES } from '../pipeline/stages/index.js';
import type { Job, Log, Stage } from '../pipeline/types.js';
import type { Generator } from '../runtime/generator.js';
import type { TaskStore } from './store.js';

export type GetResultData = (CVProcessData & { status: 'done' }) | ReturnType<typeof pendingData>;

export interface AsyncTasksOptions {
  generator: Generator;
  store: TaskStore;
  stages: readonly Stage[];
  log: Logger;
}

export class AsyncTasks {
  private readonly production: Stage[];
  private readonly delivery: Stage[];
  private readonly checks: Stage[];

  constructor(private readonly opts: AsyncTasksOptions) {
    const { production, delivery } = splitDelivery(opts.stages);
    this.production = production;
    this.delivery = delivery;
    this.checks = production.filter((s) => SUBMIT_CHECK_STAGES.has(s.name));
  }

  /** Queues a task; throws the contract's error (and creates no task) when it cannot be taken. */
  async submit(request: CVProcessRequest, meta: { requestId: string; accessKey: string; log?: Log }): Promise<string> {
    const log = meta.log ?? this.opts.log;
    // Refusals a caller must see now: risky prompt text, an engine that is not ready, a full queue.
    await this.opts.generator.runNow(newJob(request, meta.requestId), this.checks, log);
    this.opts.generator.assertCapacity();
    const id = newTaskId();
    const task = this.opts.store.create(id, meta.accessKey);
    // The task outlives the HTTP request: it runs with the server's logger, tagged with both ids.
    const taskLog = this.opts.log.child({ task_id: id, request_id: meta.requestId });
    this.opts.generator
      .run(newJob(request, meta.requestId), this.production, { requestId: meta.requestId, log: taskLog, onStart: () => this.opts.store.markGenerating(task) })
      .then((job) => this.opts.store.finish(task, job))
      .then(() => taskLog.info('task done'))
      .catch((err: unknown) => {
        const cv = err instanceof CvError ? err : new CvError(50500, undefined, { cause: err });
        if (cv.code === 50500 || cv.code === 50501) taskLog.error({ err, detail: cv.logDetail }, 'task failed');
        else taskLog.info({ code: cv.code, detail: cv.logDetail }, 'task refused');
        this.opts.store.fail(task, cv.code, cv.code === 50500 || cv.code === 50501 ? '' : cv.message);
      });
    return id;
  }

  /** The task's status; when done, the §5 data for this fetch's delivery choices, or the task's error. */
  async getResult(req: GetResultRequest, meta: { accessKey: string; log?: Log }): Promise<GetResultData> {
    const found = this.opts.store.lookup(req.task_id, meta.accessKey);
    if (found.kind !== 'found') return pendingData(found.kind);
    const task = found.task;
    if (task.state !== 'done') return pendingData(task.state satisfies Exclude<TaskStatus, 'done' | 'not_found' | 'expired'>);
    if (task.error) throw new CvError(task.error.code, task.error.message || undefined);
    const picture = task.job ? await this.opts.store.picture(task) : null;
    if (!task.job || !picture) return pendingData('expired');
    const base = task.job;
    const job: Job = {
      ...base,
      request: { ...base.request, return_url: req.return_url, logo_info: req.logo_info },
      aigcMeta: req.aigc_meta,
      image: picture,
      encoded: [],
      stageMs: { ...base.stageMs },
      extras: { ...base.extras },
    };
    const delivered = await this.opts.generator.runNow(job, this.delivery, meta.log);
    const data = await this.opts.generator.respond(delivered, meta.accessKey, meta.log);
    return { ...data, status: 'done' };
  }
}

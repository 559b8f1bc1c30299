/**
 * The worker-thread pool (piscina) for CPU-heavy stages: typography layout and drawing, the image-risk
 * classifier. Running them on the event loop held every other request, /healthz included, for seconds.
 * One pool per process, shared by every runtime built in it; threads start at once and warm their fonts.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { RawImage } from '../../engine/types.js';
import type { ImageRiskScores } from '../../safety/image-risk.js';
import type { FaceId, TextPlan } from '../../typography/types.js';
import { transferablesOf, type OffloadResult, type OffloadTask } from './tasks.js';

export interface CpuPoolOptions {
  /** Worker threads (≥ 1). */
  size: number;
  /** Load the NSFW classifier in each thread at start (when image risk is on). */
  warmClassifier?: boolean;
}

export interface CpuPool {
  readonly size: number;
  /** Draws the plan's text; `image`'s buffer is transferred away and a new image comes back. */
  renderTypography(image: RawImage, plan: TextPlan): Promise<RawImage>;
  /** Classifies `image`; its buffer travels to the worker and back into the same object. */
  classify(image: RawImage): Promise<ImageRiskScores>;
  /** Tasks waiting for a free thread. */
  readonly queued: number;
  /** Drops this user's hold; the threads stop when the last user closes. */
  close(): Promise<void>;
}

/** Faces and characters opened in each thread at start, so a first request does not pay for font slices. */
const WARM_FACES: FaceId[] = ['sans', 'sans-bold'];
const WARM_TEXT =
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ,.!?:;\'"-()，。！？、：；“”‘’（）《》' +
  '的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞';

type RunOptions = Parameters<Piscina['run']>[1];

let shared: { pool: Piscina; users: number; size: number } | undefined;

function workerFile(): { filename: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return { filename: here.replace(/pool\.js$/, 'worker.js'), execArgv: process.execArgv };
  // A source checkout runs through tsx (bin/mengtu.js registers it in-process, which threads do not inherit).
  const tsx = import.meta.resolve('tsx');
  return { filename: here.replace(/pool\.ts$/, 'worker.ts'), execArgv: [...process.execArgv.filter((a) => a !== tsx), '--import', tsx] };
}

/** Starts the process's pool, or joins the running one (its size is the first caller's). */
export function startCpuPool(opts: CpuPoolOptions): CpuPool {
  if (!shared) {
    const size = Math.max(1, Math.floor(opts.size));
    const { filename, execArgv } = workerFile();
    const pool = new Piscina({ filename, execArgv, minThreads: size, maxThreads: size, idleTimeout: 60_000, atomics: 'disabled' });
    shared = { pool, users: 0, size };
    // Every thread opens the common font slices (and the classifier) now, not during someone's request.
    const warm: OffloadTask = { kind: 'warm', faces: WARM_FACES, text: WARM_TEXT, classifier: opts.warmClassifier === true };
    for (let i = 0; i < size; i++) pool.run(warm).catch(() => undefined);
  }
  const s = shared;
  s.users++;
  let closed = false;
  const run = async (task: OffloadTask): Promise<OffloadResult> => {
    const transferList = transferablesOf('image' in task ? task.image : undefined);
    // piscina's TransferList type is inferred from @types/node's postMessage overloads; an array is what it takes.
    return (await s.pool.run(task, { transferList } as unknown as RunOptions)) as OffloadResult;
  };
  return {
    size: s.size,
    get queued() {
      return s.pool.queueSize;
    },
    async renderTypography(image, plan) {
      const r = await run({ kind: 'typography', image, plan });
      return r.image!;
    },
    async classify(image) {
      const r = await run({ kind: 'classify', image });
      // The buffer came back: hand it to the caller's image again.
      image.data = r.image!.data;
      return r.scores!;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (--s.users > 0 || shared !== s) return;
      shared = undefined;
      await s.pool.destroy();
    },
  };
}

/**
 * OpenAI-compatible Images API: POST /v1/images/generations and GET /v1/models, so OpenAI clients (the
 * official SDKs, LangChain, …) can use mengtu unchanged. The API key is a mengtu access key pair written
 * `AK:SK` (a bearer token); each image is one CVProcess request through the same pipeline and limits.
 * Errors use OpenAI's shape: `{ error: { message, type, param, code } }`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import sharp from 'sharp';
import { LIMITS, parseCVProcessRequest, REQ_KEY_V21, type CVProcessRequest } from '../contract/cvprocess.js';
import { CvError } from '../contract/errors.js';
import type { CVProcessData } from '../contract/response.js';
import { readPngTextChunks } from '../pipeline/encode/png-chunks.js';
import type { Log } from '../pipeline/types.js';

/** Runs one CVProcess request through the pipeline (the job service, whichever queue is behind it). */
export type ProcessFn = (request: CVProcessRequest, meta: { requestId: string; accessKey: string; log?: Log; signal?: AbortSignal }) => Promise<{ data: CVProcessData }>;

export interface Lease {
  release(): void;
}

export interface OpenAiOptions {
  process: ProcessFn;
  /** The secret of an enabled key, or undefined. */
  secretFor: (accessKeyId: string) => string | undefined;
  /** The gateway's per-key limits: one lease per HTTP request. */
  acquire: (accessKey: string) => Lease | Promise<Lease>;
  /** Stores converted (JPEG/WebP) images for response_format=url; null when no image store is configured. */
  publish: ((requestId: string, index: number, bytes: Buffer, format: OutputFormat) => Promise<string>) | null;
  auth: boolean;
  /** The served model's name (listed by /v1/models, accepted as `model`). */
  model: string;
}

export type OutputFormat = 'png' | 'jpeg' | 'webp';

interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export class OpenAiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
  body(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

const invalid = (message: string, param: string | null, code: string | null = 'invalid_value'): OpenAiError =>
  new OpenAiError(400, message, 'invalid_request_error', param, code);

/** The CV error a request ran into, in OpenAI's terms (status, type, code); the Volcengine code is kept in the message. */
export function fromCvError(err: unknown): OpenAiError {
  const cv = err instanceof CvError ? err : new CvError(50500, undefined, { cause: err });
  const msg = cv.code === 50500 || cv.code === 50501 ? `${cv.code} the server could not make the image; try again` : `${cv.code} ${cv.message}`;
  if (cv.code === 50412 || cv.code === 50413 || cv.code === 50511 || cv.code === 50512) {
    return new OpenAiError(400, msg, 'invalid_request_error', 'prompt', 'content_policy_violation');
  }
  if (cv.code === 50429 || cv.code === 50430) return new OpenAiError(429, msg, 'rate_limit_exceeded', null, 'rate_limit_exceeded');
  if (cv.code === 50501) return new OpenAiError(503, msg, 'server_error', null, 'engine_unavailable');
  if (cv.code === 50500) return new OpenAiError(500, msg, 'server_error', null, null);
  return new OpenAiError(cv.httpStatus >= 500 ? 500 : 400, msg, 'invalid_request_error', null, String(cv.code));
}

/** Model names a client may send: ours, the Jimeng req_key, and OpenAI's own names (mapped to ours, so existing code works). */
function acceptsModel(name: string, served: string): boolean {
  return name === served || name === 'mengtu' || name === REQ_KEY_V21 || /^(dall-e-[23]|gpt-image-1(\.\d+)?(-mini)?)$/.test(name);
}

export interface ImagesRequest {
  n: number;
  responseFormat: 'url' | 'b64_json';
  outputFormat: OutputFormat;
  compression: number | undefined;
  size: string;
  /** One CVProcess body per image (seeds consecutive when a seed was given). */
  requests: CVProcessRequest[];
}

function str(o: Record<string, unknown>, k: string): string | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`'${k}' must be a string`, k, 'invalid_type');
  return v;
}

function num(o: Record<string, unknown>, k: string, integer: boolean): number | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) throw invalid(`'${k}' must be ${integer ? 'an integer' : 'a number'}`, k, 'invalid_type');
  return v;
}

/**
 * OpenAI's `size` as render size + super-resolution: sides above 768 render at half and are doubled by SR
 * (SD models draw best near 512); smaller ones render as asked. 'auto' = 1024x1024.
 */
export function sizeToRender(size: string, useSr: boolean | undefined): { width: number; height: number; use_sr: boolean } {
  const s = size === 'auto' ? '1024x1024' : size;
  const m = /^(\d{3,4})x(\d{3,4})$/.exec(s);
  if (!m) throw invalid(`'size' must be WIDTHxHEIGHT (e.g. 1024x1024) or 'auto', got '${size}'`, 'size');
  const w = Number(m[1]);
  const h = Number(m[2]);
  const max = 2 * LIMITS.sizeMax;
  if (w < LIMITS.sizeMin || h < LIMITS.sizeMin || w > max || h > max) throw invalid(`'size' sides must be in [${LIMITS.sizeMin}, ${max}]`, 'size');
  const halve = useSr ?? (Math.max(w, h) > 768 && w % 2 === 0 && h % 2 === 0 && w / 2 >= LIMITS.sizeMin && h / 2 >= LIMITS.sizeMin);
  if (halve) {
    if (w % 2 !== 0 || h % 2 !== 0 || w / 2 < LIMITS.sizeMin || h / 2 < LIMITS.sizeMin) throw invalid(`'size' ${s} cannot be made with 2× super-resolution`, 'size');
    return { width: w / 2, height: h / 2, use_sr: true };
  }
  if (w > LIMITS.sizeMax || h > LIMITS.sizeMax) throw invalid(`'size' sides above ${LIMITS.sizeMax} need super-resolution (use_sr)`, 'size');
  return { width: w, height: h, use_sr: false };
}

/** Validates an Images API body and turns it into CVProcess requests (the contract's own validation included). */
export function parseImagesRequest(body: unknown, servedModel: string): ImagesRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the body must be a JSON object', null, 'invalid_type');
  const o = body as Record<string, unknown>;
  const prompt = str(o, 'prompt');
  if (!prompt) throw invalid("'prompt' is required", 'prompt', 'missing_required_parameter');
  const model = str(o, 'model');
  if (model !== undefined && !acceptsModel(model, servedModel)) {
    throw new OpenAiError(404, `The model '${model}' does not exist; this server serves '${servedModel}'`, 'invalid_request_error', 'model', 'model_not_found');
  }
  const n = num(o, 'n', true) ?? 1;
  if (n < 1 || n > 4) throw invalid("'n' must be between 1 and 4", 'n');
  const responseFormat = str(o, 'response_format') ?? 'url';
  if (responseFormat !== 'url' && responseFormat !== 'b64_json') throw invalid("'response_format' must be 'url' or 'b64_json'", 'response_format');
  const outputFormat = str(o, 'output_format') ?? 'png';
  if (outputFormat !== 'png' && outputFormat !== 'jpeg' && outputFormat !== 'webp') throw invalid("'output_format' must be 'png', 'jpeg' or 'webp'", 'output_format');
  const compression = num(o, 'output_compression', true);
  if (compression !== undefined && (compression < 0 || compression > 100)) throw invalid("'output_compression' must be between 0 and 100", 'output_compression');
  // quality, style, user, background, moderation: accepted for compatibility; the model decides its own look.
  for (const k of ['quality', 'style', 'user', 'background', 'moderation']) str(o, k);
  const useSr = o.use_sr === undefined ? undefined : o.use_sr === true;
  const size = str(o, 'size') ?? '1024x1024';
  const render = sizeToRender(size, useSr);
  const seed = num(o, 'seed', true);
  const cv = (i: number): Record<string, unknown> => ({
    req_key: REQ_KEY_V21,
    prompt,
    seed: seed === undefined || seed === -1 ? -1 : seed + i,
    ...render,
    use_pre_llm: o.use_pre_llm ?? false,
    return_url: false,
    negative_prompt: o.negative_prompt,
    steps: o.steps,
    guidance_scale: o.guidance_scale,
    scheduler: o.scheduler,
  });
  let requests: CVProcessRequest[];
  try {
    requests = Array.from({ length: n }, (_, i) => parseCVProcessRequest(cv(i)));
  } catch (err) {
    throw fromCvError(err);
  }
  return { n, responseFormat, outputFormat, compression, size: size === 'auto' ? '1024x1024' : size, requests };
}

/** Re-encodes the pipeline's PNG, keeping the AI label (its XMP packet) in the new file. */
export async function convertImage(png: Buffer, format: OutputFormat, quality: number | undefined): Promise<Buffer> {
  if (format === 'png') return png;
  const xmp = readPngTextChunks(png)['XML:com.adobe.xmp'];
  let img = sharp(png);
  if (xmp) img = img.withXmp(xmp);
  return format === 'jpeg' ? img.jpeg({ quality: quality ?? 90, mozjpeg: true }).toBuffer() : img.webp({ quality: quality ?? 90 }).toBuffer();
}

function bearerKey(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(\S+)$/i.exec(h.trim()) : null;
  return m ? m[1]! : null;
}

function sameSecret(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** The access key of a valid `Bearer AK:SK`, or OpenAI's 401. */
export function authenticateBearer(req: FastifyRequest, opts: Pick<OpenAiOptions, 'auth' | 'secretFor'>): string {
  const token = bearerKey(req);
  if (!opts.auth) return token?.split(':')[0] || 'anonymous';
  if (!token) {
    throw new OpenAiError(401, "You didn't provide an API key. Send 'Authorization: Bearer AK:SK' with a mengtu access key pair.", 'invalid_request_error', null, 'missing_api_key');
  }
  const colon = token.indexOf(':');
  const ak = colon === -1 ? token : token.slice(0, colon);
  const sk = colon === -1 ? '' : token.slice(colon + 1);
  const secret = opts.secretFor(ak);
  if (secret === undefined || !sameSecret(secret, sk)) {
    throw new OpenAiError(401, 'Incorrect API key provided. The key is a mengtu access key pair written AK:SK.', 'invalid_request_error', null, 'invalid_api_key');
  }
  return ak;
}

function sendOpenAiError(reply: FastifyReply, req: FastifyRequest, err: unknown): FastifyReply {
  const e = err instanceof OpenAiError ? err : fromCvError(err);
  if (e.status >= 500) req.log.error({ err }, 'images request failed');
  else req.log.info({ status: e.status, code: e.code, detail: e.message }, 'images request refused');
  return reply.code(e.status).send(e.body());
}

const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'object', properties: { message: { type: 'string' }, type: { type: 'string' }, param: { type: ['string', 'null'] }, code: { type: ['string', 'null'] } } },
  },
} as const;

export function registerOpenAiRoutes(app: FastifyInstance, opts: OpenAiOptions): void {
  app.get(
    '/v1/models',
    {
      schema: {
        summary: 'OpenAI-compatible model list (bearer AK:SK)',
        tags: ['openai'],
        security: [{ bearer: [] }],
        response: { 401: errorSchema },
      },
    },
    async (req, reply) => {
      try {
        authenticateBearer(req, opts);
      } catch (err) {
        return sendOpenAiError(reply, req, err);
      }
      const created = 1_700_000_000;
      return {
        object: 'list',
        data: [opts.model, REQ_KEY_V21].map((id) => ({ id, object: 'model', created, owned_by: 'mengtu' })),
      };
    },
  );

  app.post(
    '/v1/images/generations',
    {
      schema: {
        summary: 'OpenAI-compatible image generation (bearer AK:SK): the same pipeline, limits and labels as CVProcess',
        tags: ['openai'],
        security: [{ bearer: [] }],
        body: {
          type: 'object',
          required: ['prompt'],
          properties: {
            prompt: { type: 'string' },
            model: { type: 'string' },
            n: { type: 'integer', minimum: 1, maximum: 4 },
            size: { type: 'string', description: 'WIDTHxHEIGHT, 256…2048 a side; above 768 renders at half and doubles with super-resolution' },
            response_format: { type: 'string', enum: ['url', 'b64_json'] },
            output_format: { type: 'string', enum: ['png', 'jpeg', 'webp'] },
            output_compression: { type: 'integer', minimum: 0, maximum: 100 },
            quality: { type: 'string', description: 'accepted, ignored' },
            style: { type: 'string', description: 'accepted, ignored' },
            seed: { type: 'integer', description: 'mengtu extension' },
            negative_prompt: { type: 'string', description: 'mengtu extension' },
            steps: { type: 'integer', description: 'mengtu extension' },
            guidance_scale: { type: 'number', description: 'mengtu extension' },
            scheduler: { type: 'string', description: 'mengtu extension' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              created: { type: 'integer' },
              data: { type: 'array', items: { type: 'object', properties: { url: { type: 'string' }, b64_json: { type: 'string' }, revised_prompt: { type: 'string' } } } },
              output_format: { type: 'string' },
              size: { type: 'string' },
            },
          },
          400: errorSchema,
          401: errorSchema,
          429: errorSchema,
        },
      },
      // The app keeps bodies as Buffers (the V4 signature needs raw bytes); this route parses its own JSON.
      validatorCompiler: () => () => true,
    },
    async (req, reply) => {
      let lease: Lease | null = null;
      try {
        const accessKey = authenticateBearer(req, opts);
        let body: unknown;
        try {
          body = JSON.parse(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
        } catch {
          throw invalid('the body must be valid JSON', null, 'invalid_json');
        }
        const parsed = parseImagesRequest(body, opts.model);
        if (parsed.responseFormat === 'url' && !opts.publish) throw invalid("response_format 'url' needs an image store; use 'b64_json'", 'response_format');
        lease = await opts.acquire(accessKey);
        const abort = new AbortController();
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) abort.abort(new CvError(50500, undefined, { logDetail: 'client went away' }));
        });
        const results = await Promise.all(
          parsed.requests.map((request, i) => opts.process(request, { requestId: `${req.id}${parsed.n > 1 ? `-${i}` : ''}`, accessKey, log: req.log, signal: abort.signal })),
        );
        const data = await Promise.all(
          results.map(async ({ data: d }, i) => {
            const png = Buffer.from(d.binary_data_base64[0] ?? '', 'base64');
            const bytes = await convertImage(png, parsed.outputFormat, parsed.compression);
            const revised = d.rephraser_result || undefined;
            if (parsed.responseFormat === 'b64_json') return { b64_json: bytes.toString('base64'), ...(revised ? { revised_prompt: revised } : {}) };
            const url = await opts.publish!(req.id, i, bytes, parsed.outputFormat);
            return { url: url.startsWith('/') ? `${req.protocol}://${req.host}${url}` : url, ...(revised ? { revised_prompt: revised } : {}) };
          }),
        );
        return { created: Math.floor(Date.now() / 1000), data, output_format: parsed.outputFormat, size: parsed.size };
      } catch (err) {
        return sendOpenAiError(reply, req, err);
      } finally {
        lease?.release();
      }
    },
  );
}

/**
 * OpenAI-compatible Images API: POST /v1/images/generations, POST /v1/images/edits (multipart: one image,
 * image-to-image on the model serving jimeng_i2i_v30) and GET /v1/models, so OpenAI clients (the official
 * SDKs, LangChain, …) can use mengtu unchanged. The API key is a mengtu access key pair written
 * `AK:SK` (a bearer token); each image is one CVProcess request through the same pipeline and limits.
 * Errors use OpenAI's shape: `{ error: { message, type, param, code } }`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import sharp from 'sharp';
import { LIMITS, parseCVProcessRequest, REQ_KEY_I2I_V30, REQ_KEY_V21, type CVProcessRequest } from '../contract/cvprocess.js';
import { CvError } from '../contract/errors.js';
import { parseI2iV30Request } from '../contract/jimeng-v3.js';
import { Base64Bytes } from '../contract/base64.js';
import type { CVProcessData } from '../contract/response.js';
import { readPngTextChunks } from '../pipeline/encode/png-chunks.js';
import type { Log } from '../pipeline/types.js';
import { sendJson } from './json-body.js';

/** Runs one CVProcess request through the pipeline (the job service, whichever queue is behind it). */
export type ProcessFn = (request: CVProcessRequest, meta: { requestId: string; accessKey: string; log?: Log; signal?: AbortSignal }) => Promise<{ data: CVProcessData<Base64Bytes> }>;

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
  /** The body limit of /v1/images/edits (its upload); default the app's. */
  imageBodyLimitBytes?: number;
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
  const cv = CvError.from(err);
  const msg = cv.internal ? `${cv.code} the server could not make the image; try again` : `${cv.code} ${cv.message}`;
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

/** The form fields of a multipart body: text values as strings, files as Blobs (several under one name kept in order). */
export type FormFields = ReadonlyMap<string, Array<string | Blob>>;

/** A multipart/form-data body (Buffer) → its fields, by the platform's own parser (undici's Response.formData). */
export async function readForm(body: Buffer, contentType: string | undefined): Promise<FormFields> {
  if (!contentType || !/^multipart\/form-data\b/i.test(contentType)) throw invalid("the body must be multipart/form-data (fields 'image' and 'prompt')", null, 'invalid_type');
  let form: FormData;
  try {
    form = await new Response(new Blob([new Uint8Array(body)]), { headers: { 'content-type': contentType } }).formData();
  } catch (err) {
    throw invalid(`the multipart body could not be read: ${(err as Error).message}`, null, 'invalid_multipart');
  }
  const out = new Map<string, Array<string | Blob>>();
  for (const [k, v] of form.entries()) {
    const key = k.endsWith('[]') ? k.slice(0, -2) : k;
    out.set(key, [...(out.get(key) ?? []), v]);
  }
  return out;
}

/** A text field of a form, as JSON would carry it: numbers and booleans parsed where the field wants them. */
function formValue(form: FormFields, k: string, kind: 'string' | 'integer' | 'number' | 'boolean'): unknown {
  const vs = form.get(k);
  if (!vs || vs.length === 0) return undefined;
  const v = vs[0]!;
  if (typeof v !== 'string') throw invalid(`'${k}' must be a text field`, k, 'invalid_type');
  if (kind === 'string') return v;
  if (kind === 'boolean') {
    if (v === 'true' || v === 'false') return v === 'true';
    throw invalid(`'${k}' must be true or false`, k, 'invalid_type');
  }
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || (kind === 'integer' && !Number.isInteger(x))) throw invalid(`'${k}' must be ${kind === 'integer' ? 'an integer' : 'a number'}`, k, 'invalid_type');
  return x;
}

/**
 * Validates an image-edit form and turns it into jimeng_i2i_v30 requests: exactly one `image` (PNG or JPEG,
 * the 3.x limits), `prompt`, `n`, `size` (`auto`: the input's size fitted to 1536, multiples of 16),
 * `response_format`, `output_format`; mengtu extensions `strength` (0…1, default 0.5), `seed`, `steps`,
 * `guidance_scale`, `negative_prompt`, `scheduler`. `mask` (inpainting) is refused: not supported.
 */
export async function parseEditsRequest(form: FormFields, servedModel: string): Promise<ImagesRequest> {
  const images = form.get('image') ?? [];
  if (images.length === 0) throw invalid("'image' is required (one PNG or JPEG file)", 'image', 'missing_required_parameter');
  if (images.length > 1) throw invalid("'image' takes exactly one file here", 'image');
  const image = images[0]!;
  if (typeof image === 'string') throw invalid("'image' must be a file", 'image', 'invalid_type');
  if (form.has('mask')) throw invalid("'mask' (inpainting) is not supported; the whole image is edited", 'mask', 'unsupported_parameter');
  const o: Record<string, unknown> = {};
  for (const k of ['prompt', 'model', 'response_format', 'output_format', 'size', 'negative_prompt', 'scheduler', 'quality', 'user', 'background', 'input_fidelity']) o[k] = formValue(form, k, 'string');
  for (const k of ['n', 'output_compression', 'seed', 'steps']) o[k] = formValue(form, k, 'integer');
  for (const k of ['strength', 'guidance_scale']) o[k] = formValue(form, k, 'number');
  const { n, responseFormat, outputFormat, compression, prompt, seed } = commonFields(o, servedModel);
  const size = (o.size as string | undefined) ?? 'auto';
  let dims: { width?: number; height?: number } = {};
  if (size !== 'auto') {
    const m = /^(\d{2,5})x(\d{2,5})$/.exec(size);
    if (!m) throw invalid(`'size' must be WIDTHxHEIGHT or 'auto', got '${size}'`, 'size');
    dims = { width: Number(m[1]), height: Number(m[2]) };
  }
  const b64 = Buffer.from(await image.arrayBuffer()).toString('base64');
  const body = (i: number): Record<string, unknown> => ({
    req_key: REQ_KEY_I2I_V30,
    prompt,
    seed: seedFor(seed, i),
    binary_data_base64: [b64],
    scale: o.strength,
    ...dims,
    ...extensions(o),
  });
  return { n, responseFormat, outputFormat, compression, size, requests: parseEach(n, body, parseI2iV30Request) };
}

/** Image i of n uses seed + i (so n pictures differ); -1 stays random. */
function seedFor(seed: number | undefined, i: number): number {
  return seed === undefined || seed === -1 ? -1 : seed + i;
}

/** mengtu's extension fields, passed to the contract's own validation. */
function extensions(o: Record<string, unknown>): Record<string, unknown> {
  return { negative_prompt: o.negative_prompt, steps: o.steps, guidance_scale: o.guidance_scale, scheduler: o.scheduler };
}

/** One contract request per image, the contract's refusal in OpenAI's terms. */
function parseEach(n: number, body: (i: number) => Record<string, unknown>, parse: (b: unknown) => CVProcessRequest): CVProcessRequest[] {
  try {
    return Array.from({ length: n }, (_, i) => parse(body(i)));
  } catch (err) {
    throw fromCvError(err);
  }
}

/** The fields generations and edits share: prompt, model, n, response and output formats, seed. */
function commonFields(o: Record<string, unknown>, servedModel: string): Pick<ImagesRequest, 'n' | 'responseFormat' | 'outputFormat' | 'compression'> & { prompt: string; seed: number | undefined } {
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
  return { n, responseFormat, outputFormat, compression, prompt, seed: num(o, 'seed', true) };
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
  const { n, responseFormat, outputFormat, compression, prompt, seed } = commonFields(o, servedModel);
  const useSr = o.use_sr === undefined ? undefined : o.use_sr === true;
  const size = str(o, 'size') ?? '1024x1024';
  const render = sizeToRender(size, useSr);
  const cv = (i: number): Record<string, unknown> => ({
    req_key: REQ_KEY_V21,
    prompt,
    seed: seedFor(seed, i),
    ...render,
    use_pre_llm: o.use_pre_llm ?? false,
    return_url: false,
    ...extensions(o),
  });
  return { n, responseFormat, outputFormat, compression, size: size === 'auto' ? '1024x1024' : size, requests: parseEach(n, cv, parseCVProcessRequest) };
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
    async (req, reply) =>
      serveImages(req, reply, opts, async () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
        } catch {
          throw invalid('the body must be valid JSON', null, 'invalid_json');
        }
        return parseImagesRequest(body, opts.model);
      }),
  );

  app.post(
    '/v1/images/edits',
    {
      ...(opts.imageBodyLimitBytes ? { bodyLimit: opts.imageBodyLimitBytes } : {}),
      schema: {
        summary: 'OpenAI-compatible image edit (bearer AK:SK, multipart): image-to-image on the model serving jimeng_i2i_v30',
        tags: ['openai'],
        security: [{ bearer: [] }],
        consumes: ['multipart/form-data'],
        response: { 400: errorSchema, 401: errorSchema, 429: errorSchema },
      },
      validatorCompiler: () => () => true,
    },
    async (req, reply) =>
      serveImages(req, reply, opts, async () =>
        parseEditsRequest(await readForm(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), req.headers['content-type']), opts.model),
      ),
  );
}

/** Authenticates, parses (after the key is known), runs each image through the pipeline and answers OpenAI's shape. */
async function serveImages(req: FastifyRequest, reply: FastifyReply, opts: OpenAiOptions, parse: () => Promise<ImagesRequest>): Promise<unknown> {
  let lease: Lease | null = null;
  try {
    const accessKey = authenticateBearer(req, opts);
    const parsed = await parse();
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
        const png = d.binary_data_base64[0]?.bytes ?? Buffer.alloc(0);
        const bytes = await convertImage(png, parsed.outputFormat, parsed.compression);
        const revised = d.rephraser_result || undefined;
        // Bytes until written: the answer streams their base64 in slices (json-body.ts).
        if (parsed.responseFormat === 'b64_json') return { b64_json: new Base64Bytes(bytes), ...(revised ? { revised_prompt: revised } : {}) };
        const url = await opts.publish!(req.id, i, bytes, parsed.outputFormat);
        return { url: url.startsWith('/') ? `${req.protocol}://${req.host}${url}` : url, ...(revised ? { revised_prompt: revised } : {}) };
      }),
    );
    // An edit's 'auto' size is the input's: report what was made.
    const first = results[0]?.data.infer_ctx.params;
    const size = parsed.size === 'auto' && first ? `${first.output_width}x${first.output_height}` : parsed.size;
    return sendJson(reply, { created: Math.floor(Date.now() / 1000), data, output_format: parsed.outputFormat, size });
  } catch (err) {
    return sendOpenAiError(reply, req, err);
  } finally {
    lease?.release();
  }
}

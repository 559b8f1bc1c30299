/**
 * The Jimeng 3.x family a migrating client calls (docs/jimeng-v3.md): 文生图 3.0 / 3.1 (`jimeng_t2i_v30`,
 * `jimeng_t2i_v31`) and 图生图 3.0 智能参考 (`jimeng_i2i_v30`), each answered through the async pair
 * CVSync2AsyncSubmitTask / CVSync2AsyncGetResult. Field tables in the style of V21_FIELDS: 50201 missing,
 * 50204 wrong type, 50200 out of range, 50215 unknown req_key. What needs the decoded picture (its pixel
 * size and ratio, image risk 50411) is checked by the pipeline's input_image stage; what the body alone
 * shows (one image, base64 well-formed and ≤ 4.7 MB, http(s) URLs) is checked here.
 */
import {
  LOGO_INFO_FIELDS,
  REQ_KEY_FIELD,
  REQ_KEY_I2I_V30,
  REQ_KEY_T2I_V30,
  REQ_KEY_T2I_V31,
  REQ_KEY_V21,
  V21_FIELDS,
  parseV21Request,
  withExtensions,
  type CVProcessRequest,
} from './cvprocess.js';
import { CvError } from './errors.js';
import { parseFields, type Fields } from './fields.js';

export const V3_LIMITS = {
  promptMaxChars: 800,
  /** 文生图 3.x: default 1328×1328, each side 512–2048, aspect ratio within 1:3 … 3:1. */
  t2iDefaultSide: 1328,
  t2iSideMin: 512,
  t2iSideMax: 2048,
  maxRatio: 3,
  /** 图生图 3.0: the input file (decoded) at most 4.7 MB and 4096×4096; the output a multiple of 16 up to 1536. */
  inputMaxBytes: Math.floor(4.7 * 1024 * 1024),
  inputMaxSide: 4096,
  outputMaxSide: 1536,
  outputMultiple: 16,
  /** Explicit output sides (an assumption: Volcengine's page names the 1536 cap, not a floor). */
  i2iSideMin: 512,
  urlMaxChars: 2048,
} as const;

const prompt = { ...V21_FIELDS.prompt, maxChars: V3_LIMITS.promptMaxChars } as const;
const t2iSide = { type: 'integer', default: V3_LIMITS.t2iDefaultSide, min: V3_LIMITS.t2iSideMin, max: V3_LIMITS.t2iSideMax } as const;
const i2iSide = { type: 'integer', min: V3_LIMITS.i2iSideMin, max: V3_LIMITS.outputMaxSide } as const;

/** mengtu's extensions, as on jimeng_high_aes_general_v21_L (official clients never send them). */
const EXTENSIONS = {
  negative_prompt: V21_FIELDS.negative_prompt,
  steps: V21_FIELDS.steps,
  guidance_scale: V21_FIELDS.guidance_scale,
  scheduler: V21_FIELDS.scheduler,
} as const satisfies Fields;

export const T2I_V3_FIELDS = {
  req_key: REQ_KEY_FIELD,
  prompt,
  use_pre_llm: { type: 'boolean', default: true },
  seed: V21_FIELDS.seed,
  width: t2iSide,
  height: t2iSide,
  return_url: V21_FIELDS.return_url,
  logo_info: { type: 'object', fields: LOGO_INFO_FIELDS },
  ...EXTENSIONS,
} as const satisfies Fields;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The decoded size of a base64 string (whitespace ignored), or a rule broken. */
export function base64Bytes(s: string): number | string {
  const t = s.replace(/\s+/g, '');
  if (t.length === 0) return 'must not be empty';
  if (t.length % 4 !== 0 || !BASE64.test(t)) return 'must be base64 (A–Z a–z 0–9 + / with = padding)';
  return (t.length / 4) * 3 - (t.endsWith('==') ? 2 : t.endsWith('=') ? 1 : 0);
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}

export const I2I_V30_FIELDS = {
  req_key: REQ_KEY_FIELD,
  binary_data_base64: {
    type: 'string[]',
    items: {
      type: 'string',
      check: (v: string) => {
        const n = base64Bytes(v);
        if (typeof n === 'string') return n;
        return n > V3_LIMITS.inputMaxBytes ? `must be an image of at most 4.7 MB (got ${mb(n)})` : undefined;
      },
    },
  },
  image_urls: {
    type: 'string[]',
    items: {
      type: 'string',
      minChars: 1,
      maxChars: V3_LIMITS.urlMaxChars,
      check: (v: string) => {
        let u: URL;
        try {
          u = new URL(v);
        } catch {
          return 'must be an http or https URL';
        }
        return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : 'must be an http or https URL';
      },
    },
  },
  prompt,
  seed: V21_FIELDS.seed,
  scale: { type: 'number', default: 0.5, min: 0, max: 1 },
  width: i2iSide,
  height: i2iSide,
  return_url: V21_FIELDS.return_url,
  logo_info: { type: 'object', fields: LOGO_INFO_FIELDS },
  ...EXTENSIONS,
} as const satisfies Fields;

function checkRatio(width: number, height: number): void {
  if (Math.max(width, height) > V3_LIMITS.maxRatio * Math.min(width, height)) {
    throw new CvError(50200, `Invalid Param: width/height must have an aspect ratio between 1:3 and 3:1 (got ${width}×${height})`);
  }
}

export function parseT2iV3Request(body: unknown): CVProcessRequest {
  const { negative_prompt, steps, guidance_scale, scheduler, ...r } = parseFields(body, T2I_V3_FIELDS);
  checkRatio(r.width, r.height);
  // Rendered at the size asked (no ×2 super-resolution: 3.x sizes are the output's).
  return withExtensions({ ...r, use_sr: false }, { negative_prompt, steps, guidance_scale, scheduler });
}

export function parseI2iV30Request(body: unknown): CVProcessRequest {
  const { negative_prompt, steps, guidance_scale, scheduler, binary_data_base64, image_urls, width, height, ...r } = parseFields(body, I2I_V30_FIELDS);
  const count = (binary_data_base64?.length ?? 0) + (image_urls?.length ?? 0);
  if (count === 0) throw new CvError(50201, 'Missing Param: binary_data_base64 or image_urls (one image)');
  if (count > 1) throw new CvError(50200, `Invalid Param: binary_data_base64/image_urls must hold exactly one image in all (got ${count})`);
  if ((width === null) !== (height === null)) throw new CvError(50200, 'Invalid Param: width and height must be given together (or neither: the input picture\'s size)');
  if (width !== null && height !== null) checkRatio(width, height);
  const image_input = binary_data_base64
    ? { kind: 'base64' as const, data: binary_data_base64[0]!.replace(/\s+/g, '') }
    : { kind: 'url' as const, url: image_urls![0]! };
  return withExtensions(
    {
      ...r,
      // 0 × 0: the input_image stage sets the size from the picture (fitted to 1536, multiples of 16).
      width: width ?? 0,
      height: height ?? 0,
      use_pre_llm: false,
      use_sr: false,
      image_input,
    },
    { negative_prompt, steps, guidance_scale, scheduler },
  );
}

/** CVSync2AsyncSubmitTask's body: the table chosen by req_key (every served key). */
export function parseSubmitTaskRequest(body: unknown): CVProcessRequest {
  const { req_key } = parseFields(body, { req_key: REQ_KEY_FIELD });
  switch (req_key) {
    case REQ_KEY_V21:
      return parseV21Request(body);
    case REQ_KEY_T2I_V30:
    case REQ_KEY_T2I_V31:
      return parseT2iV3Request(body);
    case REQ_KEY_I2I_V30:
      return parseI2iV30Request(body);
  }
}

/**
 * The output size of an image-to-image request: the asked size, else the input's, fitted inside 1536×1536
 * (aspect kept) with each side rounded to a multiple of 16 (at least 16).
 */
export function i2iOutputSize(inputWidth: number, inputHeight: number, width: number, height: number): { width: number; height: number } {
  const w0 = width > 0 ? width : inputWidth;
  const h0 = height > 0 ? height : inputHeight;
  const k = Math.min(1, V3_LIMITS.outputMaxSide / Math.max(w0, h0));
  const m = V3_LIMITS.outputMultiple;
  const side = (v: number): number => Math.min(V3_LIMITS.outputMaxSide, Math.max(m, Math.round((v * k) / m) * m));
  return { width: side(w0), height: side(h0) };
}

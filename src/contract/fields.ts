/**
 * Declarative field specs: the one validation style for every Action's body (contract §3, §7).
 *
 * A request is described as a table `{ field: spec }`, checked in the table's order, so a request with
 * several problems gets the first one. Each problem gets the contract's code:
 *   - 50201 `Missing Param: <path>`            a required field absent or `null`
 *   - 50204 `Invalid Param Type: <path> must be …`  wrong JSON type (no coercion: "512", 1 for true, 512.5)
 *   - 50200 `Invalid Param: <path> <rule>`     present but out of range / not allowed (including `""`)
 *   - anything else through `refuse` (e.g. 50215 for an unknown req_key)
 * Optional fields: absent or `null` → `default`, or `null` when the spec has no default.
 */
import { CvError } from './errors.js';

/** C0 and C1 control characters (and DEL) other than \t, \n, \r: "不支持特殊字符" (contract §3). */
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/u;

export function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

interface SpecBase<T> {
  /** Absent or `null` → 50201. */
  required?: boolean;
  /** Value for an absent or `null` optional field. */
  default?: T;
  /** Treat `""` as absent (fields that SDKs send empty when unused, e.g. `req_json`). */
  emptyAsAbsent?: boolean;
  /** Extra rule after the built-in ones: returns the rule broken (→ 50200), or nothing when the value is fine. */
  check?: (value: T) => string | undefined;
  /** Replaces the 50200 error for a value out of range / not allowed (e.g. 50215 for req_key). */
  refuse?: (value: T, path: string) => CvError;
}

export interface StringSpec extends SpecBase<string> {
  type: 'string';
  /** In code points. `minChars: 1` refuses `""` with 50200 ("must not be empty"). */
  minChars?: number;
  maxChars?: number;
  /** Free text typed by people: refuse control characters other than \t \n \r (C0, DEL and C1). */
  text?: boolean;
  oneOf?: readonly string[];
}

export interface NumberSpec extends SpecBase<number> {
  /** `integer` refuses 512.5 with 50204; `number` takes any finite number. */
  type: 'integer' | 'number';
  min?: number;
  max?: number;
  oneOf?: readonly number[];
  /** The rule text for out-of-range values, when `must be in [min, max]` / `must be one of …` says it badly. */
  rule?: string;
}

export interface BooleanSpec extends SpecBase<boolean> {
  type: 'boolean';
}

export interface ObjectSpec extends SpecBase<Record<string, unknown>> {
  type: 'object';
  fields: Fields;
  /** The object arrives as a JSON string holding it (GetResult's `req_json`). */
  jsonString?: boolean;
}

/** A JSON array of strings (image lists); `[]` counts as absent, as SDKs send it for an unused list. */
export interface StringArraySpec extends SpecBase<string[]> {
  type: 'string[]';
  /** Each item's rules; its path is `field[i]`. */
  items: StringSpec;
  maxItems?: number;
}

export type FieldSpec = StringSpec | NumberSpec | BooleanSpec | ObjectSpec | StringArraySpec;
export type Fields = Readonly<Record<string, FieldSpec>>;

type Value<S> = S extends { oneOf: readonly (infer E)[] }
  ? E
  : S extends { type: 'string' }
    ? string
    : S extends { type: 'integer' | 'number' }
      ? number
      : S extends { type: 'boolean' }
        ? boolean
        : S extends { type: 'object'; fields: infer F extends Fields }
          ? Parsed<F>
          : S extends { type: 'string[]' }
            ? string[]
            : never;
type AlwaysSet<S> = S extends { required: true } ? true : S extends { default: unknown } ? true : false;

/** The typed result of a field table: required and defaulted fields are always set, others may be `null`. */
export type Parsed<F extends Fields> = {
  -readonly [K in keyof F]: AlwaysSet<F[K]> extends true ? Value<F[K]> : Value<F[K]> | null;
};

const TYPE_WORD = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean',
  object: 'an object',
  'string[]': 'an array of strings',
} as const;

function badType(path: string, word: string): never {
  throw new CvError(50204, `Invalid Param Type: ${path} must be ${word}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function outOfRange<T>(spec: SpecBase<T>, value: T, path: string, rule: string): never {
  throw spec.refuse ? spec.refuse(value, path) : new CvError(50200, `Invalid Param: ${path} ${rule}`);
}

function rangeRule(spec: NumberSpec, v: number): string | undefined {
  if (spec.oneOf !== undefined && !spec.oneOf.includes(v)) return spec.rule ?? `must be one of ${spec.oneOf.join(', ')}`;
  const low = spec.min !== undefined && v < spec.min;
  const high = spec.max !== undefined && v > spec.max;
  if (!low && !high) return undefined;
  if (spec.rule !== undefined) return spec.rule;
  if (spec.min !== undefined && spec.max !== undefined) return `must be in [${spec.min}, ${spec.max}]`;
  return spec.min !== undefined ? `must be at least ${spec.min}` : `must be at most ${spec.max}`;
}

function stringRule(spec: StringSpec, v: string): string | undefined {
  const n = codePointLength(v);
  if (spec.minChars !== undefined && n < spec.minChars) {
    return spec.minChars === 1 ? 'must not be empty' : `must be at least ${spec.minChars} characters (got ${n})`;
  }
  if (spec.maxChars !== undefined && n > spec.maxChars) return `must be at most ${spec.maxChars} characters (got ${n})`;
  if (spec.text && CONTROL_CHARS.test(v)) {
    return 'must not contain control characters (U+0000–U+001F, U+007F–U+009F) other than \\n, \\r and \\t';
  }
  if (spec.oneOf !== undefined && !spec.oneOf.includes(v)) return `must be one of ${spec.oneOf.join(', ')}`;
  return undefined;
}

/** Checks one present, non-null value against its spec; returns the typed value. */
function parseValue(spec: FieldSpec, raw: unknown, path: string): unknown {
  switch (spec.type) {
    case 'string': {
      if (typeof raw !== 'string') badType(path, TYPE_WORD.string);
      const rule = stringRule(spec, raw) ?? spec.check?.(raw);
      if (rule !== undefined) outOfRange(spec, raw, path, rule);
      return raw;
    }
    case 'integer':
    case 'number': {
      const ok = typeof raw === 'number' && Number.isFinite(raw) && (spec.type === 'number' || Number.isInteger(raw));
      if (!ok) badType(path, TYPE_WORD[spec.type]);
      const rule = rangeRule(spec, raw) ?? spec.check?.(raw);
      if (rule !== undefined) outOfRange(spec, raw, path, rule);
      return raw;
    }
    case 'boolean':
      if (typeof raw !== 'boolean') badType(path, TYPE_WORD.boolean);
      return raw;
    case 'object': {
      let obj: unknown = raw;
      if (spec.jsonString) {
        if (typeof raw !== 'string') badType(path, 'a JSON string');
        try {
          obj = JSON.parse(raw);
        } catch {
          badType(path, 'a JSON string of an object');
        }
        if (!isObject(obj)) badType(path, 'a JSON string of an object');
      } else if (!isObject(obj)) {
        badType(path, TYPE_WORD.object);
      }
      const parsed = parseFieldsAt(obj, spec.fields, `${path}.`);
      const rule = spec.check?.(parsed);
      if (rule !== undefined) outOfRange(spec, parsed, path, rule);
      return parsed;
    }
    case 'string[]': {
      if (!Array.isArray(raw)) badType(path, TYPE_WORD['string[]']);
      if (spec.maxItems !== undefined && raw.length > spec.maxItems) outOfRange(spec, raw as string[], path, `must have at most ${spec.maxItems} item${spec.maxItems === 1 ? '' : 's'} (got ${raw.length})`);
      const items = raw.map((item, i) => parseValue(spec.items, item, `${path}[${i}]`) as string);
      const rule = spec.check?.(items);
      if (rule !== undefined) outOfRange(spec, items, path, rule);
      return items;
    }
  }
}

function parseFieldsAt<F extends Fields>(obj: Record<string, unknown>, fields: F, prefix: string): Parsed<F> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(fields)) {
    const path = prefix + name;
    const raw = obj[name];
    const absent =
      raw === undefined || raw === null || (spec.emptyAsAbsent === true && raw === '') || (spec.type === 'string[]' && Array.isArray(raw) && raw.length === 0);
    if (absent) {
      if (spec.required) throw new CvError(50201, `Missing Param: ${path}`);
      out[name] = spec.default ?? null;
      continue;
    }
    out[name] = parseValue(spec, raw, path);
  }
  return out as Parsed<F>;
}

/**
 * Validates a request body against a field table. Fields the table does not name are ignored (cloud
 * behaviour, contract §3); the result holds exactly the table's fields.
 */
export function parseFields<F extends Fields>(body: unknown, fields: F): Parsed<F> {
  if (!isObject(body)) badType('request body', 'a JSON object');
  return parseFieldsAt(body, fields, '');
}

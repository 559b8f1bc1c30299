/**
 * The async pair (contract §7): CVSync2AsyncSubmitTask takes the CVProcess body and answers a task id;
 * CVSync2AsyncGetResult takes {req_key, task_id, req_json?} and answers the task's status, and when it is
 * done the §5 fields. Delivery choices (return_url, logo_info, aigc_meta) come with the fetch, in req_json.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { codePointLength, parseLogoInfo, SERVED_REQ_KEYS, type LogoInfo, type ReqKey } from './cvprocess.js';
import { CvError } from './errors.js';

export type TaskStatus = 'in_queue' | 'generating' | 'done' | 'not_found' | 'expired';

/** The GB 45438 label fields a caller may set for its copy (each ≤ 256 characters). */
export interface AigcMeta {
  content_producer: string;
  producer_id: string;
  content_propagator: string;
  propagate_id: string;
}

export interface GetResultRequest {
  req_key: ReqKey;
  task_id: string;
  return_url: boolean;
  logo_info: LogoInfo | null;
  aigc_meta: AigcMeta | null;
}

const AIGC_FIELDS = ['content_producer', 'producer_id', 'content_propagator', 'propagate_id'] as const;
const AIGC_MAX = 256;

/** A decimal string of up to 19 digits, like Volcengine's (a positive 63-bit integer). */
export function newTaskId(): string {
  const n = randomBytes(8).readBigUInt64BE() & 0x7fff_ffff_ffff_ffffn;
  return (n === 0n ? 1n : n).toString();
}

const jsonObject = z.record(z.string(), z.unknown());

function badType(rule: string): never {
  throw new CvError(50204, `Invalid Param Type: ${rule}`);
}

function invalid(rule: string): never {
  throw new CvError(50200, `Invalid Param: ${rule}`);
}

export function parseGetResultRequest(body: unknown): GetResultRequest {
  const obj = jsonObject.safeParse(body);
  if (!obj.success || Array.isArray(body)) badType('request body must be a JSON object');
  const b = obj.data;

  const reqKey = b.req_key;
  if (reqKey === undefined || reqKey === null) throw new CvError(50201, 'Missing Param: req_key');
  if (typeof reqKey !== 'string') badType('req_key must be a string');
  if (!(SERVED_REQ_KEYS as readonly string[]).includes(reqKey)) {
    throw new CvError(50215, `Input invalid for this service. req_key: unknown value '${reqKey.slice(0, 100)}'`);
  }

  const taskId = b.task_id;
  if (taskId === undefined || taskId === null || taskId === '') throw new CvError(50201, 'Missing Param: task_id');
  if (typeof taskId !== 'string') badType('task_id must be a string');

  let return_url = false;
  let logo_info: LogoInfo | null = null;
  let aigc_meta: AigcMeta | null = null;
  const rawJson = b.req_json;
  if (rawJson !== undefined && rawJson !== null && rawJson !== '') {
    if (typeof rawJson !== 'string') badType('req_json must be a JSON string');
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawJson);
    } catch {
      badType('req_json must be a JSON string of an object');
    }
    const rj = jsonObject.safeParse(parsed);
    if (!rj.success || Array.isArray(parsed)) badType('req_json must be a JSON string of an object');
    const r = rj.data;
    if (r.return_url !== undefined && r.return_url !== null) {
      if (typeof r.return_url !== 'boolean') badType('req_json.return_url must be a boolean');
      return_url = r.return_url;
    }
    if (r.logo_info !== undefined && r.logo_info !== null) {
      const logo = jsonObject.safeParse(r.logo_info);
      if (!logo.success || Array.isArray(r.logo_info)) badType('req_json.logo_info must be an object');
      logo_info = parseLogoInfo(logo.data);
    }
    if (r.aigc_meta !== undefined && r.aigc_meta !== null) {
      const meta = jsonObject.safeParse(r.aigc_meta);
      if (!meta.success || Array.isArray(r.aigc_meta)) badType('req_json.aigc_meta must be an object');
      const m: AigcMeta = { content_producer: '', producer_id: '', content_propagator: '', propagate_id: '' };
      for (const f of AIGC_FIELDS) {
        const v = meta.data[f];
        if (v === undefined || v === null) continue;
        if (typeof v !== 'string') badType(`req_json.aigc_meta.${f} must be a string`);
        if (codePointLength(v) > AIGC_MAX) invalid(`req_json.aigc_meta.${f} must be at most ${AIGC_MAX} characters`);
        m[f] = v;
      }
      aigc_meta = m;
    }
  }
  return { req_key: reqKey as ReqKey, task_id: taskId, return_url, logo_info, aigc_meta };
}

/** `data` while a task has no result: the status with empty image fields, as the cloud answers. */
export function pendingData(status: Exclude<TaskStatus, 'done'>): { binary_data_base64: string[]; image_urls: null; status: TaskStatus } {
  return { binary_data_base64: [], image_urls: null, status };
}

/**
 * The async pair (contract §7): CVSync2AsyncSubmitTask takes the CVProcess body and answers a task id;
 * CVSync2AsyncGetResult takes {req_key, task_id, req_json?} and answers the task's status, and when it is
 * done the §5 fields. Delivery choices (return_url, logo_info, aigc_meta) come with the fetch, in req_json.
 */
import { randomBytes } from 'node:crypto';
import { LOGO_INFO_FIELDS, REQ_KEY_FIELD, type LogoInfo, type ReqKey } from './cvprocess.js';
import { parseFields, type Fields } from './fields.js';

export type TaskStatus = 'in_queue' | 'generating' | 'done' | 'cancelled' | 'not_found' | 'expired';

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

const AIGC_MAX = 256;
const aigcField = { type: 'string', default: '', maxChars: AIGC_MAX } as const;

/** A decimal string of up to 19 digits, like Volcengine's (a positive 63-bit integer). */
export function newTaskId(): string {
  const n = randomBytes(8).readBigUInt64BE() & 0x7fff_ffff_ffff_ffffn;
  return (n === 0n ? 1n : n).toString();
}

export const GET_RESULT_FIELDS = {
  req_key: REQ_KEY_FIELD,
  // Present but empty is out of range (50200), like an empty prompt; absent is 50201.
  task_id: { type: 'string', required: true, minChars: 1 },
  req_json: {
    type: 'object',
    jsonString: true,
    emptyAsAbsent: true,
    fields: {
      return_url: { type: 'boolean', default: false },
      logo_info: { type: 'object', fields: LOGO_INFO_FIELDS },
      aigc_meta: {
        type: 'object',
        fields: { content_producer: aigcField, producer_id: aigcField, content_propagator: aigcField, propagate_id: aigcField },
      },
    },
  },
} as const satisfies Fields;

export function parseGetResultRequest(body: unknown): GetResultRequest {
  const { req_key, task_id, req_json } = parseFields(body, GET_RESULT_FIELDS);
  return {
    req_key,
    task_id,
    return_url: req_json?.return_url ?? false,
    logo_info: req_json?.logo_info ?? null,
    aigc_meta: req_json?.aigc_meta ?? null,
  };
}

export interface CancelTaskRequest {
  req_key: ReqKey;
  task_id: string;
}

/** CVCancelTask's body `{req_key, task_id}`: the same rules as GetResult's fields. */
export const CANCEL_TASK_FIELDS = {
  req_key: REQ_KEY_FIELD,
  task_id: GET_RESULT_FIELDS.task_id,
} as const satisfies Fields;

export function parseCancelTaskRequest(body: unknown): CancelTaskRequest {
  return parseFields(body, CANCEL_TASK_FIELDS);
}

/** `data` while a task has no result: the status with empty image fields, as the cloud answers. */
export function pendingData(status: Exclude<TaskStatus, 'done'>): { binary_data_base64: string[]; image_urls: null; status: TaskStatus } {
  return { binary_data_base64: [], image_urls: null, status };
}

/** The success `data` of CVProcess (contract §5): every key of the seed example, with the same JSON types. */
import type { CVProcessRequest } from './cvprocess.js';

export const INTERNAL_REQ_KEY = 'high_aes_general_v21_L';

/** infer_ctx.params.req_key: the cloud's internal name, the req_key without its `jimeng_` prefix. */
export function internalReqKey(reqKey: string): string {
  return reqKey.replace(/^jimeng_/, '');
}

export interface InferParams {
  app_id: string; aspect_ratio: string; common_params: string; ddim_steps: number; edit_session_id: string;
  fps: number; frames: number; group_name: string; height: number; input_image_url: string; is_only_sr: boolean;
  is_pe: boolean; llm_result: string; media_source: string; n_samples: number; negative_prompt: string;
  ori_prompt: string; origin_request_id: string; output_height: number; output_width: number; pe_result: string;
  predict_tags_result: string; rephraser_result: string; req_key: string; rescale: number; resolution: string;
  scale: number; seed: number; shift: number; sr_img2img_fix_steps: number; sr_scale: number; sr_strength: number;
  sr_upscaler: string; steps: number; strength: number; trace_id: string; translate_negative_prompt: string;
  translate_prompt: string; use_pre_llm: boolean; use_prompt_aug: boolean; use_sr: boolean; version_id: string;
  video_url: string; vlm_edit: string; vlm_input: string; vlm_output: string; width: number;
}

export interface InferCtx {
  algorithm_key: string; app_key: string; created_at: string; generate_id: string; log_id: string;
  params: InferParams; request_id: string; session_id: string; time_stamp: string;
}

/**
 * `I`: how a picture is held. The wire (and the client) has base64 strings; the server keeps the bytes
 * (`Base64Bytes`) until the answer is written, which gives the same JSON.
 */
export interface CVProcessData<I = string> {
  algorithm_base_resp: { status_code: number; status_message: string };
  binary_data_base64: I[];
  image_urls: string[] | null;
  infer_ctx: InferCtx;
  llm_result: string;
  pe_result: string;
  predict_tags_result: string;
  rephraser_result: string;
  request_id: string;
  vlm_result: string;
}

/** What the response echoes of a finished job (the pipeline's job record satisfies it). */
export interface EchoedJob {
  requestId: string;
  request: Pick<CVProcessRequest, 'req_key' | 'prompt' | 'width' | 'height' | 'use_sr' | 'use_pre_llm' | 'image_input' | 'scale'>;
  seed: number;
  steps: number;
  guidanceScale: number;
  negativePrompt: string;
  rewrittenPrompt: string;
  translatedPrompt: string;
  outputWidth: number;
  outputHeight: number;
  srStrength: number;
  /** Which upscaler ran; "" without use_sr. */
  srMethod: string;
}

export interface DeliveredData<I> {
  base64: I[];
  urls: string[] | null;
  /** The caller's access key (echoed as app_key). */
  appKey: string;
  createdAt: Date;
}

export function buildCVProcessData<I>(job: EchoedJob, delivery: DeliveredData<I>): CVProcessData<I> {
  const r = job.request;
  const created = delivery.createdAt;
  const params: InferParams = {
    app_id: '', aspect_ratio: '', common_params: '', ddim_steps: job.steps, edit_session_id: '', fps: 0, frames: 0,
    group_name: '', height: r.height, input_image_url: r.image_input?.url ?? '', is_only_sr: false, is_pe: false,
    llm_result: job.rewrittenPrompt, media_source: '', n_samples: 0, negative_prompt: job.negativePrompt,
    ori_prompt: r.prompt, origin_request_id: '', output_height: job.outputHeight, output_width: job.outputWidth,
    pe_result: '', predict_tags_result: '', rephraser_result: job.rewrittenPrompt, req_key: internalReqKey(r.req_key),
    rescale: 0, resolution: '', scale: job.guidanceScale, seed: job.seed, shift: 0, sr_img2img_fix_steps: 0,
    sr_scale: r.use_sr ? 2 : 0, sr_strength: job.srStrength, sr_upscaler: job.srMethod, steps: 0,
    strength: r.image_input ? (r.scale ?? 0.5) : 0.4, trace_id: '', translate_negative_prompt: '', translate_prompt: job.translatedPrompt,
    use_pre_llm: r.use_pre_llm, use_prompt_aug: false, use_sr: r.use_sr, version_id: '', video_url: '', vlm_edit: '',
    vlm_input: '', vlm_output: '', width: r.width,
  };
  return {
    algorithm_base_resp: { status_code: 0, status_message: 'Success' },
    binary_data_base64: delivery.base64,
    image_urls: delivery.urls,
    infer_ctx: {
      algorithm_key: r.req_key,
      app_key: delivery.appKey,
      created_at: created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      generate_id: '',
      log_id: job.requestId,
      params,
      request_id: job.requestId,
      session_id: '',
      time_stamp: String(Math.floor(created.getTime() / 1000)),
    },
    llm_result: job.rewrittenPrompt,
    pe_result: '',
    predict_tags_result: '',
    rephraser_result: job.rewrittenPrompt,
    request_id: job.requestId,
    vlm_result: '',
  };
}

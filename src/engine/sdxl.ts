/**
 * SDXL's text conditioning, as diffusers' StableDiffusionXLPipeline (and optimum's ORT port of it) builds it:
 *
 * - the prompt goes through both CLIP encoders (text_encoder: ViT-L, text_encoder_2: OpenCLIP bigG, each with
 *   its own tokenizer); from each the **penultimate** hidden state (`hidden_states[-2]`) is taken, and the two are
 *   concatenated on the feature axis (encoder 1 first) → `encoder_hidden_states` [batch, 77, 768 + 1280];
 * - the pooled, projected output of the second encoder (`text_embeds`) → the UNet's `text_embeds`;
 * - `time_ids` = [original height, original width, crop top, crop left, target height, target width] — the
 *   rendered size twice and no crop, as the pipeline's defaults are;
 * - with guidance, the negative prompt goes the same way; when none is given and the model's
 *   `force_zeros_for_empty_prompt` is set (SDXL base and Turbo), the unconditional embeddings are zeros instead.
 *
 * Everything the UNet will be fed is checked against the graphs and configs at load time, so a folder that does
 * not fit fails there with the reason, not in the middle of a request.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { EngineError } from '../contract/errors.js';
import type { SessionConfig } from './execution-provider.js';
import type { ModelFiles } from './model-files.js';
import { OnnxGraph, isDynamic, type ValueInfo } from './onnx-session.js';
import { encodePrompts } from './text-encode.js';
import { loadClipTokenizer, type ClipTokenizer } from './tokenizer.js';

/** A UNet input besides the text states: one row per sample, conditional and (with guidance) unconditional. */
export interface AddedCondition {
  name: string;
  cond: Float32Array;
  uncond: Float32Array | null;
}

/** What the text side hands the denoising loop. */
export interface TextConditioning {
  /** [seq, hidden] each; `uncond` only when guiding. */
  cond: Float32Array;
  uncond: Float32Array | null;
  seq: number;
  hidden: number;
  /** SDXL: `text_embeds` and `time_ids`; none for SD 1.x/2.x. */
  added: AddedCondition[];
}

/** The six SDXL micro-conditioning values the UNet's `time_ids` takes. */
export const TIME_IDS = 6;

const HIDDEN_STATE = /^hidden_states\.(\d+)$/;

/** `hidden_states.{N-1}` of a graph that returns hidden_states.0 (embeddings) … hidden_states.N (last layer). */
export function penultimateHiddenState(graph: OnnxGraph): string {
  const layers = [...graph.outputs.keys()].map((n) => HIDDEN_STATE.exec(n)).filter((m) => m !== null).map((m) => Number(m[1]));
  if (!layers.length) {
    throw new EngineError(
      `${graph.file} returns no hidden_states.N outputs: SDXL conditions on each encoder's penultimate layer (export it with output_hidden_states, as optimum's SDXL export does)`,
    );
  }
  const last = Math.max(...layers);
  if (last < 1 || !graph.outputs.has(`hidden_states.${last - 1}`)) throw new EngineError(`${graph.file}: no penultimate hidden state (outputs end at hidden_states.${last})`);
  return `hidden_states.${last - 1}`;
}

/** A declared dim when it is a fixed number, else null. */
function fixedDim(v: ValueInfo, i: number): number | null {
  return isDynamic(v, i) ? null : Number(v.shape[i]);
}

function configNumber(config: Record<string, unknown> | null, key: string): number | null {
  const v = config?.[key];
  return typeof v === 'number' ? v : null;
}

/** The first of the known values, checked to agree with the others. */
function agree(what: string, values: Array<[string, number | null]>): number | null {
  const known = values.filter((v): v is [string, number] => v[1] !== null);
  for (const [src, v] of known.slice(1)) {
    if (v !== known[0]![1]) throw new EngineError(`SDXL model does not fit together: ${what} is ${known[0]![1]} by ${known[0]![0]} but ${v} by ${src}`);
  }
  return known[0]?.[1] ?? null;
}

export interface SdxlDims {
  /** Hidden sizes of the two encoders' states (null: declared symbolic and no config). */
  hidden1: number | null;
  hidden2: number | null;
  /** Width of the pooled `text_embeds`. */
  pooled: number | null;
  seq: number;
}

export class SdxlText {
  private constructor(
    readonly encoder1: OnnxGraph,
    readonly tokenizer1: ClipTokenizer,
    readonly encoder2: OnnxGraph,
    readonly tokenizer2: ClipTokenizer,
    /** Output names read: each encoder's penultimate hidden state, and the second's pooled projection. */
    readonly outputs: { hidden1: string; hidden2: string; pooled: string },
    /** model_index.json's force_zeros_for_empty_prompt (diffusers' default for SDXL: true). */
    readonly forceZerosForEmptyPrompt: boolean,
    readonly dims: SdxlDims,
  ) {}

  /**
   * Loads text_encoder_2 and tokenizer_2 next to the already loaded first encoder and UNet, and checks that
   * the encoders' outputs, the UNet's inputs and the configs agree.
   */
  static async load(files: ModelFiles, encoder1: OnnxGraph, tokenizer1: ClipTokenizer, unet: OnnxGraph, cfg: SessionConfig, cacheDir?: string): Promise<SdxlText> {
    if (!files.textEncoder2 || !files.tokenizer2Dir) throw new EngineError(`${files.dir} has no text_encoder_2/: not an SDXL-class model`);
    const tokenizer2 = await loadClipTokenizer(files.tokenizer2Dir);
    const encoder2 = await OnnxGraph.load(files.textEncoder2, cfg, cacheDir);
    try {
      const forceZeros = files.modelIndex.force_zeros_for_empty_prompt;
      if (forceZeros !== undefined && typeof forceZeros !== 'boolean') throw new EngineError(`model_index.json: force_zeros_for_empty_prompt must be true or false`);
      const outputs = SdxlText.checkEncoders(encoder1, encoder2);
      const dims = await SdxlText.checkDims(files, encoder1, tokenizer1, encoder2, tokenizer2, unet, outputs);
      return new SdxlText(encoder1, tokenizer1, encoder2, tokenizer2, outputs, forceZeros ?? true, dims);
    } catch (err) {
      await encoder2.release();
      throw err;
    }
  }

  private static checkEncoders(encoder1: OnnxGraph, encoder2: OnnxGraph): SdxlText['outputs'] {
    encoder1.input('input_ids');
    encoder2.input('input_ids');
    const pooled = encoder2.outputs.get('text_embeds');
    if (!pooled) {
      throw new EngineError(`${encoder2.file} has no text_embeds output (outputs: ${[...encoder2.outputs.keys()].join(', ')}): SDXL's second encoder is a CLIPTextModelWithProjection`);
    }
    if (pooled.shape.length !== 2) throw new EngineError(`${encoder2.file}: text_embeds should be [batch, dim], is declared [${pooled.shape.join(', ')}]`);
    return { hidden1: penultimateHiddenState(encoder1), hidden2: penultimateHiddenState(encoder2), pooled: 'text_embeds' };
  }

  private static async checkDims(
    files: ModelFiles,
    encoder1: OnnxGraph,
    tokenizer1: ClipTokenizer,
    encoder2: OnnxGraph,
    tokenizer2: ClipTokenizer,
    unet: OnnxGraph,
    outputs: SdxlText['outputs'],
  ): Promise<SdxlDims> {
    const need = (name: string): ValueInfo => {
      const v = unet.inputs.get(name);
      if (!v) throw new EngineError(`${unet.file} has no ${name} input (inputs: ${[...unet.inputs.keys()].join(', ')}): the folder has two text encoders but the UNet is not SDXL's`);
      return v;
    };
    const ehs = unet.input('encoder_hidden_states');
    const textEmbeds = need('text_embeds');
    const timeIds = need('time_ids');
    const nIds = fixedDim(timeIds, 1);
    if (nIds !== null && nIds !== TIME_IDS) {
      throw new EngineError(
        `${unet.file}: time_ids takes ${nIds} values; mengtu feeds SDXL's ${TIME_IDS} (original size, crop, target size)` +
          (nIds === 5 ? ' — a 5-value UNet is the SDXL refiner (aesthetic score), which refines images and does not draw from text alone' : ''),
      );
    }
    const [c1, c2] = await Promise.all([configOf(files, 'text_encoder'), configOf(files, 'text_encoder_2')]);
    const hidden1 = agree('text_encoder hidden size', [
      [`${encoder1.file} (${outputs.hidden1})`, fixedDim(encoder1.output(outputs.hidden1), 2)],
      ['text_encoder/config.json', configNumber(c1, 'hidden_size')],
    ]);
    const hidden2 = agree('text_encoder_2 hidden size', [
      [`${encoder2.file} (${outputs.hidden2})`, fixedDim(encoder2.output(outputs.hidden2), 2)],
      ['text_encoder_2/config.json', configNumber(c2, 'hidden_size')],
    ]);
    const pooled = agree('the pooled text_embeds width', [
      [`${encoder2.file} (text_embeds)`, fixedDim(encoder2.output(outputs.pooled), 1)],
      ['text_encoder_2/config.json projection_dim', configNumber(c2, 'projection_dim')],
      [`${unet.file} (text_embeds input)`, fixedDim(textEmbeds, 1)],
    ]);
    agree('the text state width', [
      ['the two encoders together', hidden1 !== null && hidden2 !== null ? hidden1 + hidden2 : null],
      [`${unet.file} (encoder_hidden_states)`, fixedDim(ehs, 2)],
      ['unet/config.json cross_attention_dim', configNumber(files.unetConfig, 'cross_attention_dim')],
    ]);
    const perId = configNumber(files.unetConfig, 'addition_time_embed_dim');
    agree("the UNet's added embedding input", [
      ['unet/config.json projection_class_embeddings_input_dim', configNumber(files.unetConfig, 'projection_class_embeddings_input_dim')],
      [`text_embeds + ${TIME_IDS} × addition_time_embed_dim`, pooled !== null && perId !== null ? pooled + TIME_IDS * perId : null],
    ]);
    const seq = agree('the token sequence length', [
      ['tokenizer/', tokenizer1.maxLength],
      ['tokenizer_2/', tokenizer2.maxLength],
      [`${encoder1.file} (input_ids)`, fixedDim(encoder1.input('input_ids'), 1)],
      [`${encoder2.file} (input_ids)`, fixedDim(encoder2.input('input_ids'), 1)],
      [`${unet.file} (encoder_hidden_states)`, fixedDim(ehs, 1)],
    ])!;
    return { hidden1, hidden2, pooled, seq };
  }

  /**
   * The conditioning for one image at `height`×`width` (the rendered size). `negative` undefined means
   * "no negative prompt" (zeros when the model asks for them); '' is encoded like any prompt, as in diffusers.
   */
  async encode(prompt: string, negative: string | undefined, guide: boolean, height: number, width: number): Promise<TextConditioning> {
    const zeroUncond = guide && negative === undefined && this.forceZerosForEmptyPrompt;
    const prompts = guide && !zeroUncond ? [negative ?? '', prompt] : [prompt];
    const { hidden1, hidden2, pooled } = this.outputs;
    // One after the other: each session already uses every core.
    const e1 = await encodePrompts(this.encoder1, this.tokenizer1, prompts, [hidden1]);
    const e2 = await encodePrompts(this.encoder2, this.tokenizer2, prompts, [hidden2, pooled]);
    const seq = this.dims.seq;
    const h1 = e1[hidden1]![0]!.length / seq;
    const h2 = e2[hidden2]![0]!.length / seq;
    const concat = (i: number): Float32Array => {
      const a = e1[hidden1]![i]!;
      const b = e2[hidden2]![i]!;
      const out = new Float32Array(seq * (h1 + h2));
      for (let t = 0; t < seq; t++) {
        out.set(a.subarray(t * h1, (t + 1) * h1), t * (h1 + h2));
        out.set(b.subarray(t * h2, (t + 1) * h2), t * (h1 + h2) + h1);
      }
      return out;
    };
    const last = prompts.length - 1;
    const cond = concat(last);
    const pooledCond = e2[pooled]![last]!;
    let uncond: Float32Array | null = null;
    let pooledUncond: Float32Array | null = null;
    if (guide) {
      uncond = zeroUncond ? new Float32Array(cond.length) : concat(0);
      pooledUncond = zeroUncond ? new Float32Array(pooledCond.length) : e2[pooled]![0]!;
    }
    const timeIds = Float32Array.of(height, width, 0, 0, height, width);
    return {
      cond,
      uncond,
      seq,
      hidden: h1 + h2,
      added: [
        { name: 'text_embeds', cond: pooledCond, uncond: pooledUncond },
        { name: 'time_ids', cond: timeIds, uncond: guide ? timeIds : null },
      ],
    };
  }

  async release(): Promise<void> {
    await this.encoder2.release();
  }
}

async function configOf(files: ModelFiles, component: string): Promise<Record<string, unknown> | null> {
  try {
    const v: unknown = JSON.parse(await readFile(path.join(files.dir, component, 'config.json'), 'utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null; // optional: the graphs' own declarations are checked either way
  }
}

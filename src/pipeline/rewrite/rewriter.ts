/**
 * Prompt rewrite (use_pre_llm). With use_pre_llm the prompt is expanded — by the configured LLM when
 * there is one, else (or when it fails, times out or drops quoted text) by the deterministic rules.
 * Without it nothing is expanded, but Chinese is still translated for an English-only text encoder, and
 * nothing CJK reaches such an encoder (what the dictionaries lack is transliterated and logged). For a
 * model whose encoder reads Chinese (registry flag) nothing is translated.
 */
import type { Log } from '../types.js';
import { expandPrompt } from './expand.js';
import { llmExpand, LlmRewriteError, type LlmConfig } from './llm.js';
import { preservesQuotes } from './quoted.js';
import { forEnglishEncoder, hasChinese, translateDetailed, type Translation } from './translate.js';
import type { SubjectType } from './subject.js';

export interface RewriteOptions {
  usePreLlm: boolean;
  signal?: AbortSignal;
  /** Where to log an LLM fallback for this call (e.g. the request logger); default the rewriter's. */
  log?: Log;
}

export interface RewriteResult {
  /** The rewritten prompt (echoed as rephraser_result); "" when use_pre_llm is off. */
  rephraser: string;
  /** Same text as `rephraser` (echoed as llm_result); "" when use_pre_llm is off. */
  llmResult: string;
  /** English rendering of the original prompt when it was Chinese (translate_prompt), else "". */
  translated: string;
  /** What the diffusion model is asked for. */
  modelPrompt: string;
  source: 'rules' | 'llm' | 'none';
  /** Subject type the rules detected (rules source only). */
  subject?: SubjectType;
  /** Why the LLM was not used although configured. */
  fallbackReason?: string;
}

export interface PromptRewriter {
  rewrite(prompt: string, opts: RewriteOptions): Promise<RewriteResult>;
  /** Whether an LLM endpoint is configured. */
  readonly llmEnabled: boolean;
}

export interface PromptRewriterOptions {
  /** LLM endpoint; none (undefined or null) = rules only. */
  llm?: LlmConfig | null;
  log?: Log;
  /** The model's text encoder reads Chinese (registry `textEncoderReadsChinese`): nothing is translated. */
  encoderReadsChinese?: boolean;
}

export function createPromptRewriter(opts: PromptRewriterOptions = {}): PromptRewriter {
  const llm = opts.llm ?? undefined;
  const native = opts.encoderReadsChinese === true;

  /** The translation for an English-only encoder ("" for a native one), logging what had no dictionary entry. */
  function translate(prompt: string, log: Log | undefined): string {
    if (native) return '';
    const t: Translation = translateDetailed(prompt);
    if (t.transliterated.length > 0 || t.dropped.length > 0) {
      log?.info({ transliterated: t.transliterated, dropped: t.dropped }, 'prompt translation: characters without a dictionary entry');
    }
    return t.text;
  }

  /** What the encoder is given: no CJK at all unless it reads Chinese. */
  const forModel = (text: string): string => (native ? text : forEnglishEncoder(text));

  function byRules(prompt: string, translated: string, fallbackReason?: string): RewriteResult {
    const { text, subject } = expandPrompt(prompt, translated);
    return {
      rephraser: text,
      llmResult: text,
      translated,
      modelPrompt: forModel(text),
      source: 'rules',
      subject,
      ...(fallbackReason ? { fallbackReason } : {}),
    };
  }

  async function rewrite(prompt: string, ro: RewriteOptions): Promise<RewriteResult> {
    const log = ro.log ?? opts.log;
    const translated = translate(prompt, log);
    if (!ro.usePreLlm) {
      return { rephraser: '', llmResult: '', translated, modelPrompt: forModel(translated || prompt), source: 'none' };
    }
    if (!llm) return byRules(prompt, translated);

    let reason: string;
    try {
      const out = await llmExpand(prompt, llm, ro.signal);
      if (preservesQuotes(prompt, out)) {
        // The LLM is asked for English; translate any Chinese it left outside quotes anyway.
        const modelPrompt = forModel(!native && hasChinese(out) ? translate(out, log) || out : out);
        return { rephraser: out, llmResult: out, translated, modelPrompt, source: 'llm' };
      }
      reason = 'quoted-text-changed';
    } catch (err) {
      if (err instanceof LlmRewriteError && err.reason === 'aborted') throw err;
      reason = err instanceof LlmRewriteError ? `${err.reason}: ${err.message}` : `error: ${String(err)}`;
    }
    log?.warn({ reason }, 'prompt rewrite: LLM result not used, falling back to rules');
    return byRules(prompt, translated, reason);
  }

  return { rewrite, llmEnabled: llm !== undefined };
}

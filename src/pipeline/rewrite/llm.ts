/**
 * Optional LLM prompt expansion over an OpenAI-compatible `/chat/completions` endpoint (configured in the
 * runtime's `rewrite` section: MENGTU_LLM_BASE_URL, _MODEL, _API_KEY, _TIMEOUT_MS). Failures are typed
 * (LlmRewriteError with a reason) so the rewriter can fall back to the rules and log why.
 */

export const LLM_SYSTEM_PROMPT = [
  'You rewrite prompts for a text-to-image diffusion model.',
  'Return ONE expanded prompt in English: the subject first, then scene, style, composition, lighting and quality cues,',
  'as comma-separated phrases, at most 70 words. Translate any non-English description into English.',
  'Text inside quotation marks ("…", “…”, 「…」, 『…』) is text to be written in the image:',
  'copy every quoted span exactly, including its quotation marks, without translating or changing it.',
  'Do not add explanations, labels or surrounding quotes; output only the prompt.',
].join(' ');

export interface LlmConfig {
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
}

export type LlmFailure = 'timeout' | 'http' | 'network' | 'bad-response' | 'aborted';

export class LlmRewriteError extends Error {
  readonly reason: LlmFailure;
  constructor(reason: LlmFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LlmRewriteError';
    this.reason = reason;
  }
}

export const DEFAULT_LLM_TIMEOUT_MS = 8000;

interface ChatCompletion {
  choices?: Array<{ message?: { content?: unknown } }>;
}

/** Asks the LLM for an expanded prompt; throws LlmRewriteError on timeout, HTTP error or bad body. */
export async function llmExpand(prompt: string, cfg: LlmConfig, signal?: AbortSignal): Promise<string> {
  const timeout = AbortSignal.timeout(cfg.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const url = `${cfg.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(cfg.apiKey ? { authorization: `Bearer ${cfg.apiKey}` } : {}),
      },
      body: JSON.stringify({
        model: cfg.model,
        temperature: 0,
        messages: [
          { role: 'system', content: LLM_SYSTEM_PROMPT },
          { role: 'user', content: prompt },
        ],
      }),
      signal: combined,
    });
  } catch (err) {
    if (timeout.aborted) throw new LlmRewriteError('timeout', `LLM did not answer within ${cfg.timeoutMs} ms`, { cause: err });
    if (signal?.aborted) throw new LlmRewriteError('aborted', 'request aborted', { cause: err });
    throw new LlmRewriteError('network', `LLM request failed: ${(err as Error).message}`, { cause: err });
  }
  let body: string;
  try {
    body = await res.text();
  } catch (err) {
    const reason: LlmFailure = timeout.aborted ? 'timeout' : signal?.aborted ? 'aborted' : 'network';
    throw new LlmRewriteError(reason, `LLM response body failed: ${(err as Error).message}`, { cause: err });
  }
  if (!res.ok) throw new LlmRewriteError('http', `LLM answered HTTP ${res.status}`);
  let parsed: ChatCompletion;
  try {
    parsed = JSON.parse(body) as ChatCompletion;
  } catch (err) {
    throw new LlmRewriteError('bad-response', 'LLM answer is not JSON', { cause: err });
  }
  const content = parsed.choices?.[0]?.message?.content;
  if (typeof content !== 'string' || content.trim().length === 0) {
    throw new LlmRewriteError('bad-response', 'LLM answer has no choices[0].message.content');
  }
  return content.trim();
}

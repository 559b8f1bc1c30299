/**
 * Chinese → English for the model, measured: concept recall against hand-written reference lists, the share
 * of prompts with any CJK left in what the encoder sees, and milliseconds per prompt (rules only, no LLM).
 * `npm run bench:translate [-- --show | --misses]`: every prompt, or those missing a concept, with the English.
 */
import { pathToFileURL } from 'node:url';
import { createPromptRewriter } from '../src/pipeline/rewrite/rewriter.js';
import { DEV_COUNT, TRANSLATE_CASES, type TranslateCase } from './translate-prompts.js';

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303F\uFF00-\uFFEF]/u;

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Concepts of `c` the English text mentions (any accepted spelling, at a word start). */
export function conceptHits(c: TranslateCase, english: string): { hit: string[]; miss: string[] } {
  const text = english.toLowerCase();
  const hit: string[] = [];
  const miss: string[] = [];
  for (const concept of c.concepts) {
    const ok = concept.split('|').some((alt) => new RegExp(`(?<![a-z])${escape(alt.toLowerCase())}`).test(text));
    (ok ? hit : miss).push(concept);
  }
  return { hit, miss };
}

export interface TranslateBenchResult {
  prompts: number;
  recall: number;
  recallDev: number;
  recallHeldOut: number;
  cjkShareTranslated: number;
  cjkShareExpanded: number;
  firstCallMs: number;
  msPerPrompt: number;
}

export async function runTranslateBench(opts: { show?: boolean; misses?: boolean; log?: (s: string) => void } = {}): Promise<TranslateBenchResult> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const rewriter = createPromptRewriter({ llm: null });
  // The first call loads the segmenter and the dictionary: reported on its own.
  let t = performance.now();
  await rewriter.rewrite(TRANSLATE_CASES[0]!.zh, { usePreLlm: false });
  const firstCallMs = performance.now() - t;

  const hits = { dev: [0, 0], held: [0, 0] };
  let cjkTranslated = 0;
  let cjkExpanded = 0;
  t = performance.now();
  const outputs: string[] = [];
  for (const c of TRANSLATE_CASES) outputs.push((await rewriter.rewrite(c.zh, { usePreLlm: false })).modelPrompt);
  const msPerPrompt = (performance.now() - t) / TRANSLATE_CASES.length;
  for (const [i, c] of TRANSLATE_CASES.entries()) {
    const english = outputs[i]!;
    const expanded = (await rewriter.rewrite(c.zh, { usePreLlm: true })).modelPrompt;
    const { hit, miss } = conceptHits(c, english);
    const bucket = i < DEV_COUNT ? hits.dev : hits.held;
    bucket[0]! += hit.length;
    bucket[1]! += c.concepts.length;
    if (CJK.test(english)) cjkTranslated++;
    if (CJK.test(expanded)) cjkExpanded++;
    if (opts.show || (opts.misses && miss.length > 0)) {
      log(`${i < DEV_COUNT ? 'dev ' : 'held'} ${c.zh}\n     → ${english}${miss.length ? `\n     missing: ${miss.join(', ')}` : ''}`);
    }
  }
  const n = TRANSLATE_CASES.length;
  const result: TranslateBenchResult = {
    prompts: n,
    recall: (hits.dev[0]! + hits.held[0]!) / (hits.dev[1]! + hits.held[1]!),
    recallDev: hits.dev[0]! / hits.dev[1]!,
    recallHeldOut: hits.held[0]! / hits.held[1]!,
    cjkShareTranslated: cjkTranslated / n,
    cjkShareExpanded: cjkExpanded / n,
    firstCallMs,
    msPerPrompt,
  };
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  log(`prompts                         ${n} (${DEV_COUNT} dev, ${n - DEV_COUNT} held out)`);
  log(`concept recall                  ${pct(result.recall)}  (dev ${pct(result.recallDev)}, held out ${pct(result.recallHeldOut)})`);
  log(`prompts with CJK left           ${pct(result.cjkShareTranslated)} translated, ${pct(result.cjkShareExpanded)} expanded (use_pre_llm)`);
  log(`first call (loads dictionaries) ${firstCallMs.toFixed(0)} ms`);
  log(`ms per prompt after that        ${msPerPrompt.toFixed(2)}`);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runTranslateBench({ show: process.argv.includes('--show'), misses: process.argv.includes('--misses') });
}

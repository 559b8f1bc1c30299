/**
 * A tiny CLIP-style byte-level BPE vocabulary: the 256 byte characters and their `</w>` forms in CLIP's
 * order, a few hundred merges learnt (greedily, deterministically) from a list of English words, then
 * `<|startoftext|>` and `<|endoftext|>` — the same structure as openai/clip-vit-large-patch14's files.
 */
import { byteCharsInVocabOrder } from '../byte-unicode.js';

const CORPUS = `a photo of the cat dog sitting on red blue green yellow chair table in garden with flowers
under sky at night sunset sunrise mountain river lake forest city street car house painting portrait
beautiful detailed high quality realistic landscape an astronaut riding horse space moon stars ocean
beach tree trees bird birds flying over and by from to is are was were this that these those girl boy
woman man old young little big small bright dark light shadow water fire snow rain cloud clouds winter
summer spring autumn style art artist digital oil watercolor sketch drawing cinematic lighting castle
bridge road train boat ship window door room kitchen coffee cup book books reading walking running
standing smiling happy sad colorful black white orange purple pink golden silver wooden stone glass`;

export const TINY_MERGE_COUNT = 300;

/** Merges learnt by repeatedly fusing the most frequent adjacent pair (ties broken by text order). */
export function learnMerges(words: readonly string[], count: number): Array<[string, string]> {
  const freq = new Map<string, number>();
  for (const w of words) freq.set(w, (freq.get(w) ?? 0) + 1);
  let seqs = [...freq.entries()].map(([w, f]) => {
    const chars = Array.from(w);
    chars[chars.length - 1] += '</w>';
    return { chars, f };
  });
  const merges: Array<[string, string]> = [];
  for (let m = 0; m < count; m++) {
    const pairs = new Map<string, number>();
    for (const { chars, f } of seqs) {
      for (let i = 0; i + 1 < chars.length; i++) {
        const k = `${chars[i]} ${chars[i + 1]}`;
        pairs.set(k, (pairs.get(k) ?? 0) + f);
      }
    }
    let best: string | null = null;
    let bestN = 0;
    for (const [k, n] of pairs) {
      if (n > bestN || (n === bestN && best !== null && k < best)) {
        best = k;
        bestN = n;
      }
    }
    if (best === null) break;
    const [a, b] = best.split(' ') as [string, string];
    merges.push([a, b]);
    seqs = seqs.map(({ chars, f }) => {
      const next: string[] = [];
      for (let i = 0; i < chars.length; i++) {
        if (i + 1 < chars.length && chars[i] === a && chars[i + 1] === b) {
          next.push(a + b);
          i++;
        } else next.push(chars[i]!);
      }
      return { chars: next, f };
    });
  }
  return merges;
}

export interface TinyTokenizerFiles {
  vocab: Record<string, number>;
  merges: Array<[string, string]>;
  mergesTxt: string;
  tokenizerConfig: Record<string, unknown>;
  specialTokensMap: Record<string, unknown>;
}

/** `pad`: the pad token the config names (`!` as SD 2.x/Turbo, or `<|endoftext|>` as SD 1.x). */
export function tinyTokenizerFiles(pad: '!' | '<|endoftext|>' = '!'): TinyTokenizerFiles {
  const words = CORPUS.toLowerCase().split(/\s+/).filter((w) => w.length > 0);
  const merges = learnMerges(words, TINY_MERGE_COUNT);
  const tokens: string[] = [];
  const bytes = byteCharsInVocabOrder().map(([, ch]) => ch);
  tokens.push(...bytes, ...bytes.map((c) => `${c}</w>`));
  for (const [a, b] of merges) tokens.push(a + b);
  tokens.push('<|startoftext|>', '<|endoftext|>');
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => {
    if (!(t in vocab)) vocab[t] = i;
  });
  const special = (content: string): Record<string, unknown> => ({
    __type: 'AddedToken',
    content,
    lstrip: false,
    normalized: true,
    rstrip: false,
    single_word: false,
  });
  return {
    vocab,
    merges,
    mergesTxt: `#version: 0.2\n${merges.map(([a, b]) => `${a} ${b}`).join('\n')}\n`,
    tokenizerConfig: {
      add_prefix_space: false,
      bos_token: special('<|startoftext|>'),
      clean_up_tokenization_spaces: true,
      do_lower_case: true,
      eos_token: special('<|endoftext|>'),
      errors: 'replace',
      model_max_length: 77,
      pad_token: pad === '!' ? '!' : special(pad),
      tokenizer_class: 'CLIPTokenizer',
      unk_token: special('<|endoftext|>'),
    },
    specialTokensMap: {
      bos_token: '<|startoftext|>',
      eos_token: '<|endoftext|>',
      pad_token: pad,
      unk_token: '<|endoftext|>',
    },
  };
}

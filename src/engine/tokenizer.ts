/**
 * CLIP's tokenizer, as Hugging Face's CLIPTokenizer(Fast) runs it for Stable Diffusion: NFC, whitespace
 * collapsed, lower-cased; split into words/digits/punctuation runs; byte-level BPE with `</w>` word ends;
 * `<|startoftext|> … <|endoftext|>`, truncated to model_max_length (keeping the end token) and padded with
 * the config's pad token. The BPE itself is @huggingface/tokenizers; a model that ships only
 * vocab.json + merges.txt gets the equivalent tokenizer.json built in memory.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { EngineError } from '../contract/errors.js';

const BOS = '<|startoftext|>';
const EOS = '<|endoftext|>';
/** CLIP's word pattern (openai/CLIP simple_tokenizer.py). */
const CLIP_PATTERN = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

export interface ClipTokenizer {
  /** 77 for every released SD text encoder. */
  readonly maxLength: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  /** BPE tokens of `text`, without start/end tokens. */
  tokenize(text: string): string[];
  /** Exactly `maxLength` ids: bos, tokens (truncated), eos, padding. */
  encode(text: string): Int32Array;
}

type Json = Record<string, unknown>;

async function readJson(file: string): Promise<Json> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new EngineError(`tokenizer file missing: ${file}`, { cause: err });
  }
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw new EngineError(`tokenizer file is not valid JSON: ${file}`, { cause: err });
  }
}

async function fileExists(file: string): Promise<boolean> {
  return readFile(file).then(
    () => true,
    () => false,
  );
}

/** A token named in tokenizer_config.json: a plain string or an AddedToken object. */
function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content as string;
  return undefined;
}

/** tokenizer.json equivalent to CLIPTokenizerFast built from the slow tokenizer's files. */
export function clipTokenizerJson(vocab: Record<string, number>, merges: Array<[string, string]>): Json {
  const special = (content: string): Json => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(BOS), special(EOS)],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_PATTERN }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [EOS, vocab[EOS]],
      cls: [BOS, vocab[BOS]],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: EOS,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

function parseMerges(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#version') || line.trim() === '') continue;
    const parts = line.split(' ');
    if (parts.length === 2) out.push([parts[0]!, parts[1]!]);
  }
  return out;
}

/** Loads `<dir>` (a model's `tokenizer/` folder). */
export async function loadClipTokenizer(dir: string): Promise<ClipTokenizer> {
  const config = await readJson(path.join(dir, 'tokenizer_config.json'));
  const jsonFile = path.join(dir, 'tokenizer.json');
  let tokenizerJson: Json;
  if (await fileExists(jsonFile)) {
    tokenizerJson = await readJson(jsonFile);
  } else {
    const vocab = (await readJson(path.join(dir, 'vocab.json'))) as Record<string, number>;
    const mergesFile = path.join(dir, 'merges.txt');
    let mergesText: string;
    try {
      mergesText = await readFile(mergesFile, 'utf8');
    } catch (err) {
      throw new EngineError(`tokenizer file missing: ${mergesFile}`, { cause: err });
    }
    tokenizerJson = clipTokenizerJson(vocab, parseMerges(mergesText));
  }
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(tokenizerJson, config);
  } catch (err) {
    throw new EngineError(`cannot build the tokenizer from ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const idOf = (name: string, token: string | undefined): number => {
    const id = token === undefined ? undefined : tok.token_to_id(token);
    if (id === undefined) throw new EngineError(`tokenizer in ${dir}: ${name} ${JSON.stringify(token)} is not in the vocabulary`);
    return id;
  };
  // transformers applies special_tokens_map.json over tokenizer_config.json: SD 2.x ships pad "<|endoftext|>"
  // in the config but "!" in the map, and pads with "!".
  const mapFile = path.join(dir, 'special_tokens_map.json');
  const map = (await fileExists(mapFile)) ? await readJson(mapFile) : {};
  const special = (key: string): string | undefined => tokenContent(map[key]) ?? tokenContent(config[key]);
  const bosId = idOf('bos_token', special('bos_token') ?? BOS);
  const eosId = idOf('eos_token', special('eos_token') ?? EOS);
  // CLIPTokenizer's default pad token is <|endoftext|> (SD 1.x).
  const padId = idOf('pad_token', special('pad_token') ?? EOS);
  const configured = typeof config.model_max_length === 'number' ? config.model_max_length : 77;
  // Some configs carry a huge sentinel (1e30) meaning "unset"; CLIP's text encoders take 77.
  const maxLength = configured > 0 && configured <= 4096 ? configured : 77;

  return {
    maxLength,
    bosId,
    eosId,
    padId,
    tokenize: (text) => tok.tokenize(text, { add_special_tokens: false }),
    encode(text: string): Int32Array {
      const ids = tok.encode(text, { add_special_tokens: false }).ids;
      const out = new Int32Array(maxLength).fill(padId);
      out[0] = bosId;
      const n = Math.min(ids.length, maxLength - 2);
      for (let i = 0; i < n; i++) out[i + 1] = ids[i]!;
      out[n + 1] = eosId;
      return out;
    },
  };
}

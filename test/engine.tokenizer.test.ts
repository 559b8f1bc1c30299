import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EngineError } from '../src/contract/errors.js';
import { byteCharsInVocabOrder } from '../src/engine/byte-unicode.js';
import { clipTokenizerJson, loadClipTokenizer, type ClipTokenizer } from '../src/engine/tokenizer.js';
import { buildTinyModel } from '../src/engine/tiny/build.js';

/**
 * A deliberately naive CLIP BPE (openai/CLIP simple_tokenizer.py, written out plainly) to check the
 * library-backed tokenizer against.
 */
function referenceTokens(text: string, merges: Array<[string, string]>): string[] {
  const ranks = new Map(merges.map(([a, b], i) => [`${a} ${b}`, i]));
  const byteChar = new Map(byteCharsInVocabOrder());
  const clean = text.normalize('NFC').replace(/\s+/g, ' ').trim().toLowerCase();
  const words = clean.match(/<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/gu) ?? [];
  const out: string[] = [];
  for (const w of words) {
    let parts = Array.from(new TextEncoder().encode(w), (b) => byteChar.get(b)!);
    parts[parts.length - 1] += '</w>';
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = ranks.get(`${parts[i]} ${parts[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const [a, b] = [parts[best]!, parts[best + 1]!];
      const next: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i + 1 < parts.length && parts[i] === a && parts[i + 1] === b) {
          next.push(a + b);
          i++;
        } else next.push(parts[i]!);
      }
      parts = next;
    }
    out.push(...parts);
  }
  return out;
}

let root: string;
let modelDir: string;
let sd1Dir: string;
let tok: ClipTokenizer;
let vocab: Record<string, number>;
let merges: Array<[string, string]>;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mengtu-tok-'));
  process.env.MENGTU_HOME = root;
  modelDir = path.join(root, 'turbo');
  sd1Dir = path.join(root, 'sd1');
  await buildTinyModel(modelDir);
  await buildTinyModel(sd1Dir, { padToken: '<|endoftext|>' });
  tok = await loadClipTokenizer(path.join(modelDir, 'tokenizer'));
  vocab = JSON.parse(await readFile(path.join(modelDir, 'tokenizer', 'vocab.json'), 'utf8')) as Record<string, number>;
  const lines = (await readFile(path.join(modelDir, 'tokenizer', 'merges.txt'), 'utf8')).split('\n');
  merges = lines.filter((l) => l && !l.startsWith('#')).map((l) => l.split(' ') as [string, string]);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('CLIP tokenizer', () => {
  it('splits words, lower-cases and keeps punctuation runs together', () => {
    // "a", "photo", "of", "cat" are frequent corpus words, so merges fuse them whole; "!!" is one
    // punctuation run whose two bytes have no merge.
    assert.deepEqual(tok.tokenize('A photo of a CAT!!'), ['a</w>', 'photo</w>', 'of</w>', 'a</w>', 'cat</w>', '!', '!</w>']);
  });

  it('collapses whitespace and ignores leading/trailing space', () => {
    assert.deepEqual(tok.tokenize('  a\t\tphoto \n of   a cat  '), tok.tokenize('a photo of a cat'));
  });

  it("splits contractions and single digits the way CLIP's pattern does", () => {
    // 's is its own word: "'" then "s</w>", since the tiny vocab has no merge for them; digits stand alone.
    assert.deepEqual(tok.tokenize("dog's 42"), ['dog</w>', "'", 's</w>', '4</w>', '2</w>']);
    assert.deepEqual(tok.tokenize('42'), ['4</w>', '2</w>']);
  });

  it('encodes non-ASCII text as UTF-8 byte characters', () => {
    // é is C3 A9; neither byte pair is merged in the tiny vocab, and é ends the word.
    assert.deepEqual(tok.tokenize('é'), ['Ã', '©</w>']);
  });

  it('agrees with a plain reference BPE on varied prompts', () => {
    const prompts = [
      'a beautiful landscape painting of mountains at sunset, highly detailed',
      "An astronaut riding a horse on the moon's surface",
      'Café crème, 3 cups; naïve résumé — ok?!',
      'ROBOTS   and\ndragons 2024 (4k) #art',
      '水彩画 一只猫 🐱',
    ];
    for (const p of prompts) assert.deepEqual(tok.tokenize(p), referenceTokens(p, merges), p);
  });

  it('encodes to exactly 77 ids: start, tokens, end, then "!" padding (SD 2.x / Turbo config)', () => {
    const ids = tok.encode('a photo of a cat');
    assert.equal(ids.length, 77);
    const words = ['a</w>', 'photo</w>', 'of</w>', 'a</w>', 'cat</w>'].map((w) => vocab[w]!);
    assert.deepEqual(Array.from(ids.slice(0, 7)), [vocab['<|startoftext|>']!, ...words, vocab['<|endoftext|>']!]);
    assert.equal(tok.padId, vocab['!']);
    assert.equal(vocab['!'], 0, "'!' is the first byte character in CLIP's vocab order");
    assert.ok(Array.from(ids.slice(7)).every((v) => v === 0));
  });

  it('pads with <|endoftext|> when the config says so (SD 1.x)', async () => {
    const sd1 = await loadClipTokenizer(path.join(sd1Dir, 'tokenizer'));
    const ids = sd1.encode('a cat');
    assert.equal(sd1.padId, sd1.eosId);
    assert.deepEqual(Array.from(ids.slice(3)), new Array(74).fill(sd1.eosId));
  });

  it('special_tokens_map.json overrides tokenizer_config.json, as in transformers (SD 2.x ships both)', async () => {
    const dir = path.join(root, 'sd2-style');
    await mkdir(dir, { recursive: true });
    for (const f of ['vocab.json', 'merges.txt']) await writeFile(path.join(dir, f), await readFile(path.join(modelDir, 'tokenizer', f)));
    const config = JSON.parse(await readFile(path.join(modelDir, 'tokenizer', 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ ...config, pad_token: '<|endoftext|>' }));
    await writeFile(path.join(dir, 'special_tokens_map.json'), JSON.stringify({ pad_token: '!' }));
    assert.equal((await loadClipTokenizer(dir)).padId, 0);
    await rm(path.join(dir, 'special_tokens_map.json'));
    assert.equal((await loadClipTokenizer(dir)).padId, vocab['<|endoftext|>']);
  });

  it('truncates to 75 tokens and still ends with <|endoftext|>', () => {
    const long = Array.from({ length: 60 }, (_, i) => (i % 2 ? 'red' : 'cat')).join(' ') + ' 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0';
    const tokens = tok.tokenize(long);
    assert.ok(tokens.length > 75);
    const ids = tok.encode(long);
    assert.equal(ids.length, 77);
    assert.equal(ids[0], tok.bosId);
    assert.equal(ids[76], tok.eosId);
    assert.deepEqual(Array.from(ids.slice(1, 76)), tokens.slice(0, 75).map((t) => vocab[t]!));
  });

  it('an empty prompt is start, end and padding', () => {
    const ids = tok.encode('');
    assert.equal(ids[0], tok.bosId);
    assert.equal(ids[1], tok.eosId);
    assert.equal(ids[2], tok.padId);
  });

  it('uses tokenizer.json when the model ships one, with the same result', async () => {
    const dir = path.join(root, 'with-json');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(clipTokenizerJson(vocab, merges)));
    await writeFile(path.join(dir, 'tokenizer_config.json'), await readFile(path.join(modelDir, 'tokenizer', 'tokenizer_config.json')));
    const fromJson = await loadClipTokenizer(dir);
    const p = 'Hello, world! A watercolor of 3 birds.';
    assert.deepEqual(Array.from(fromJson.encode(p)), Array.from(tok.encode(p)));
  });

  it('a missing vocab.json is an EngineError naming the file', async () => {
    const dir = path.join(root, 'broken');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'tokenizer_config.json'), '{}');
    await assert.rejects(loadClipTokenizer(dir), (err: unknown) => err instanceof EngineError && err.message.includes(path.join(dir, 'vocab.json')));
  });
});

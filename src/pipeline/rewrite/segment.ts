/**
 * Chinese word segmentation with jieba (@node-rs/jieba, prebuilt binaries, its bundled dictionary).
 * Built lazily, once per process: loading the dictionary takes a fraction of a second.
 */
import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict.js';

export interface SegWord {
  word: string;
  /** jieba's part-of-speech tag (n, v, a, m, q, f, p, uj, x …). */
  tag: string;
  start: number;
  end: number;
}

let jieba: Jieba | undefined;

function instance(): Jieba {
  return (jieba ??= Jieba.withDict(dict));
}

/** Loads the segmenter now instead of on the first Chinese prompt. */
export function warmSegmenter(): void {
  instance();
}

/** Words of `text` with offsets, HMM on so that unseen words (橘猫) stay together. */
export function segment(text: string): SegWord[] {
  const out: SegWord[] = [];
  let at = 0;
  for (const { word, tag } of instance().tag(text, true)) {
    out.push({ word, tag, start: at, end: at + word.length });
    at += word.length;
  }
  return out;
}

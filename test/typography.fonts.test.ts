import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCanvas } from '@napi-rs/canvas';
import { FACES, FAMILIES, familyCoverage, familyFiles, fontString, missingGlyphs } from '../src/typography/fonts.js';
import type { FaceId } from '../src/typography/types.js';

/** GB 2312 level 1: rows 16–55 of the 94×94 table (bytes 0xB0–0xD7), less the five empty cells at the end. */
function gb2312Level1(): string[] {
  const dec = new TextDecoder('gb18030');
  const out: string[] = [];
  for (let row = 16; row <= 55; row++) {
    for (let cell = 1; cell <= 94; cell++) {
      const hi = 0xa0 + row;
      const lo = 0xa0 + cell;
      if (((hi << 8) | lo) >= 0xd7fa && ((hi << 8) | lo) <= 0xd7fe) continue;
      out.push(dec.decode(new Uint8Array([hi, lo])));
    }
  }
  return out;
}

const ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).filter((c) => c !== ' ');
const LEVEL1 = gb2312Level1();

describe('font files', () => {
  it('every family has files in its npm package', () => {
    for (const key of Object.keys(FAMILIES) as Array<keyof typeof FAMILIES>) assert.ok(familyFiles(key).length > 0, key);
  });
  it('GB 2312 level 1 has 3,755 distinct Chinese characters', () => {
    assert.equal(LEVEL1.length, 3755);
    assert.equal(new Set(LEVEL1).size, 3755);
    assert.equal(LEVEL1[0], '啊');
    assert.equal(LEVEL1.at(-1), '座');
    assert.ok(LEVEL1.every((c) => /^\p{Script=Han}$/u.test(c)));
  });
});

describe('glyph coverage (from each font file\'s cmap)', () => {
  for (const face of Object.keys(FACES) as FaceId[]) {
    it(`${face}: every GB 2312 level-1 character and printable ASCII has a glyph in the chain`, () => {
      const missing = missingGlyphs(LEVEL1.join('') + ASCII.join(''), face);
      assert.deepEqual(missing, []);
    });
  }
  it('the chains end in a family that covers everything by itself', () => {
    const noto = familyCoverage('noto-sans');
    for (const ch of [...LEVEL1, ...ASCII]) assert.ok(noto.has(ch.codePointAt(0)!), ch);
  });
  it('the Chinese display faces really are Chinese fonts (most glyphs come from them, not the fallback)', () => {
    for (const key of ['ma-shan-zheng', 'lxgw-wenkai', 'zcool-kuaile'] as const) {
      const cov = familyCoverage(key);
      const have = LEVEL1.filter((c) => cov.has(c.codePointAt(0)!)).length;
      assert.ok(have / LEVEL1.length > 0.99, `${key}: ${have}/${LEVEL1.length}`);
    }
  });
  it('the Latin faces put first in the brush, handwriting and rounded chains cover every ASCII letter and digit', () => {
    // Otherwise Latin text in those styles would silently fall back to the CJK face's weaker Latin glyphs.
    for (const key of ['knewave', 'kalam-bold', 'nunito-extrabold'] as const) {
      const cov = familyCoverage(key);
      assert.deepEqual(ASCII.filter((c) => /[A-Za-z0-9]/.test(c) && !cov.has(c.codePointAt(0)!)), [], key);
    }
  });
  it('detects a missing glyph', () => {
    assert.deepEqual(missingGlyphs('a\u{e000}', 'sans'), ['\u{e000}']);
  });
});

describe('rendered glyphs are not the missing-glyph box', () => {
  const draw = (face: FaceId, ch: string): string => {
    const c = createCanvas(64, 64);
    const ctx = c.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, 64, 64);
    ctx.fillStyle = '#000';
    ctx.font = fontString(face, 48);
    ctx.textBaseline = 'middle';
    ctx.fillText(ch, 4, 32);
    return Buffer.from(ctx.getImageData(0, 0, 64, 64).data).toString('base64');
  };
  // A sample across the table, plus the four characters some subset files lack.
  const sample = [...LEVEL1.filter((_, i) => i % 151 === 0), '毖', '谰', '耪', '锨', 'A', 'g', '&'];
  for (const face of Object.keys(FACES) as FaceId[]) {
    it(`${face}`, () => {
      const tofu = draw(face, '\u{e000}');
      const blank = draw(face, ' ');
      for (const ch of sample) {
        const got = draw(face, ch);
        assert.notEqual(got, tofu, `${ch} drew the missing-glyph box`);
        assert.notEqual(got, blank, `${ch} drew nothing`);
      }
    });
  }
});

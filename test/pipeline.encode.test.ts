import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { RawImage } from '../src/engine/types.js';
import {
  IPTC_TRAINED_ALGORITHMIC_MEDIA,
  PngFormatError,
  encodePng,
  readPngTextChunks,
  splitChunks,
  type AiLabelMeta,
} from '../src/pipeline/encode/index.js';

function image(w: number, h: number, alpha = 255): RawImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    data[i * 4] = (i * 13) & 255;
    data[i * 4 + 1] = (i >> 3) & 255;
    data[i * 4 + 2] = 200;
    data[i * 4 + 3] = alpha;
  }
  return { width: w, height: h, data };
}

const meta: AiLabelMeta = {
  requestId: '20250422150707388ABCDEF0123456789A',
  producer: 'mengtu 梦图 <test & "co">',
  seed: 42,
  model: 'sd-turbo',
  createdAt: '2025-04-22T15:07:07Z',
};

describe('PNG encode with the implicit AI label', () => {
  it('writes Software, Description, AIGC and XMP chunks that parse back', async () => {
    const png = await encodePng(image(64, 48), meta);
    const text = readPngTextChunks(png);
    assert.equal(text.Software, 'mengtu');
    assert.match(text.Description!, /AI-generated.*20250422150707388ABCDEF0123456789A.*seed 42/);
    const aigc = JSON.parse(text.AIGC!) as { AIGC: Record<string, string> };
    assert.equal(aigc.AIGC.Label, '1');
    assert.equal(aigc.AIGC.ContentProducer, meta.producer);
    assert.equal(aigc.AIGC.ProduceID, meta.requestId);
    assert.ok('ContentPropagator' in aigc.AIGC && 'PropagateID' in aigc.AIGC);
    const xmp = text['XML:com.adobe.xmp']!;
    const dst = /Iptc4xmpExt:DigitalSourceType="([^"]+)"/.exec(xmp);
    assert.equal(dst?.[1], IPTC_TRAINED_ALGORITHMIC_MEDIA);
    assert.match(xmp, /xmpMM:DocumentID="20250422150707388ABCDEF0123456789A"/);
    // The producer's markup characters are escaped, so the packet stays well-formed.
    assert.match(xmp, /photoshop:Credit="mengtu 梦图 &lt;test &amp; &quot;co&quot;&gt;"/);
    // Chunks sit before IEND, and IEND is last.
    const types = splitChunks(png).map((c) => c.type);
    assert.equal(types[types.length - 1], 'IEND');
    assert.ok(types.indexOf('iTXt') > types.lastIndexOf('IDAT'));
  });

  it('still decodes to the same pixels (RGB when opaque, RGBA otherwise)', async () => {
    const img = image(33, 21);
    const png = await encodePng(img, meta);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.width, 33);
    assert.equal(info.height, 21);
    assert.equal(info.channels, 3);
    for (let p = 0; p < 33 * 21; p++) for (let c = 0; c < 3; c++) assert.equal(data[p * 3 + c], img.data[p * 4 + c]);
    const translucent = await encodePng(image(8, 8, 128), meta);
    assert.equal((await sharp(translucent).metadata()).channels, 4);
  });

  it('aiLabel off (MENGTU_AI_LABEL=0) or no meta: no label chunks', async () => {
    assert.deepEqual(readPngTextChunks(await encodePng(image(8, 8), meta, { aiLabel: false })), {});
    assert.deepEqual(readPngTextChunks(await encodePng(image(8, 8), null)), {});
  });

  it('the table CRC-32 fallback agrees with zlib', async () => {
    const { tableCrc32, crc32 } = await import('../src/pipeline/encode/png-chunks.js');
    for (const s of ['', 'IEND', 'The quick brown fox', '梦图']) {
      const b = Buffer.from(s, 'utf8');
      assert.equal(tableCrc32(b), crc32(b));
    }
    assert.equal(tableCrc32(Buffer.from('IEND', 'latin1')), 0xae426082);
  });

  it('rejects corrupt PNGs instead of misreading them', async () => {
    const png = Buffer.from(await encodePng(image(8, 8), meta));
    const tampered = Buffer.from(png);
    const at = tampered.indexOf('AIGC', 0, 'latin1');
    tampered[at + 10] = tampered[at + 10]! ^ 1;
    assert.throws(() => readPngTextChunks(tampered), PngFormatError);
    assert.throws(() => readPngTextChunks(Buffer.from('not a png')), PngFormatError);
  });
});

describe('post-diffusion stages chained', () => {
  it('use_sr → watermark → encode (labelled) → store (return_url) through runPipeline', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { parseCVProcessRequest } = await import('../src/contract/cvprocess.js');
    const { newJob, runPipeline } = await import('../src/pipeline/runner.js');
    const { createSuperResolver } = await import('../src/pipeline/sr/index.js');
    const { encodeStage, storeStage, superResolutionStage, watermarkStage } = await import('../src/pipeline/stages/index.js');
    const { createImageHosting, serveImage } = await import('../src/storage/index.js');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mengtu-chain-'));
    try {
      const req = parseCVProcessRequest({
        req_key: 'jimeng_high_aes_general_v21_L',
        prompt: 'a cat',
        width: 256,
        height: 256,
        return_url: true,
        logo_info: { add_logo: true, position: 2, language: 1 },
      });
      const job = newJob(req, 'REQCHAIN01');
      job.seed = 7;
      job.image = image(256, 256);
      const hosting = await createImageHosting({ dataDir: dir, publicBaseUrl: 'http://h' });
      const sr = await createSuperResolver({ mode: 'lanczos' });
      const engine = { modelName: 'tiny-test', img2img: false, generate: () => Promise.reject(new Error('unused')), close: async () => {} };
      const log = { info() {}, warn() {}, error() {}, debug() {} } as unknown as import('../src/pipeline/types.js').Log;
      const done = await runPipeline(
        job,
        [superResolutionStage(sr), watermarkStage, encodeStage({ producer: 'mengtu-test' }), storeStage(hosting)],
        { engine, log },
      );
      assert.equal(done.srMethod, 'lanczos');
      assert.equal(done.encoded.length, 1);
      const meta = await sharp(done.encoded[0]!).metadata();
      assert.equal(meta.width, 512);
      assert.equal(meta.height, 512);
      const label = JSON.parse(readPngTextChunks(done.encoded[0]!).AIGC!) as { AIGC: Record<string, string> };
      assert.equal(label.AIGC.ProduceID, 'REQCHAIN01');
      assert.equal(label.AIGC.ContentProducer, 'mengtu-test');
      const urls = done.imageUrls!;
      assert.equal(urls.length, 1);
      const u = new URL(urls[0]!);
      const served = await serveImage(hosting.store, hosting.signer!, u.pathname.slice('/images/'.length), Object.fromEntries(u.searchParams));
      assert.equal(served.status, 200);
      assert.deepEqual(served.body, done.encoded[0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

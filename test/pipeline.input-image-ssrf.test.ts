/**
 * The image-to-image input download against server-side request forgery: every hop's address is checked
 * where the socket connects (redirects and DNS answers included). Everything runs on loopback: the test
 * block list calls 127.0.0.2 "private" and leaves 127.0.0.1 "public", and a test resolver names them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import { BlockList, type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { CvError } from '../src/contract/errors.js';
import { downloadInputImage, inputImageStage, type InputImageOptions } from '../src/pipeline/stages/input-image.js';
import type { Job } from '../src/pipeline/types.js';
import { gradientPng } from './helpers/pictures.js';

const PUBLIC = '127.0.0.1';
const INTERNAL = '127.0.0.2';

interface Served {
  server: http.Server;
  port: number;
  hits: string[];
}

function serve(host: string, port: number, handler: http.RequestListener): Promise<Served> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ server, port: (server.address() as AddressInfo).port, hits }));
  });
}

async function refused(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof CvError, String(err));
    assert.equal(err.code, 50200);
    assert.match(err.message, message);
    return true;
  });
}

describe('image_urls download: redirects and DNS answers cannot reach a blocked address', () => {
  let picture: Buffer;
  let pub: Served;
  let internal: Served;
  /** Listens on 127.0.0.1 at the internal server's port: where a name resolved "publicly" lands. */
  let twin: Served;
  /** Called when /hang is asked (the caller-abort test aborts there). */
  let onHang: () => void = () => {};
  /** Resolves when the endless body's response closes (the download dropped the connection). */
  let endlessClosed: Promise<void>;
  let markEndlessClosed: () => void;

  const blockedAddresses = new BlockList();
  blockedAddresses.addAddress(INTERNAL);
  const names: Record<string, LookupAddress[]> = {
    'public.test': [{ address: PUBLIC, family: 4 }],
    'internal.test': [{ address: INTERNAL, family: 4 }],
    'mixed.test': [{ address: PUBLIC, family: 4 }, { address: INTERNAL, family: 4 }],
  };
  const lookups: string[] = [];
  const lookup = async (hostname: string): Promise<LookupAddress[]> => {
    lookups.push(hostname);
    const found = names[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found;
  };
  const opts: InputImageOptions = { imageRisk: null, blockedAddresses, lookup };
  const pubUrl = (p: string): string => `http://public.test:${pub.port}${p}`;

  before(async () => {
    picture = await gradientPng(64, 48);
    endlessClosed = new Promise((resolve) => (markEndlessClosed = resolve));
    pub = await serve(PUBLIC, 0, (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const chain = /^\/chain\/(\d+)$/.exec(url.pathname);
      if (url.pathname === '/pic.png') res.writeHead(200, { 'content-type': 'image/png' }).end(picture);
      else if (chain) {
        const n = Number(chain[1]);
        res.writeHead(302, { location: n > 1 ? `/chain/${n - 1}` : '/pic.png' }).end();
      } else if (url.pathname === '/to') res.writeHead(Number(url.searchParams.get('code') ?? 302), { location: url.searchParams.get('url')! }).end();
      else if (url.pathname === '/big') res.writeHead(200, { 'content-length': String(5 * 1024 * 1024) }).end(Buffer.alloc(5 * 1024 * 1024));
      else if (url.pathname === '/endless') {
        // No Content-Length and no end: only the download's cap stops it.
        res.writeHead(200, { 'content-type': 'image/png' });
        const block = Buffer.alloc(64 * 1024);
        const pump = (): void => {
          while (!res.destroyed && res.write(block));
        };
        res.on('drain', pump);
        res.on('close', markEndlessClosed);
        pump();
      } else if (url.pathname === '/hang') onHang();
      else res.writeHead(404).end();
    });
    internal = await serve(INTERNAL, 0, (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(picture));
    twin = await serve(PUBLIC, internal.port, (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(picture));
  });
  after(async () => {
    for (const s of [pub, internal, twin]) {
      s.server.closeAllConnections();
      await new Promise((resolve) => s.server.close(resolve));
    }
  });

  test('a redirect chain between allowed addresses (relative and absolute Locations, every code) gives the picture', async () => {
    assert.deepEqual(await downloadInputImage(pubUrl('/chain/5'), opts), picture);
    for (const code of [301, 302, 303, 307, 308]) {
      const to = encodeURIComponent(`http://${PUBLIC}:${pub.port}/pic.png`);
      assert.deepEqual(await downloadInputImage(pubUrl(`/to?code=${code}&url=${to}`), opts), picture, String(code));
    }
  });

  test('a sixth redirect is refused', async () => {
    await refused(downloadInputImage(pubUrl('/chain/6'), opts), /image_urls\[0\] could not be downloaded \(too many redirects\)/);
  });

  test('a redirect to a blocked address (IP literal or a name resolving there) is refused; the blocked server sees nothing', async () => {
    const before = internal.hits.length;
    for (const target of [`http://${INTERNAL}:${internal.port}/pic.png`, `http://internal.test:${internal.port}/pic.png`, `http://mixed.test:${internal.port}/pic.png`]) {
      for (const code of [301, 302, 307]) {
        await refused(downloadInputImage(pubUrl(`/to?code=${code}&url=${encodeURIComponent(target)}`), opts), /image_urls\[0\] must point at a public address/);
      }
    }
    assert.equal(internal.hits.length, before);
  });

  test('a name whose lookup answers a blocked address is refused at connect; an IP literal there before it', async () => {
    const before = internal.hits.length;
    await refused(downloadInputImage(`http://internal.test:${internal.port}/pic.png`, opts), /must point at a public address/);
    await refused(downloadInputImage(`http://${INTERNAL}:${internal.port}/pic.png`, opts), /must point at a public address/);
    assert.equal(internal.hits.length, before);
    await refused(downloadInputImage(`http://nowhere.test:${internal.port}/pic.png`, opts), /could not be downloaded \(host nowhere\.test not found\)/);
  });

  test('the address checked is the address connected to: one lookup a hop, a later answer is never used', async () => {
    // flip.test answers public first and blocked after (rebinding): a second resolution would land on 127.0.0.2.
    let calls = 0;
    const flip = async (hostname: string): Promise<LookupAddress[]> => [{ address: calls++ === 0 ? PUBLIC : INTERNAL, family: 4 }].filter(() => hostname === 'flip.test');
    const [twinBefore, internalBefore] = [twin.hits.length, internal.hits.length];
    assert.deepEqual(await downloadInputImage(`http://flip.test:${internal.port}/pic.png`, { ...opts, lookup: flip }), picture);
    assert.equal(calls, 1);
    assert.equal(twin.hits.length, twinBefore + 1);
    assert.equal(internal.hits.length, internalBefore);
  });

  test('by default loopback is blocked, by literal and through the system resolver', async () => {
    const before = pub.hits.length;
    for (const url of [`http://127.0.0.1:${pub.port}/pic.png`, `http://[::1]:${pub.port}/pic.png`, `http://localhost:${pub.port}/pic.png`, `http://2130706433:${pub.port}/pic.png`]) {
      await refused(downloadInputImage(url, { imageRisk: null }), /must point at a public address/);
    }
    assert.equal(pub.hits.length, before);
  });

  test('allowPrivateUrls: no address checks at all', async () => {
    assert.deepEqual(await downloadInputImage(`http://${INTERNAL}:${internal.port}/pic.png`, { ...opts, allowPrivateUrls: true }), picture);
    assert.deepEqual(await downloadInputImage(`http://localhost:${pub.port}/chain/2`, { imageRisk: null, allowPrivateUrls: true }), picture);
  });

  test('a redirect to another scheme is refused', async () => {
    await refused(downloadInputImage(pubUrl(`/to?url=${encodeURIComponent('file:///etc/passwd')}`), opts), /could not be downloaded \(redirected to a non-http\(s\) URL\)/);
  });

  test('over 4.7 MB is refused, by Content-Length and while streaming (the connection is dropped)', async () => {
    await refused(downloadInputImage(pubUrl('/big'), opts), /must be an image of at most 4\.7 MB/);
    await refused(downloadInputImage(pubUrl('/endless'), opts), /must be an image of at most 4\.7 MB/);
    await endlessClosed;
  });

  test('a non-2xx answer is refused with its status, after redirects too', async () => {
    await refused(downloadInputImage(pubUrl('/nothing.png'), opts), /could not be downloaded \(HTTP 404\)/);
    await refused(downloadInputImage(pubUrl(`/to?url=${encodeURIComponent('/nothing.png')}`), opts), /could not be downloaded \(HTTP 404\)/);
    await refused(downloadInputImage(pubUrl(`/to?code=500&url=${encodeURIComponent('/pic.png')}`), opts), /could not be downloaded \(HTTP 500\)/);
  });

  test('a server that never answers runs into the deadline', async () => {
    await refused(downloadInputImage(pubUrl('/hang'), { ...opts, fetchTimeoutMs: 100 }), /could not be downloaded \(timed out\)/);
  });

  test('through the stage: the picture is decoded; a caller abort surfaces as the abort, not as 50200', async () => {
    const stage = inputImageStage(opts);
    const log = pino({ level: 'silent' });
    const job = (url: string): Job => ({ request: { width: 0, height: 0, image_input: { kind: 'url', url } } }) as unknown as Job;
    const done = await stage.run(job(pubUrl('/chain/3')), { log });
    assert.deepEqual([done.initImage?.width, done.initImage?.height, done.request.image_input?.bytes], [64, 48, picture.length]);

    const controller = new AbortController();
    const reason = new Error('caller went away');
    onHang = () => controller.abort(reason);
    await assert.rejects(Promise.resolve(stage.run(job(pubUrl('/to?url=%2Fhang')), { log, signal: controller.signal })), (err) => err === reason);
  });
});

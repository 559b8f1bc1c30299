/**
 * Answers that carry pictures, written as a stream of bounded chunks instead of one string.
 *
 * A 1024² answer is ~4 MB of JSON. Sent as one string it held the event loop ~95–125 ms per answer (the
 * picture's base64, fastify's Buffer.byteLength of the body, the socket write converting the string), so
 * /healthz p99 was 113–150 ms while such answers went out. Here the JSON around the pictures is built as text
 * (small), each picture's base64 is made slice by slice as the socket takes it, one chunk per event-loop turn,
 * and Content-Length is known in advance (base64 length is arithmetic). The bytes are exactly JSON.stringify's
 * of the same value: the official SDKs parse it, and `Base64Bytes.toJSON` is what JSON.stringify would use.
 */
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FastifyReply } from 'fastify';
import { Base64Bytes } from '../contract/base64.js';

/** Largest chunk written at once (a 48 KiB slice of a picture as base64; stays out of V8's large-object space). */
export const JSON_CHUNK_BYTES = 64 * 1024;

type Segment = string | Base64Bytes;

/** Plain data as JSON.stringify sees it: arrays, and objects without toJSON whose prototype is Object's or null. */
function isPlainObject(v: object): v is Record<string, unknown> {
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * The value's JSON as text segments and pictures, in JSON.stringify's order. Only arrays and plain objects are
 * walked (that is where pictures sit); anything else is JSON.stringify's own text. Returns false where
 * JSON.stringify gives undefined (functions, symbols, undefined: left out of objects, null in arrays).
 */
function walk(v: unknown, out: Segment[]): boolean {
  if (v instanceof Base64Bytes) {
    // A JSON string: base64 needs no escaping between its quotes.
    out.push('"', v, '"');
    return true;
  }
  if (Array.isArray(v)) {
    out.push('[');
    v.forEach((x, i) => {
      if (i > 0) out.push(',');
      if (!walk(x, out)) out.push('null');
    });
    out.push(']');
    return true;
  }
  if (typeof v === 'object' && v !== null && isPlainObject(v)) {
    out.push('{');
    let first = true;
    for (const key of Object.keys(v)) {
      const mark = out.length;
      out.push(`${first ? '' : ','}${JSON.stringify(key)}:`);
      if (walk(v[key], out)) first = false;
      else out.length = mark;
    }
    out.push('}');
    return true;
  }
  const text = JSON.stringify(v) as string | undefined;
  if (text === undefined) return false;
  out.push(text);
  return true;
}

export interface ChunkedJson {
  /** The body's length in bytes (Content-Length). */
  byteLength: number;
  /** The body, chunk by chunk (each ≤ maxChunk bytes); a picture's base64 is made as it is read. */
  chunks(): Generator<Buffer>;
}

/** The value as bounded chunks, or null when it holds no Base64Bytes (a small answer goes the usual way). */
export function chunkedJson(value: unknown, maxChunk: number = JSON_CHUNK_BYTES): ChunkedJson | null {
  const raw: Segment[] = [];
  walk(value, raw);
  if (!raw.some((s) => s instanceof Base64Bytes)) return null;
  // Adjacent text joined: one Buffer per stretch of JSON between two pictures.
  const parts: Array<Buffer | Base64Bytes> = [];
  let text = '';
  for (const s of raw) {
    if (typeof s === 'string') {
      text += s;
      continue;
    }
    if (text) parts.push(Buffer.from(text, 'utf8'));
    text = '';
    parts.push(s);
  }
  if (text) parts.push(Buffer.from(text, 'utf8'));
  const byteLength = parts.reduce((n, p) => n + p.length, 0);
  return {
    byteLength,
    *chunks() {
      for (const p of parts) {
        if (p instanceof Base64Bytes) yield* p.slices(maxChunk);
        else for (let at = 0; at < p.length; at += maxChunk) yield p.subarray(at, at + maxChunk);
      }
    },
  };
}

/** One chunk per event-loop turn: whatever else is waiting (a /healthz, another answer) runs in between. */
async function* paced(chunks: Iterable<Buffer>): AsyncGenerator<Buffer> {
  let first = true;
  for (const c of chunks) {
    if (!first) await nextTurn();
    first = false;
    yield c;
  }
}

/** The body as a byte stream that makes and yields one chunk per event-loop turn. */
export function pacedStream(body: ChunkedJson): Readable {
  return Readable.from(paced(body.chunks()), { objectMode: false });
}

/** Sends `value` as JSON: streamed in chunks with its Content-Length when it holds pictures, else as usual. */
export function sendJson(reply: FastifyReply, value: unknown): FastifyReply {
  const body = chunkedJson(value);
  if (!body) return reply.send(value);
  return reply.header('Content-Type', 'application/json; charset=utf-8').header('Content-Length', String(body.byteLength)).send(pacedStream(body));
}

/**
 * Answers for what never reaches a route — unknown paths, malformed URLs, bodies too slow or too large,
 * broken HTTP framing — in the OpenAPI envelope (contract §6.3: every error body is one of the two
 * envelopes), plus the deadlines that cut slow clients.
 */
import type { Socket } from 'node:net';
import type { Server } from 'node:http';
import type { FastifyHttpOptions, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../contract/errors.js';
import { gatewayEnvelope, newRequestId } from './envelope.js';

export interface HttpTimeouts {
  /** Whole request (headers and body) must arrive within this, ms; 0 = no limit. */
  requestTimeoutMs: number;
  /** Headers must arrive within this, ms. */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this, ms. */
  keepAliveTimeoutMs: number;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = { requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 72_000 };

interface Scope {
  service: string;
  region: string;
}

function queryParam(url: string, name: string): string {
  const q = url.indexOf('?');
  if (q === -1) return '';
  try {
    return new URLSearchParams(url.slice(q + 1)).get(name) ?? '';
  } catch {
    return '';
  }
}

/** The raw HTTP answer for a connection-level error, written straight to the socket. */
function rawAnswer(err: GatewayError, scope: Scope): string {
  const body = JSON.stringify(gatewayEnvelope(err, newRequestId(), '', '', scope.service, scope.region));
  const reason = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[err.httpStatus] ?? 'Bad Request';
  return (
    `HTTP/1.1 ${err.httpStatus} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

function clientErrorFor(code: string | undefined): GatewayError {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return new GatewayError('RequestTimeout');
  if (code === 'HPE_HEADER_OVERFLOW') return new GatewayError('RequestHeaderFieldsTooLarge');
  return new GatewayError('InvalidRequest', 'malformed HTTP');
}

/** Fastify options: request deadlines, and envelopes for framing errors and malformed URLs. */
export function framingOptions(timeouts: HttpTimeouts, scope: Scope): Partial<FastifyHttpOptions<Server>> {
  return {
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    // Node checks the request and headers deadlines on this interval (its default, 30 s, would let a
    // slow client keep a connection up to 30 s past its deadline).
    http: { connectionsCheckingInterval: 1000, headersTimeout: timeouts.headersTimeoutMs },
    clientErrorHandler(err: Error & { code?: string }, socket: Socket) {
      // A reset or a socket already answered needs no reply.
      if (err.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      socket.end(rawAnswer(clientErrorFor(err.code), scope));
    },
    frameworkErrors(err: Error, req: FastifyRequest, reply: FastifyReply) {
      void reply
        .code(400)
        .header('X-Request-Id', req.id)
        .send(gatewayEnvelope(new GatewayError('InvalidRequest', 'malformed URL'), String(req.id), '', '', scope.service, scope.region));
    },
  };
}

/** Unknown paths and methods: 404 InvalidActionOrVersion, echoing what the request carried. */
export function installNotFound(app: FastifyInstance, scope: Scope): void {
  app.setNotFoundHandler((req, reply) => {
    const action = queryParam(req.url, 'Action');
    const version = queryParam(req.url, 'Version');
    const err = new GatewayError('InvalidActionOrVersion', action, version);
    return reply.code(404).send(gatewayEnvelope(err, String(req.id), action, version, scope.service, scope.region));
  });
}

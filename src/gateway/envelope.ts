/** The two response envelopes (contract §5, §6): CV for business results, OpenAPI ResponseMetadata for gateway errors. */
import { randomBytes } from 'node:crypto';
import { CV_ERRORS, type CvCode, type GatewayError } from '../contract/errors.js';

/** 34 characters like the cloud's: UTC timestamp (14 digits) + 20 upper-case hex. */
export function newRequestId(now: Date = new Date()): string {
  const ts = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return ts + randomBytes(10).toString('hex').toUpperCase();
}

/** Go's time.Duration.String() for a non-negative duration (the Go SDK parses time_elapsed as a string). */
export function goDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const trim = (s: string): string => s.replace(/\.?0+$/, '');
  const fmt = (unit: bigint, digits: number, suffix: string): string => {
    const whole = ns / unit;
    const frac = (ns % unit).toString().padStart(digits, '0');
    return trim(`${whole}.${frac}`) + suffix;
  };
  if (ns < 1_000n) return `${ns}ns`;
  if (ns < 1_000_000n) return fmt(1_000n, 3, 'µs');
  if (ns < 1_000_000_000n) return fmt(1_000_000n, 6, 'ms');
  return fmt(1_000_000_000n, 9, 's');
}

export interface CvEnvelope<T> {
  code: CvCode;
  data: T | null;
  message: string;
  request_id: string;
  status: CvCode;
  time_elapsed: string;
}

export function cvEnvelope<T>(code: CvCode, message: string, data: T | null, requestId: string, startNs: bigint): CvEnvelope<T> {
  return {
    code,
    data,
    message: message || CV_ERRORS[code].message,
    request_id: requestId,
    status: code,
    time_elapsed: goDuration(process.hrtime.bigint() - startNs),
  };
}

export interface OpenApiErrorEnvelope {
  ResponseMetadata: {
    RequestId: string;
    Action: string;
    Version: string;
    Service: string;
    Region: string;
    Error: { CodeN: number; Code: string; Message: string };
  };
}

export function gatewayEnvelope(
  err: GatewayError,
  requestId: string,
  action: string,
  version: string,
  service: string,
  region: string,
): OpenApiErrorEnvelope {
  return {
    ResponseMetadata: {
      RequestId: requestId,
      Action: action,
      Version: version,
      Service: service,
      Region: region,
      Error: { CodeN: err.codeN, Code: err.code, Message: err.message },
    },
  };
}

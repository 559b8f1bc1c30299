/**
 * Typed errors. Business errors carry the Volcengine CV code and are rendered in the CV envelope;
 * gateway errors carry the OpenAPI Code/CodeN and are rendered in the ResponseMetadata envelope.
 * Nothing below the gateway knows about HTTP beyond the status each code implies.
 */

export const CV_ERRORS = {
  10000: { http: 200, message: 'Success' },
  50200: { http: 400, message: 'Invalid Param' },
  50201: { http: 400, message: 'Missing Param' },
  50204: { http: 400, message: 'Invalid Param Type' },
  50213: { http: 413, message: 'Request Body Too Large' },
  50215: { http: 400, message: 'Input invalid for this service.' },
  50400: { http: 403, message: 'Access Denied' },
  50411: { http: 400, message: 'Pre Img Risk Not Pass' },
  50412: { http: 400, message: 'Text Risk Not Pass' },
  50413: { http: 400, message: 'Post Text Risk Not Pass' },
  50429: { http: 429, message: 'Request Has Reached API Limit, Please Try Later' },
  50430: { http: 429, message: 'Request Has Reached API Concurrent Limit, Please Try Later' },
  50500: { http: 500, message: 'Internal Error' },
  50501: { http: 500, message: 'Internal RPC Error' },
  50511: { http: 400, message: 'Post Img Risk Not Pass' },
  50512: { http: 400, message: 'Post Text Risk Not Pass' },
} as const;

export type CvCode = keyof typeof CV_ERRORS;
export type CvErrorCode = Exclude<CvCode, 10000>;

/** A business error: rendered as `{code, message, data: null, ...}` with the code's HTTP status. */
export class CvError extends Error {
  readonly code: CvErrorCode;
  readonly httpStatus: number;
  /** Operator-facing detail for logs only (e.g. which risk rule fired); never sent to the caller. */
  readonly logDetail: string | undefined;

  constructor(code: CvErrorCode, message?: string, options?: { logDetail?: string; cause?: unknown }) {
    super(message ?? CV_ERRORS[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CvError';
    this.code = code;
    this.httpStatus = CV_ERRORS[code].http;
    this.logDetail = options?.logDetail;
  }

  /** Whether this is our failure rather than a refusal of the request (logged as an error; retried by workers). */
  get internal(): boolean {
    return this.code === 50500 || this.code === 50501;
  }

  /** The message a caller may see: internal failures (50500/50501) never carry our text out. */
  get publicMessage(): string {
    return this.internal ? '' : this.message;
  }

  /** Any thrown value as a CvError (an unknown failure is 50500, the original kept as cause). */
  static from(err: unknown): CvError {
    return err instanceof CvError ? err : new CvError(50500, undefined, { cause: err });
  }
}

export const GATEWAY_ERRORS = {
  MissingParameter: { http: 400, codeN: 100002, message: 'The request is missing %s parameter.' },
  MissingAuthenticationToken: { http: 401, codeN: 100003, message: 'Request is missing Authentication Token.' },
  MissingRequestInfo: { http: 400, codeN: 100004, message: 'The request is missing %s information.' },
  MissingSignature: { http: 401, codeN: 100005, message: 'The request is missing signature.' },
  InvalidTimestamp: { http: 400, codeN: 100006, message: 'The Signature of the request is expired.' },
  InvalidActionOrVersion: { http: 404, codeN: 100008, message: 'Could not find operation %s for version %s.' },
  InvalidAccessKey: { http: 401, codeN: 100009, message: 'The accesskey [%s] included in the request is invalid.' },
  SignatureDoesNotMatch: {
    http: 401,
    codeN: 100010,
    message:
      'The request signature we calculated does not match the signature you provided. Check your Secret Access Key and signing method. Consult the service documentation for details.',
  },
  AccessDenied: { http: 403, codeN: 100013, message: 'User is not authorized to perform: %s on resource: %s.' },
  InternalError: { http: 500, codeN: 100014, message: 'Service has some internal Error. Pls Contact With Admin.' },
  // [ours] HTTP framing problems answered before any route runs; Volcengine publishes no code for them.
  InvalidRequest: { http: 400, codeN: 100400, message: 'The request could not be read: %s.' },
  RequestTimeout: { http: 408, codeN: 100408, message: 'The request was not received in time.' },
  RequestHeaderFieldsTooLarge: { http: 431, codeN: 100431, message: 'The request headers are too large.' },
} as const;

export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

/** An error decided before the body is looked at: rendered in the OpenAPI `ResponseMetadata` envelope. */
export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly codeN: number;
  readonly httpStatus: number;

  /** `args` fill the `%s` placeholders of the documented message, in order. */
  constructor(code: GatewayErrorCode, ...args: string[]) {
    const def = GATEWAY_ERRORS[code];
    let i = 0;
    super(def.message.replace(/%s/g, () => args[i++] ?? ''));
    this.name = 'GatewayError';
    this.code = code;
    this.codeN = def.codeN;
    this.httpStatus = def.http;
  }
}

/** Engine-level failure (model missing, corrupt file, runtime failure). Maps to 50501 at the gateway. */
export class EngineError extends CvError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(50501, CV_ERRORS[50501].message, { logDetail: message, ...(options ?? {}) });
    this.name = 'EngineError';
    // Keep the descriptive text for CLI users; the gateway sends CV_ERRORS[50501].message.
    this.message = message;
  }
}

/**
 * The one table of request errors. Callers match on `code` (stable strings, never renamed
 * or renumbered); `status` is the HTTP status the server answers with. Errors are plain
 * values so they survive `postMessage` between the worker threads and the front end.
 */

export const ERRORS = {
  BAD_JSON: { status: 400, message: 'request body is not valid JSON' },
  MISSING_FIELD: { status: 400, message: 'a required field is missing' },
  INVALID_TYPE: { status: 400, message: 'a field has the wrong type' },
  EMPTY_IMP: { status: 400, message: 'imp must be a non-empty array' },
  DUPLICATE_IMP_ID: { status: 400, message: 'imp ids must be unique within the request' },
  SITE_AND_APP: { status: 400, message: 'at most one of site, app and dooh may be present' },
  INVALID_VALUE: { status: 400, message: 'a field has a value outside its allowed range' },
  TOO_MANY_IMPS: { status: 400, message: 'too many impressions in one request' },
  TOO_DEEP: { status: 400, message: 'request JSON is nested too deeply' },
  BODY_TOO_LARGE: { status: 413, message: 'request body is too large' },
  BODY_TIMEOUT: { status: 408, message: 'request body did not arrive in time' },
  BODY_EVICTED: { status: 408, message: 'request body arrived too slowly while receive memory was short' },
  BAD_GZIP: { status: 400, message: 'request body is not valid gzip' },
  UNSUPPORTED_ENCODING: { status: 415, message: 'unsupported content encoding' },
  NOT_FOUND: { status: 404, message: 'not found' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed' },
  NOT_READY: { status: 503, message: 'bidder is not ready' },
  INTERNAL: { status: 500, message: 'internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/**
 * Errors of the admin API on the operations port (src/ops/admin-routes.ts): same shape
 * and body as ERRORS, kept apart because they are not outcomes of bid requests (each code
 * of ERRORS is a series of bidder_requests_total). The admin API also answers NOT_FOUND,
 * METHOD_NOT_ALLOWED, BAD_JSON, BODY_TOO_LARGE and INTERNAL from ERRORS.
 */
export const ADMIN_ERRORS = {
  ADMIN_DISABLED: { status: 404, message: 'the admin API is off (no BIDDER_ADMIN_TOKEN_FILE)' },
  ADMIN_UNAUTHORIZED: { status: 401, message: 'a valid bearer token is required' },
  ADMIN_TIMEOUT: { status: 504, message: 'the admin action did not finish in time' },
  NOT_IMPLEMENTED: { status: 501, message: 'not implemented yet' },
} as const satisfies Record<string, { status: number; message: string }>;

export type AdminErrorCode = keyof typeof ADMIN_ERRORS;

/**
 * Codes of a refused start (StartupError.code in bidder.ts), with what they mean; the
 * loaders return them as values. Older loaders still spell theirs in their own result
 * types (notice-key.ts NOTICE_KEY_*, money-service.ts, ops-listener.ts) until next touched.
 */
export const STARTUP_ERRORS = {
  ADMIN_TOKEN_UNREADABLE: 'BIDDER_ADMIN_TOKEN_FILE cannot be read',
  ADMIN_TOKEN_TOO_SHORT: 'the admin token is shorter than 16 bytes',
  ADMIN_TOKEN_INVALID: 'the admin token holds a byte an Authorization header cannot carry (only visible ASCII)',
} as const satisfies Record<string, string>;

export type StartupErrorCode = keyof typeof STARTUP_ERRORS;

export const ALL_ERROR_CODES: readonly ErrorCode[] = Object.keys(ERRORS) as ErrorCode[];

export interface RequestError {
  code: ErrorCode;
  status: number;
  message: string;
  /** Path of the offending field in the request, e.g. `imp[1].id`. */
  field?: string;
}

/** Errors without a field or custom message are shared frozen values: no allocation. */
const DEFAULT_ERRORS: Readonly<Record<ErrorCode, Readonly<RequestError>>> = (() => {
  const out = {} as Record<ErrorCode, Readonly<RequestError>>;
  for (const code of ALL_ERROR_CODES) {
    out[code] = Object.freeze({ code, status: ERRORS[code].status, message: ERRORS[code].message, field: undefined });
  }
  return out;
})();

/**
 * Builds an error. With a field, the message is prefixed by the field path so that a
 * client reading only `message` still learns what to fix (`imp[1].id: duplicate imp id "1"`).
 */
export function requestError(code: ErrorCode, field?: string, detail?: string): RequestError {
  if (field === undefined && detail === undefined) return DEFAULT_ERRORS[code];
  const text = detail === undefined ? ERRORS[code].message : detail;
  return {
    code,
    status: ERRORS[code].status,
    message: field === undefined ? text : field + ': ' + text,
    field,
  };
}

/** Precomputed bodies for the field-less default errors (the 404/405/413/503 answers). */
const DEFAULT_BODIES: Readonly<Record<ErrorCode, string>> = (() => {
  const out = {} as Record<ErrorCode, string>;
  for (const code of ALL_ERROR_CODES) {
    out[code] = JSON.stringify({ code, message: ERRORS[code].message });
  }
  return out;
})();

/** The JSON body sent with an error status: `{"code":"...","message":"...","field":"..."}`. */
export function errorBody(e: RequestError): string {
  if (e.field === undefined && e.message === ERRORS[e.code].message) return DEFAULT_BODIES[e.code];
  let body = '{"code":"' + e.code + '","message":' + JSON.stringify(e.message);
  if (e.field !== undefined) body += ',"field":' + JSON.stringify(e.field);
  return body + '}';
}

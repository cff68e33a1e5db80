/**
 * The admin API's transport, served in the operations thread under /admin: it checks the
 * bearer token, routes the method and path to an action (admin-protocol.ts), reads and
 * parses the JSON body, then forwards the action to the front end and answers with what
 * comes back, or 504 after timeoutMs. It runs no action itself and shares nothing with
 * the scrape path but the thread: /metrics answers while an action is pending.
 *
 * Every request is counted (bidder_admin_requests_total{action,result}) and logged as one
 * JSON line (sent to the front end, which writes it): never the token, the Authorization
 * header or the body. uWS rules: headers read in the handler, onAborted before anything
 * asynchronous, each onData chunk copied, later writes corked, the body capped.
 */
import { STATUS_CODES } from 'node:http';
import client, { type Registry } from 'prom-client';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ADMIN_ERRORS, ERRORS, type AdminErrorCode, type ErrorCode } from '../errors';
import { STATUS_LINE } from '../util/http-status';
import {
  ADMIN_ACTIONS,
  adminResultOf,
  kAdminRealm,
  kMaxAdminBodyBytes,
  kNoAction,
  matchAdmin,
  type AdminAction,
  type AdminResultLabel,
} from './admin-protocol';
import { bearerMatches } from './admin-token';
import type { FrontMessage, OpsMessage } from './ops-protocol';

export interface AdminRoutesOptions {
  registry: Registry;
  /** SHA-256 of the token (admin-token.ts); null: the admin API is off, every /admin path is 404 ADMIN_DISABLED. */
  tokenDigest: Uint8Array | null;
  timeoutMs: number;
  post: (m: Extract<OpsMessage, { type: 'admin' | 'admin-log' }>) => void;
  /** Monotonic milliseconds (durations). */
  now: () => number;
}

type AnswerCode = AdminErrorCode | Extract<ErrorCode, 'NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'BAD_JSON' | 'TOO_DEEP' | 'BODY_TOO_LARGE' | 'INTERNAL'>;

/** The transport's own answers, built once. */
const kAnswers: Readonly<Record<AnswerCode, { status: number; body: string }>> = (() => {
  const codes: AnswerCode[] = [...(Object.keys(ADMIN_ERRORS) as AdminErrorCode[]), 'NOT_FOUND', 'METHOD_NOT_ALLOWED', 'BAD_JSON', 'TOO_DEEP', 'BODY_TOO_LARGE', 'INTERNAL'];
  const out = {} as Record<AnswerCode, { status: number; body: string }>;
  for (const code of codes) {
    const e = code in ADMIN_ERRORS ? ADMIN_ERRORS[code as AdminErrorCode] : ERRORS[code as ErrorCode];
    out[code] = { status: e.status, body: JSON.stringify({ code, message: e.message }) };
  }
  return out;
})();

const kJson = 'application/json';
const kWwwAuthenticate: [string, string] = ['www-authenticate', `Bearer realm="${kAdminRealm}"`];
/** A logged path longer than this is cut (it is whatever the client sent). */
const kMaxLoggedPath = 200;
/** Results each known action can have, created at 0 before traffic (admin on). */
const kActionResults: readonly AdminResultLabel[] = ['ok', 'bad_request', 'unauthorized', 'not_found', 'not_implemented', 'timeout', 'error'];
/** Results of a request that names no action (admin on). */
const kNoActionResults: readonly AdminResultLabel[] = ['unauthorized', 'not_found', 'method_not_allowed'];

/** Deepest nesting of objects and arrays an admin body may have. */
const kMaxAdminJsonDepth = 64;

/** How deep the arrays and objects of JSON text `text` nest (strings skipped; the text need not be valid). */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

function statusLine(status: number): string {
  return STATUS_LINE[status] ?? `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}

/** One admin request, from its handler to its answer. */
class AdminCall {
  aborted = false;
  /** Answered (or refused) already: later chunks are dropped. */
  done = false;
  chunks: Buffer[] = [];
  received = 0;
  constructor(
    readonly res: HttpResponse,
    readonly method: string,
    readonly path: string,
    readonly action: AdminAction | typeof kNoAction,
    readonly remote: string,
    readonly startedAt: number,
  ) {}
}

interface Pending {
  call: AdminCall;
  timer: NodeJS.Timeout;
}

export class AdminRoutes {
  private readonly counter: client.Counter<'action' | 'result'>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly options: AdminRoutesOptions) {
    this.counter = new client.Counter({
      name: 'bidder_admin_requests_total',
      help: 'Requests to the admin API (/admin on the operations port), by action (unknown: none matched) and result.',
      labelNames: ['action', 'result'],
      registers: [options.registry],
    });
    if (options.tokenDigest === null) {
      for (const action of [...ADMIN_ACTIONS, kNoAction]) this.counter.inc({ action, result: 'disabled' }, 0);
    } else {
      for (const action of ADMIN_ACTIONS) for (const result of kActionResults) this.counter.inc({ action, result }, 0);
      for (const result of kNoActionResults) this.counter.inc({ action: kNoAction, result }, 0);
    }
  }

  /** Serves /admin and everything under it (before the operations listener's catch-all). */
  register(app: TemplatedApp): void {
    app.any('/admin', this.onRequest);
    app.any('/admin/*', this.onRequest);
  }

  /** The front end's answer to a forwarded action; one that timed out is dropped. */
  onResult(m: Extract<FrontMessage, { type: 'admin-result' }>): void {
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    this.finish(p.call, m.status, m.body, adminResultOf(m.status), m.error);
  }

  /** Forgets what is pending (the listener is closing): no timer outlives it. */
  close(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }

  private readonly onRequest = (res: HttpResponse, req: HttpRequest): void => {
    const startedAt = this.options.now();
    // Everything from req now: it is invalid once this function returns.
    const method = req.getMethod().toUpperCase();
    const path = req.getUrl();
    const authorization = req.getHeader('authorization');
    const length = req.getHeader('content-length');
    const hasBody = req.getHeader('transfer-encoding') !== '' || (length !== '' && length !== '0');
    const remote = Buffer.from(res.getRemoteAddressAsText()).toString('latin1');
    const match = matchAdmin(method, path);
    const call = new AdminCall(res, method, path, match.kind === 'action' ? match.route.action : kNoAction, remote, startedAt);
    const digest = this.options.tokenDigest;

    // A refusal before the body is read closes the connection when a body is on its way.
    if (digest === null) return this.refuse(call, 'ADMIN_DISABLED', 'disabled', hasBody);
    if (!bearerMatches(authorization, digest)) return this.refuse(call, 'ADMIN_UNAUTHORIZED', 'unauthorized', hasBody, kWwwAuthenticate);
    if (match.kind === 'unknown') return this.refuse(call, 'NOT_FOUND', 'not_found', hasBody);
    if (match.kind === 'wrong-method') return this.refuse(call, 'METHOD_NOT_ALLOWED', 'method_not_allowed', hasBody, ['allow', match.allow]);

    const action = match.route.action;
    if (match.route.method === 'POST' && length !== '' && Number(length) > kMaxAdminBodyBytes) {
      return this.refuse(call, 'BODY_TOO_LARGE', 'bad_request', true);
    }
    res.onAborted(() => {
      call.aborted = true;
    });
    if (match.route.method === 'GET') {
      this.forward(call, action, {});
      return;
    }
    res.onData((chunk, isLast) => this.onData(call, action, chunk, isLast));
  };

  private onData(call: AdminCall, action: AdminAction, chunk: ArrayBuffer, isLast: boolean): void {
    if (call.done) return;
    const n = chunk.byteLength;
    if (call.received + n > kMaxAdminBodyBytes) {
      call.chunks = [];
      this.refuse(call, 'BODY_TOO_LARGE', 'bad_request', true);
      return;
    }
    if (n > 0) {
      // Copied: uWS reuses the chunk's memory once this callback returns.
      call.chunks.push(Buffer.from(new Uint8Array(chunk)));
      call.received += n;
    }
    if (!isLast) return;
    const text = Buffer.concat(call.chunks, call.received).toString('utf8');
    call.chunks = [];
    let body: unknown = {};
    if (text.trim() !== '') {
      // Refused here: postMessage's copy recurses, and a deep enough value overflows its stack.
      if (jsonDepth(text) > kMaxAdminJsonDepth) {
        this.refuse(call, 'TOO_DEEP', 'bad_request', false);
        return;
      }
      try {
        body = JSON.parse(text);
      } catch {
        this.refuse(call, 'BAD_JSON', 'bad_request', false);
        return;
      }
    }
    this.forward(call, action, body);
  }

  private forward(call: AdminCall, action: AdminAction, body: unknown): void {
    const id = this.nextId++;
    const timer = setTimeout(() => this.timedOut(id), this.options.timeoutMs);
    // The thread must be able to end with an action pending (a drain closes it).
    timer.unref();
    this.pending.set(id, { call, timer });
    call.done = true;
    try {
      this.options.post({ type: 'admin', id, action, body });
    } catch (err) {
      // A body postMessage cannot carry (nested past its depth): answered here, not thrown out of the thread.
      this.pending.delete(id);
      clearTimeout(timer);
      const internal = kAnswers.INTERNAL;
      this.finish(call, internal.status, internal.body, 'error', `cannot forward the action: ${(err as Error).message}`);
    }
  }

  private timedOut(id: number): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    const a = kAnswers.ADMIN_TIMEOUT;
    this.finish(p.call, a.status, a.body, 'timeout');
  }

  private refuse(call: AdminCall, code: AnswerCode, result: AdminResultLabel, close: boolean, header?: [string, string]): void {
    call.done = true;
    const a = kAnswers[code];
    this.finish(call, a.status, a.body, result, undefined, header, close);
  }

  /** Answers (unless the client went away), counts and logs; once per request. */
  private finish(call: AdminCall, status: number, body: string, result: AdminResultLabel, error?: string, header?: [string, string], close = false): void {
    if (!call.aborted) {
      const res = call.res;
      res.cork(() => {
        res.writeStatus(statusLine(status));
        if (header !== undefined) res.writeHeader(header[0], header[1]);
        if (body !== '') res.writeHeader('content-type', kJson);
        res.end(body, close);
      });
    }
    this.counter.inc({ action: call.action, result });
    const entry: Record<string, unknown> = {
      time: new Date().toISOString(),
      event: 'admin',
      method: call.method,
      path: call.path.length > kMaxLoggedPath ? `${call.path.slice(0, kMaxLoggedPath)}...` : call.path,
      action: call.action,
      status,
      result,
      durationMs: Math.round((this.options.now() - call.startedAt) * 10) / 10,
      remote: call.remote,
    };
    if (call.aborted) entry.aborted = true;
    if (error !== undefined) entry.error = error;
    this.options.post({ type: 'admin-log', line: JSON.stringify(entry) });
  }
}

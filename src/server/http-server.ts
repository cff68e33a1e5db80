/**
 * The front end: uWebSockets.js routes. This thread only receives bodies into the shared
 * slab, hands them to the dispatcher, and writes the answers the workers built; it never
 * parses a bid request or runs a model. The only module that touches uWebSockets.js.
 *
 * uWS rules kept here: onAborted is attached before anything asynchronous; each onData
 * chunk is copied out before its callback returns (uWS reuses the memory); headers are
 * read from `req` synchronously inside the handler; every write made later is corked.
 */
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Registry } from 'prom-client';
import type { ServerConfig } from '../config/config';
import { kFlagGzip, kFlagTestCrash, kDelayShift } from '../codec/request-batch';
import type { NoBidReason } from '../decisioning/no-bid-reasons';
import { errorBody, requestError, type ErrorCode } from '../errors';
import { M, STAGES, type OutcomeTable } from '../metrics/definitions';
import type { StageLatency } from '../metrics/latency';
import type { HistogramHandle, SlotWriter } from '../metrics/shared-metrics';
import type { BidJob, Dispatcher, JobSink } from '../pool/dispatcher';
import type { ReceiveSlab } from '../pool/receive-slab';
import { monoNowMs } from '../util/clock';
import type { Uws } from './uws';

const STATUS_LINE: Record<number, string> = {
  200: '200 OK',
  204: '204 No Content',
  400: '400 Bad Request',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  413: '413 Payload Too Large',
  415: '415 Unsupported Media Type',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};
const kJson = 'application/json';
const kOpenRtbVersionHeader = 'x-openrtb-version';
const kOpenRtbVersion = '2.6';

/** Bid requests received and not yet answered (nor abandoned by their client). */
export class InFlightRequests {
  count = 0;
}

/** A bid request in the front end: the dispatcher's job plus the response handle. */
class HttpJob implements BidJob {
  receivedAt = 0;
  offset = -1;
  length = 0;
  done = false;
  /** True once the body is complete and the dispatcher owns the slab region. */
  submitted = false;
  private open = true;
  constructor(
    readonly res: HttpResponse,
    readonly arrivedAt: number,
    public flags: number,
    private readonly tracker: InFlightRequests,
  ) {
    tracker.count++;
  }

  /** The request is answered or abandoned; counted once, whichever comes first. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.tracker.count--;
  }
}

export interface ServerDeps {
  uws: Uws;
  config: ServerConfig;
  testHooks: boolean;
  slab: ReceiveSlab;
  dispatcher: Dispatcher<HttpJob>;
  metrics: SlotWriter;
  outcomes: OutcomeTable;
  latency: StageLatency;
  registry: Registry;
  isReady: () => boolean;
  inFlight: InFlightRequests;
}

export interface RunningServer {
  port: number;
  /** Stops accepting connections; requests already received are still answered. */
  stopAccepting(): void;
  /** Marks the server draining: readyz answers 503, late requests get a 204 and a close. */
  setDraining(): void;
  /** Closes every connection. */
  closeAll(): void;
}

/** Builds the sink through which answers reach clients, recording metrics as they go. */
export function createSink(deps: Pick<ServerDeps, 'metrics' | 'outcomes' | 'latency'>): JobSink<HttpJob> {
  const { metrics, outcomes, latency } = deps;
  const stage: HistogramHandle[] = STAGES.map((s) => metrics.histogram(M.stageDuration, [s]));
  const outcomeOffsets = outcomes.labels.map(([o, r]) => metrics.layout.offset(M.requests, [o, r]));
  const kReceive = STAGES.indexOf('receive');
  const kQueue = STAGES.indexOf('queue');
  const kScore = STAGES.indexOf('score');
  const kRespond = STAGES.indexOf('respond');
  const kTotal = STAGES.indexOf('total');

  const record = (job: HttpJob, startedAt: number, finishedAt: number, now: number): void => {
    const receive = job.receivedAt - job.arrivedAt;
    const total = now - job.arrivedAt;
    metrics.observe(stage[kReceive], receive / 1000);
    metrics.observe(stage[kTotal], total / 1000);
    latency.record(kReceive, receive);
    latency.record(kTotal, total);
    if (startedAt > 0) {
      const queue = startedAt - job.receivedAt;
      const score = finishedAt - startedAt;
      const respond = now - finishedAt;
      metrics.observe(stage[kQueue], queue / 1000);
      metrics.observe(stage[kScore], score / 1000);
      metrics.observe(stage[kRespond], respond / 1000);
      latency.record(kQueue, queue);
      latency.record(kScore, score);
      latency.record(kRespond, respond);
    }
  };

  return {
    answer(job, status, outcome, body, startedAt, finishedAt) {
      job.close();
      metrics.inc(outcomeOffsets[outcome] ?? outcomeOffsets[outcomes.error('INTERNAL')]);
      const res = job.res;
      res.cork(() => {
        res.writeStatus(STATUS_LINE[status] ?? `${status} Unknown`);
        if (body !== null && body.byteLength > 0) {
          res.writeHeader('content-type', kJson);
          if (status === 200) res.writeHeader(kOpenRtbVersionHeader, kOpenRtbVersion);
          res.end(body);
        } else {
          res.endWithoutBody();
        }
      });
      record(job, startedAt, finishedAt, monoNowMs());
    },
    noBid(job, reason: NoBidReason) {
      job.close();
      metrics.inc(outcomeOffsets[outcomes.noBid(reason)]);
      const res = job.res;
      res.cork(() => {
        res.writeStatus(STATUS_LINE[204]).endWithoutBody();
      });
      // Answered by the front end (shed, timed out, worker lost): no worker stages to record.
      if (job.receivedAt > 0) record(job, 0, 0, monoNowMs());
    },
  };
}

export function startServer(deps: ServerDeps): Promise<RunningServer> {
  const { uws, config, slab, metrics, outcomes } = deps;
  const app: TemplatedApp = uws.App();
  const maxBody = config.maxBodyBytes;
  let draining = false;
  let listenSocket: us_listen_socket | null = null;
  const dispatcher = deps.dispatcher;
  const errorOffsets = new Map<ErrorCode, number>();
  const countError = (code: ErrorCode): void => {
    let at = errorOffsets.get(code);
    if (at === undefined) {
      at = metrics.layout.offset(M.requests, outcomes.labels[outcomes.error(code)]);
      errorOffsets.set(code, at);
    }
    metrics.inc(at);
  };
  const drainingOffset = metrics.layout.offset(M.requests, ['no_bid', 'draining']);

  /** Answers from the front end itself (inside the handler, or corked when later). */
  const sendError = (res: HttpResponse, code: ErrorCode, close: boolean, corked: boolean): void => {
    countError(code);
    const e = requestError(code);
    const write = (): void => {
      res.writeStatus(STATUS_LINE[e.status]).writeHeader('content-type', kJson).end(errorBody(e), close);
    };
    if (corked) write();
    else res.cork(write);
  };

  app.post('/openrtb2/bid', (res: HttpResponse, req: HttpRequest) => {
    const arrivedAt = monoNowMs();
    // Read everything we need from req now: it is invalid after this function returns.
    const lengthHeader = req.getHeader('content-length');
    const encoding = req.getHeader('content-encoding');
    let flags = 0;
    if (deps.testHooks) {
      if (req.getHeader('x-test-crash') === '1') flags |= kFlagTestCrash;
      const delay = Number(req.getHeader('x-test-delay-ms'));
      if (delay > 0) flags |= Math.min(delay, 60_000) << kDelayShift;
    }
    if (draining) {
      metrics.inc(drainingOffset);
      res.writeStatus(STATUS_LINE[204]).endWithoutBody(undefined, true);
      return;
    }
    if (encoding !== '') {
      // Content codings are case-insensitive; x-gzip is gzip (RFC 9110 8.4.1).
      const coding = encoding.toLowerCase();
      if (coding === 'gzip' || coding === 'x-gzip') flags |= kFlagGzip;
      else if (coding !== 'identity') {
        sendError(res, 'UNSUPPORTED_ENCODING', true, true);
        return;
      }
    }
    const declared = lengthHeader === '' ? -1 : Number(lengthHeader);
    if (declared > maxBody) {
      // Refuse before reading: the body is never buffered, the connection is closed.
      sendError(res, 'BODY_TOO_LARGE', true, true);
      return;
    }

    const job = new HttpJob(res, arrivedAt, flags, deps.inFlight);
    res.onAborted(() => {
      // The client went away. Before submission the slab region is ours to free; after,
      // the dispatcher frees it when the worker is done with it.
      if (!job.submitted && job.offset >= 0) slab.free(job.offset);
      job.done = true;
      job.close();
    });

    let received = 0;
    if (declared >= 0) {
      job.offset = slab.alloc(declared);
      if (job.offset < 0) {
        job.done = true;
        job.close();
        metrics.inc(metrics.layout.offset(M.requests, ['no_bid', 'overloaded']));
        res.writeStatus(STATUS_LINE[204]).endWithoutBody();
        return;
      }
    }
    // Without content-length (chunked), grow a private buffer and copy into the slab once complete.
    let spill: Uint8Array | null = null;

    res.onData((chunk: ArrayBuffer, isLast: boolean) => {
      if (job.done) return;
      const n = chunk.byteLength;
      if (declared >= 0) {
        if (received + n > declared) {
          job.done = true;
          job.close();
          slab.free(job.offset);
          sendError(res, 'BAD_JSON', true, false);
          return;
        }
        slab.bytes.set(new Uint8Array(chunk), job.offset + received);
      } else {
        if (received + n > maxBody) {
          job.done = true;
          job.close();
          sendError(res, 'BODY_TOO_LARGE', true, false);
          return;
        }
        if (spill === null) spill = new Uint8Array(Math.max(16 * 1024, n));
        else if (received + n > spill.byteLength) {
          const grown = new Uint8Array(Math.min(maxBody, Math.max(spill.byteLength * 2, received + n)));
          grown.set(spill.subarray(0, received));
          spill = grown;
        }
        spill.set(new Uint8Array(chunk), received);
      }
      received += n;
      if (!isLast) return;

      if (declared < 0) {
        job.offset = slab.alloc(received);
        if (job.offset < 0) {
          job.done = true;
          job.close();
          metrics.inc(metrics.layout.offset(M.requests, ['no_bid', 'overloaded']));
          res.cork(() => res.writeStatus(STATUS_LINE[204]).endWithoutBody());
          return;
        }
        if (spill !== null) slab.bytes.set(spill.subarray(0, received), job.offset);
      }
      job.length = received;
      job.receivedAt = monoNowMs();
      job.submitted = true;
      dispatcher.submit(job);
    });
  });

  app.any('/openrtb2/bid', (res) => sendError(res, 'METHOD_NOT_ALLOWED', false, true));

  app.get('/healthz', (res) => {
    res.writeStatus(STATUS_LINE[200]).writeHeader('content-type', 'text/plain').end('ok\n');
  });

  app.get('/readyz', (res) => {
    if (!draining && deps.isReady()) {
      res.writeStatus(STATUS_LINE[200]).writeHeader('content-type', 'text/plain').end('ready\n');
    } else {
      res.writeStatus(STATUS_LINE[503]).writeHeader('content-type', 'text/plain').end(draining ? 'draining\n' : 'warming\n');
    }
  });

  app.get('/metrics', (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    deps.registry.metrics().then(
      (text) => {
        if (aborted) return;
        res.cork(() => {
          res.writeStatus(STATUS_LINE[200]).writeHeader('content-type', deps.registry.contentType).end(text);
        });
      },
      () => {
        if (!aborted) sendError(res, 'INTERNAL', false, false);
      },
    );
  });

  app.get('/debug/latency', (res, req) => {
    if (req.getQuery('format') === 'json') {
      res.writeStatus(STATUS_LINE[200]).writeHeader('content-type', kJson).end(JSON.stringify(deps.latency.toJSON()));
    } else {
      res.writeStatus(STATUS_LINE[200]).writeHeader('content-type', 'text/plain').end(deps.latency.toText());
    }
  });

  app.any('/*', (res) => sendError(res, 'NOT_FOUND', false, true));

  return new Promise((resolve, reject) => {
    app.listen(config.host, config.port, (socket) => {
      if (!socket) {
        reject(Object.assign(new Error(`cannot listen on ${config.host}:${config.port}`), { code: 'LISTEN_FAILED' }));
        return;
      }
      listenSocket = socket;
      resolve({
        port: uws.us_socket_local_port(socket as never),
        stopAccepting() {
          if (listenSocket) uws.us_listen_socket_close(listenSocket);
          listenSocket = null;
        },
        setDraining() {
          draining = true;
        },
        closeAll() {
          (app as unknown as { close?: () => void }).close?.();
        },
      });
    });
  });
}

export type { HttpJob };

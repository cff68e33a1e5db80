/**
 * The front end: the bidding port's uWebSockets.js routes. This module receives bodies
 * into the shared slab, hands them to the dispatcher, and writes the answers; it never
 * parses a bid request itself (under light load the dispatcher's inline lane runs the
 * engine on this thread). The operations port has its own thread and routes (src/ops/).
 * Bodies go through the body receiver (body-receiver.ts), which owns their memory while
 * they arrive and bounds it, per body and in total, with a deadline for each.
 *
 * uWS rules kept here: onAborted is attached before anything asynchronous; each onData
 * chunk is copied out before its callback returns (uWS reuses the memory); headers are
 * read from `req` synchronously inside the handler; every write made later is corked.
 */
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { ServerConfig } from '../config/config';
import { kFlagGzip, kFlagTestCrash, kDelayShift } from '../codec/request-batch';
import type { NoBidReason } from '../decisioning/no-bid-reasons';
import { errorBody, requestError, type ErrorCode } from '../errors';
import { M, STAGES, type OutcomeTable } from '../metrics/definitions';
import type { StageLatency } from '../metrics/latency';
import type { HistogramHandle, SlotWriter } from '../metrics/shared-metrics';
import type { BidJob, Dispatcher, JobSink } from '../pool/dispatcher';
import type { ReceiveSlab } from '../pool/receive-slab';
import { BodyReceiver, ReceivingBody, type BodyEvents, type ReceiveMemory } from './body-receiver';
import { monoNowMs } from '../util/clock';
import type { Uws } from './uws';
import { STATUS_LINE } from '../util/http-status';

const kJson = 'application/json';
const kOpenRtbVersionHeader = 'x-openrtb-version';
const kOpenRtbVersion = '2.6';

/** Bid requests received and not yet answered (nor abandoned by their client). */
export class InFlightRequests {
  count = 0;
}

/**
 * A bid request in the front end: its body while it arrives (the receiver's), then the
 * dispatcher's job (offset/length in the slab, which the dispatcher frees), plus the
 * response handle.
 */
class HttpJob extends ReceivingBody implements BidJob {
  receivedAt = 0;
  offset = -1;
  length = 0;
  done = false;
  private open = true;
  constructor(
    readonly res: HttpResponse,
    arrivedAt: number,
    declared: number,
    public flags: number,
    private readonly tracker: InFlightRequests,
  ) {
    super(arrivedAt, declared);
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
  isReady: () => boolean;
  inFlight: InFlightRequests;
  /** Receive memory of bodies still arriving (the gauge reads it). */
  receiving: ReceiveMemory;
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
  // Live outcomes first, then their test-traffic twins (OutcomeTable.test): one lookup either way.
  const outcomeOffsets = outcomes.labels.map(([o, r]) => metrics.layout.offset(M.requests, [o, r]));
  for (const [o, r] of outcomes.labels) outcomeOffsets.push(metrics.layout.offset(M.testRequests, [o, r]));
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
  const overloadedOffset = metrics.layout.offset(M.requests, ['no_bid', 'overloaded']);

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

  /**
   * Every answer the front end gives a request once its body began: the receiver reports
   * each body exactly once, as complete (to the dispatcher), overloaded or refused. A
   * refused body's connection is closed: the rest of it is not worth reading.
   */
  const events: BodyEvents<HttpJob> = {
    complete(job, offset, length) {
      job.offset = offset;
      job.length = length;
      job.receivedAt = monoNowMs();
      dispatcher.submit(job);
    },
    overloaded(job) {
      job.done = true;
      job.close();
      metrics.inc(overloadedOffset);
      job.res.cork(() => job.res.writeStatus(STATUS_LINE[204]).endWithoutBody());
    },
    refused(job, code) {
      job.done = true;
      job.close();
      sendError(job.res, code, true, false);
    },
  };
  const receiver = new BodyReceiver<HttpJob>(slab, config, deps.receiving, events);

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

    const job = new HttpJob(res, arrivedAt, declared, flags, deps.inFlight);
    res.onAborted(() => {
      // The client went away. While its body arrives the receiver frees what it holds;
      // once submitted, the dispatcher frees the slab region when the worker is done.
      receiver.abort(job);
      job.done = true;
      job.close();
    });
    receiver.begin(job);
    res.onData((chunk: ArrayBuffer, isLast: boolean) => receiver.data(job, chunk, isLast));
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

  // /metrics and /debug/latency are served by the operations listener (src/ops/), off this
  // loop; here they are 404 like any other unknown path.
  app.any('/*', (res) => sendError(res, 'NOT_FOUND', false, true));

  return new Promise((resolve, reject) => {
    app.listen(config.host, config.port, (socket) => {
      if (!socket) {
        receiver.close(); // its deadline sweep would otherwise run on with nothing to serve
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
          receiver.close();
          (app as unknown as { close?: () => void }).close?.();
        },
      });
    });
  });
}

export type { HttpJob };

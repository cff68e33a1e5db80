/**
 * Every answer the bidding front end writes to a bid request, and what it counts and
 * records for each. Two kinds:
 *
 * - The engine's answer (a worker or the inline lane decided it), handed over by the
 *   dispatcher through the sink (`answer`).
 * - The answers the front end decides itself: no-bids (`noBid`: draining, overloaded,
 *   shed, timed out, worker lost) and error answers (`error`: an unknown content coding,
 *   a body refused, 404/405). Each goes through one method, so that a no-bid is counted
 *   once under its NoBidReason, its 204 is written the same way wherever it was decided,
 *   and its job leaves the in-flight count once.
 *
 * Metric offsets, status lines and error bodies are resolved once, in the constructor:
 * an answer costs array and property reads, no Map lookup and no string built.
 *
 * Corking (uWS): inside a route handler uWS corks the response already; an answer written
 * later (a body event, the dispatcher) must be corked here, so every front-end answer
 * says which it is (kInHandler or kLater).
 */
import type { HttpResponse } from 'uWebSockets.js';
import { ALL_NO_BID_REASONS, type NoBidReason } from '../decisioning/no-bid-reasons';
import { ALL_ERROR_CODES, errorBody, requestError, type ErrorCode } from '../errors';
import { M, STAGES, type OutcomeTable } from '../metrics/definitions';
import type { StageLatency } from '../metrics/latency';
import type { HistogramHandle, SlotWriter } from '../metrics/shared-metrics';
import type { BidJob } from '../pool/dispatcher';
import { monoNowMs } from '../util/clock';
import { STATUS_LINE } from '../util/http-status';

const kJson = 'application/json';
const kOpenRtbVersionHeader = 'x-openrtb-version';
const kOpenRtbVersion = '2.6';
const kNoContent = STATUS_LINE[204];

/** Written after the route handler returned (a body event, the dispatcher): corked here. */
export const kLater = 0;
/** Written inside the route handler, which uWS corks already. */
export const kInHandler = 1;
/** Close the connection after the answer: the rest of what the client sends is not worth reading. */
export const kCloseConnection = 2;

/** What an answer needs of a request: the dispatcher's job, its response, its in-flight count. */
export interface FrontJob extends BidJob {
  readonly res: HttpResponse;
  /** Takes the request out of the in-flight count; a second call does nothing. */
  close(): void;
}

interface ErrorAnswer {
  at: number;
  status: string;
  body: string;
}

function writeNoBid(res: HttpResponse): void {
  res.writeStatus(kNoContent).endWithoutBody();
}

/**
 * endWithoutBody takes its close flag only after a reported length, and the binding reads
 * any first argument, undefined included, as a number: `(undefined, true)` reported
 * 2^63 bytes, so the 204 never ended and uWS aborted the process (no onAborted is attached
 * before the request is refused). An explicit 0 ends it; uWS then writes content-length: 0.
 */
function writeNoBidAndClose(res: HttpResponse): void {
  res.writeStatus(kNoContent).endWithoutBody(0, true);
}

const kReceive = STAGES.indexOf('receive');
const kQueue = STAGES.indexOf('queue');
const kScore = STAGES.indexOf('score');
const kRespond = STAGES.indexOf('respond');
const kTotal = STAGES.indexOf('total');

export class FrontAnswers {
  /** Offset of each outcome: live outcomes first, then their test-traffic twins (OutcomeTable.test). */
  private readonly outcomeAt: number[];
  private readonly internalAt: number;
  /** Front-end no-bids are live traffic's: the request was never parsed, so test = 1 is unknown. */
  private readonly noBidAt = {} as Record<NoBidReason, number>;
  private readonly errors = {} as Record<ErrorCode, ErrorAnswer>;
  private readonly stage: HistogramHandle[];

  constructor(
    private readonly metrics: SlotWriter,
    outcomes: OutcomeTable,
    private readonly latency: StageLatency,
  ) {
    this.outcomeAt = outcomes.labels.map(([o, r]) => metrics.layout.offset(M.requests, [o, r]));
    for (const [o, r] of outcomes.labels) this.outcomeAt.push(metrics.layout.offset(M.testRequests, [o, r]));
    this.internalAt = this.outcomeAt[outcomes.error('INTERNAL')];
    // outcomes.noBid/error throw for a label the table lacks: a missing one fails here, at start.
    for (const reason of ALL_NO_BID_REASONS) this.noBidAt[reason] = this.outcomeAt[outcomes.noBid(reason)];
    for (const code of ALL_ERROR_CODES) {
      const e = requestError(code);
      this.errors[code] = { at: this.outcomeAt[outcomes.error(code)], status: STATUS_LINE[e.status], body: errorBody(e) };
    }
    this.stage = STAGES.map((s) => metrics.histogram(M.stageDuration, [s]));
  }

  /** The engine's answer, as the dispatcher hands it over (always after the handler: corked). */
  answer(job: FrontJob, status: number, outcome: number, body: Uint8Array | string | null, startedAt: number, finishedAt: number): void {
    job.close();
    this.metrics.inc(this.outcomeAt[outcome] ?? this.internalAt);
    const res = job.res;
    res.cork(() => {
      res.writeStatus(STATUS_LINE[status] ?? `${status} Unknown`);
      // uWS copies the body before end() returns, so a view the engine reuses is safe here.
      if (body !== null && body.length > 0) {
        res.writeHeader('content-type', kJson);
        if (status === 200) res.writeHeader(kOpenRtbVersionHeader, kOpenRtbVersion);
        res.end(body);
      } else {
        res.endWithoutBody();
      }
    });
    this.record(job, startedAt, finishedAt, monoNowMs());
  }

  /**
   * Every no-bid the front end decides. `job` is null when the request was refused before
   * one was made (draining); otherwise it is marked done (later answers are dropped) and
   * leaves the in-flight count. `how`: kInHandler or kLater, plus kCloseConnection.
   */
  noBid(res: HttpResponse, job: FrontJob | null, reason: NoBidReason, how: number): void {
    if (job !== null) {
      job.done = true;
      job.close();
    }
    this.metrics.inc(this.noBidAt[reason]);
    const write = (how & kCloseConnection) !== 0 ? writeNoBidAndClose : writeNoBid;
    if ((how & kInHandler) !== 0) write(res);
    else res.cork(() => write(res));
    // Only a body that was received has stages to record: shed, timed out or worker lost
    // (no worker stages). Draining has no job, and an overloaded body never completed.
    if (job !== null && job.receivedAt > 0) this.record(job, 0, 0, monoNowMs());
  }

  /** Every error answer the front end decides; `job` and `how` as for noBid. No latency is recorded. */
  error(res: HttpResponse, job: FrontJob | null, code: ErrorCode, how: number): void {
    if (job !== null) {
      job.done = true;
      job.close();
    }
    const e = this.errors[code];
    this.metrics.inc(e.at);
    const close = (how & kCloseConnection) !== 0;
    if ((how & kInHandler) !== 0) res.writeStatus(e.status).writeHeader('content-type', kJson).end(e.body, close);
    else res.cork(() => res.writeStatus(e.status).writeHeader('content-type', kJson).end(e.body, close));
  }

  /** Stage latency of an answered request; the worker stages only when a worker ran it (startedAt > 0). */
  private record(job: FrontJob, startedAt: number, finishedAt: number, now: number): void {
    const { metrics, latency, stage } = this;
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
  }
}

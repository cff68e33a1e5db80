/**
 * POST /openrtb2/bid on the bidding port. The handler reads what the request declares and
 * refuses what it will not take before reading a byte (draining, an unknown content
 * coding, a declared length over maxBodyBytes); otherwise it makes the request's job and
 * feeds its body to the body receiver (body-receiver.ts), which reports it complete (to
 * the dispatcher), overloaded or refused. It never parses a bid request.
 *
 * Owns the receiver (its deadline sweep) and the draining flag. Every answer it gives goes
 * through FrontAnswers (front-answers.ts).
 *
 * uWS rules kept here: onAborted is attached before anything asynchronous; each onData
 * chunk is copied out before its callback returns (the receiver does it; uWS reuses the
 * memory); headers are read from `req` synchronously inside the handler.
 */
import { isMainThread } from 'node:worker_threads';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { kDelayShift, kFlagGzip, kFlagTestCrash } from '../codec/request-batch';
import { NoBidReason } from '../decisioning/no-bid-reasons';
import type { Dispatcher } from '../pool/dispatcher';
import type { ReceiveSlab } from '../pool/receive-slab';
import { monoNowMs } from '../util/clock';
import { BodyReceiver, ReceivingBody, type BodyEvents, type ReceiveLimits, type ReceiveMemory } from './body-receiver';
import { kCloseConnection, kInHandler, kLater, type FrontAnswers, type FrontJob } from './front-answers';

/** Bid requests received and not yet answered (nor abandoned by their client). */
export class InFlightRequests {
  count = 0;
}

/**
 * A bid request in the front end: its body while it arrives (the receiver's), then the
 * dispatcher's job (offset/length in the slab, which the dispatcher frees), plus the
 * response handle.
 */
export class HttpJob extends ReceivingBody implements FrontJob {
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

export interface BidRouteDeps {
  limits: ReceiveLimits;
  /** Honour x-test-crash and x-test-delay-ms (tests only). */
  testHooks: boolean;
  slab: ReceiveSlab;
  dispatcher: Dispatcher<HttpJob>;
  inFlight: InFlightRequests;
  receiving: ReceiveMemory;
  answers: FrontAnswers;
}

export class BidRoute {
  private draining = false;
  private lastDrainingAt = 0;
  private readonly receiver: BodyReceiver<HttpJob>;
  private readonly maxBody: number;

  constructor(private readonly deps: BidRouteDeps) {
    const { dispatcher, answers } = deps;
    this.maxBody = deps.limits.maxBodyBytes;
    // The receiver reports each body exactly once. A refused body's connection is closed:
    // the rest of it is not worth reading.
    const events: BodyEvents<HttpJob> = {
      complete(job, offset, length) {
        job.offset = offset;
        job.length = length;
        job.receivedAt = monoNowMs();
        dispatcher.submit(job);
      },
      overloaded(job) {
        answers.noBid(job.res, job, NoBidReason.Overloaded, kLater);
      },
      refused(job, code) {
        answers.error(job.res, job, code, kLater | kCloseConnection);
      },
    };
    this.receiver = new BodyReceiver<HttpJob>(deps.slab, deps.limits, deps.receiving, events);
  }

  register(app: TemplatedApp): void {
    app.post('/openrtb2/bid', this.handle);
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** When the last request that found the server draining arrived (monotonic ms; 0: none yet). */
  get lastDrainingArrivalMs(): number {
    return this.lastDrainingAt;
  }

  /** Requests from now on get a 204 and a close; those already received are still answered. */
  setDraining(): void {
    this.draining = true;
  }

  /** Stops the receiver's deadline sweep. */
  close(): void {
    this.receiver.close();
  }

  private readonly handle = (res: HttpResponse, req: HttpRequest): void => {
    const { deps, receiver } = this;
    const answers = deps.answers;
    const arrivedAt = monoNowMs();
    // Read everything we need from req now: it is invalid after this function returns.
    const lengthHeader = req.getHeader('content-length');
    const encoding = req.getHeader('content-encoding');
    let flags = 0;
    if (deps.testHooks) {
      if (req.getHeader('x-test-crash') === '1') flags |= kFlagTestCrash;
      const delay = Number(req.getHeader('x-test-delay-ms'));
      if (delay > 0) flags |= Math.min(delay, 60_000) << kDelayShift;
      if (!isMainThread && req.getHeader('x-test-fail-acceptor') === '1') {
        // An error escaping a callback of an acceptor thread (acceptor.worker.ts closes its
        // sockets, ends, and is replaced). Answered first (500 INTERNAL), so only the failure is tested.
        answers.error(res, null, 'INTERNAL', kInHandler | kCloseConnection);
        setImmediate(() => {
          throw new Error('x-test-fail-acceptor: an error escaped the acceptor thread');
        });
        return;
      }
    }
    if (this.draining) {
      this.lastDrainingAt = arrivedAt;
      answers.noBid(res, null, NoBidReason.Draining, kInHandler | kCloseConnection);
      return;
    }
    if (encoding !== '') {
      // Content codings are case-insensitive; x-gzip is gzip (RFC 9110 8.4.1).
      const coding = encoding.toLowerCase();
      if (coding === 'gzip' || coding === 'x-gzip') flags |= kFlagGzip;
      else if (coding !== 'identity') {
        answers.error(res, null, 'UNSUPPORTED_ENCODING', kInHandler | kCloseConnection);
        return;
      }
    }
    const declared = lengthHeader === '' ? -1 : Number(lengthHeader);
    if (declared > this.maxBody) {
      // Refuse before reading: the body is never buffered, the connection is closed.
      answers.error(res, null, 'BODY_TOO_LARGE', kInHandler | kCloseConnection);
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
  };
}

/**
 * Adaptive batching and placement between an acceptor (the thread that received the
 * requests) and the scoring pool.
 *
 * A request whose body is complete waits in `pending` (a heavy one, by its body's size,
 * waits in `heavy` and goes in batches of its own, to the pool only, never taking its
 * last free slot; see flushHeavy). Pending requests are flushed once per event-loop turn
 * (setImmediate, after uWS has handled every socket that was readable) and whenever a
 * pool batch comes back. So under a light load a request goes alone and at once; under a
 * heavy one requests pile up while the thread is busy and leave together in the next
 * batch, whose per-batch costs (one session.run, one hand-off) are paid once.
 *
 * Each batch is placed where it will finish soonest (placement.ts): on this thread, by
 * the inline lane (inline-lane.ts), or in the pool, from the costs this thread measured
 * (the engine's per batch, per request and per row, the pool's hand-off and slowdown)
 * and the cores actually free (free-cores.ts). The pool is never given more batches than
 * it has free slots, over all acceptors (piscina's own queue stays empty), so no request
 * waits behind a batch that was sealed before it arrived.
 *
 * Every request is answered exactly once: by its reply, or by a no-bid when the worker
 * dies or is stuck (aborted), the queue sheds it, or the hard timeout passes first. A
 * request the inline lane defers (an unknown consent string) goes back to the head of
 * the queue for the pool, its body where it is in the slab.
 *
 * Body regions: once the receiver reports a body complete, the dispatcher owns its slab
 * region, and freeBody() is the only place it is freed (once, when no thread can read it
 * any more).
 */
import { kFlagConsentDeferred, kFlagGzip, writeTask } from '../codec/request-batch';
import { Encoding } from 'flatbuffers';
import { kStatusDeferred, readBatchReply, Reply } from '../codec/reply-batch';
import { NoBidReason } from '../decisioning/no-bid-reasons';
import { teardownGate } from '../engine/teardown-gate';
import { monoNowMs } from '../util/clock';
import { bodyWeightBytes } from './body-weight';
import { JobQueue } from './job-queue';
import type { CoreProbe } from './free-cores';
import { kFreeCoresSampleMs } from './free-cores';
import type { CostModel } from './placement';
import { PoolSlots } from './pool-slots';
import type { ReplySink } from '../engine/bid-engine';
import type { Placement, TaskCost } from '../engine/task-runner';
import type { ReceiveSlab } from './receive-slab';

/** One request as the dispatcher sees it; the server extends it with its response handle. */
export interface BidJob {
  arrivedAt: number;
  receivedAt: number;
  /** Body location in the receive slab. */
  offset: number;
  length: number;
  flags: number;
  /** Set once an answer was written (or the client went away); later answers are dropped. */
  done: boolean;
}

/**
 * Where answers go: the server writes them to the client. A body is UTF-8 bytes (from a
 * BatchReply, or the inline lane's engine: valid only during the call) or a string.
 */
export interface JobSink<J extends BidJob> {
  answer(job: J, status: number, outcome: number, body: Uint8Array | string | null, startedAt: number, finishedAt: number): void;
  noBid(job: J, reason: NoBidReason): void;
}

export interface PoolRunner {
  readonly capacity: number;
  /**
   * Aborting `signal` terminates the worker holding the task. A rejection means no thread
   * reads the task's slab regions any more (scoring-pool.ts), so they are freed then.
   */
  run(task: ArrayBuffer, signal?: AbortSignal): Promise<ArrayBuffer>;
}

/** Scores batches on the dispatcher's own thread (the inline lane). */
export interface LaneRunner {
  readonly maxBatch: number;
  /** What the lane's last batch cost (the cost model learns from it); startedAt is the running batch's. */
  readonly last: TaskCost;
  /** Scores `task`, handing each answer to `out` as soon as it is known (during the call). */
  runInto(task: Float64Array, out: ReplySink): Promise<void>;
}

/** Records each placement decision (metrics). */
export interface PlacementMeter {
  placed(where: Placement, requests: number, estimatedMs: number): void;
  measured(where: Placement, ms: number): void;
}

/** What placement decides from; without it every light batch goes to the lane when there is one. */
export interface PlacementDeps {
  cost: CostModel;
  cores: CoreProbe;
  meter?: PlacementMeter;
}

export interface DispatcherOptions {
  maxBatchSize: number;
  maxPendingRequests: number;
  maxQueueDelayMs: number;
  hardTimeoutMs: number;
  /** A pool batch out this long (or half the hard timeout, if longer) is stuck: its worker is terminated. Default kMinStuckMs. */
  minStuckMs?: number;
  /**
   * A body this large or larger (gzip: its inflated size, body-weight.ts) is heavy: it
   * waits in its own queue, never rides with light requests or in the inline lane, and
   * heavy batches hold at most all but one of the pool's slots. 0 (the default): no
   * request is heavy.
   */
  heavyBodyBytes?: number;
}

interface Batch<J> {
  jobs: J[];
  /** The earliest arrival in the batch: the hard timeout counts from arrival. */
  oldestArrivedAt: number;
  /** Scored by the inline lane, the only runner allowed to defer a request (kStatusDeferred). */
  inline: boolean;
  /** When the pool got the batch: a worker holding it too long is presumed stuck. */
  dispatchedAt: number;
  /** Terminates the worker holding a pool batch; null for the inline lane, which cannot hang apart from this thread. */
  abort: AbortController | null;
  /** Holds heavy requests only (DispatcherOptions.heavyBodyBytes). */
  heavy: boolean;
  /** This thread's estimate of the batch's compute time when it was placed (ms). */
  estimatedMs: number;
  /** Inline batches: which requests the lane has answered so far (by position), and those it deferred. */
  answered: Uint8Array | null;
  deferred: J[] | null;
  /**
   * Inline batches: time spent writing their answers to clients (the sink), inside the
   * lane's run. Taken out of what the cost model learns: a pool batch's answers cost the
   * same writes on this thread, so they weigh nothing in where a batch should run.
   */
  answeringMs: number;
}

const kSweepIntervalMs = 5;
/**
 * A batch is declared stuck (its worker terminated) only after this long, however short
 * the hard timeout: its requests are answered by the hard timeout anyway, while a worker
 * terminated is costly. Its replacement warms every model (a second of CPU taken from the
 * workers still serving), and one terminated inside onnxruntime's native run aborts the
 * whole process (napi error at the thread's teardown; seen with an 80 ms hard timeout,
 * which declared slow but healthy batches stuck: npm run chaos).
 */
export const kMinStuckMs = 1_000;
/** The bytes of heavy bodies one batch may hold (at least one body, whatever its size). */
const kHeavyBatchBytes = 256 * 1024;

export class Dispatcher<J extends BidJob> {
  /** Light requests waiting, oldest first. */
  private readonly pending = new JobQueue<J>();
  /** Heavy requests waiting, oldest first (DispatcherOptions.heavyBodyBytes). */
  private readonly heavy = new JobQueue<J>();
  /** Weight of each waiting heavy request, by job: read from the slab once at submit. */
  private readonly heavyWeight = new WeakMap<J, number>();
  private heavyInFlight = 0;
  /** The pool's free slots, shared by every acceptor (pool-slots.ts). */
  private readonly slots: PoolSlots;
  /** Pool compute time reported since the last free-cores sample (free-cores.ts). */
  private poolBusyMs = 0;
  private lastCoresSampleAt = 0;
  private readonly heavyBodyBytes: number;
  private readonly inFlight = new Set<Batch<J>>();
  private flushScheduled = false;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly reply = new Reply();
  private idleWaiters: (() => void)[] = [];
  private readonly flushNow = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  constructor(
    private readonly pool: PoolRunner,
    private readonly slab: ReceiveSlab,
    private readonly sink: JobSink<J>,
    private readonly options: DispatcherOptions,
    private readonly lane: LaneRunner | null = null,
    private readonly placement: PlacementDeps | null = null,
    slots: PoolSlots | null = null,
  ) {
    this.slots = slots ?? new PoolSlots(pool.capacity);
    this.sweepTimer = setInterval(() => this.sweep(), kSweepIntervalMs);
    this.sweepTimer.unref();
    this.heavyBodyBytes = options.heavyBodyBytes ?? 0;
  }

  /** Requests waiting for a worker, light and heavy. */
  pendingCount(): number {
    return this.lightCount() + this.heavyCount();
  }

  private lightCount(): number {
    return this.pending.count;
  }

  private heavyCount(): number {
    return this.heavy.count;
  }

  /**
   * Heavy batches may hold all of the pool's slots but one, so light requests always find
   * a worker within a batch's time; with a single slot, heavy and light take turns.
   */
  private heavySlots(): number {
    return Math.max(1, this.pool.capacity - 1);
  }

  private poolHasRoom(): boolean {
    return this.slots.free() > 0;
  }

  inFlightBatches(): number {
    return this.inFlight.size;
  }

  /** Queues a request whose body is complete in the slab. */
  submit(job: J): void {
    if (this.pendingCount() >= this.options.maxPendingRequests) {
      this.release(job, NoBidReason.Overloaded);
      return;
    }
    const weight = this.heavyBodyBytes > 0 ? bodyWeightBytes(this.slab.bytes, job.offset, job.length, (job.flags & kFlagGzip) !== 0) : 0;
    if (this.heavyBodyBytes > 0 && weight >= this.heavyBodyBytes) {
      this.heavy.push(job);
      this.heavyWeight.set(job, weight);
    } else {
      this.pending.push(job);
    }
    if (!this.flushScheduled && (this.lane !== null || this.poolHasRoom())) {
      this.flushScheduled = true;
      setImmediate(this.flushNow);
    }
  }

  /**
   * Measures the pool's hand-off before traffic relies on it: empty tasks, whose round
   * trip is all hand-off. Called once the workers are warm; the median of a few is kept.
   */
  async probeHandoff(rounds = 5): Promise<void> {
    const cost = this.placement?.cost;
    if (cost === undefined) return;
    const trips: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const sent = monoNowMs();
      try {
        readBatchReply(await this.pool.run(writeTask([], sent).buffer));
      } catch {
        return; // a worker lost at start: live batches will measure it instead
      }
      trips.push(monoNowMs() - sent);
    }
    trips.sort((a, b) => a - b);
    cost.learnPool(0, 0, trips[trips.length >> 1]);
  }

  /** Resolves once nothing is pending or in flight (for a graceful drain). */
  whenIdle(): Promise<void> {
    if (this.pendingCount() === 0 && this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    clearInterval(this.sweepTimer);
  }

  private flush(): void {
    this.placeLight();
    this.flushHeavy();
    this.compactPending();
    this.notifyIfIdle();
  }

  /**
   * Places the light requests that wait, a batch at a time, each where it finishes
   * soonest (placement.ts): inline after what this turn already gave the lane, or in the
   * pool when a slot is free. Requests carrying test hooks (crash, delay) and those the
   * lane deferred (kFlagConsentDeferred) go to the pool only: that is where those hooks
   * are meant to act and where consent strings are decoded.
   */
  private placeLight(): void {
    const lane = this.lane;
    let committedMs = 0;
    while (this.lightCount() > 0) {
      const room = this.slots.free();
      const n = Math.min(this.options.maxBatchSize, lane === null ? this.lightCount() : Math.min(lane.maxBatch, this.lightCount()));
      const inlineAllowed = lane !== null && !this.needsPool(n);
      let toPool: boolean;
      let estimatedMs = 0;
      if (!inlineAllowed) {
        if (room <= 0) return;
        toPool = true;
        estimatedMs = this.placement?.cost.estimateMs(n) ?? 0;
      } else if (this.placement === null) {
        toPool = false;
      } else {
        const { cost, cores } = this.placement;
        estimatedMs = cost.estimateMs(n);
        const inlineAt = committedMs + estimatedMs;
        toPool = cost.poolFinishMs(n, room > 0, cores.free) < inlineAt;
      }
      // Batches for the pool spread what waits over its free slots rather than filling one.
      const jobs = this.take(this.pending, toPool ? Math.min(this.options.maxBatchSize, Math.ceil(this.lightCount() / room)) : n);
      if (jobs.length === 0) continue;
      if (toPool) {
        this.dispatch(jobs, this.pool, false, estimatedMs);
      } else {
        committedMs += estimatedMs;
        this.dispatch(jobs, lane!, false, estimatedMs);
      }
    }
  }

  /** Whether one of the next `n` waiting requests must be scored in the pool. */
  private needsPool(n: number): boolean {
    for (let i = 0; i < n; i++) {
      if ((this.pending.at(i).flags & ~kFlagGzip) !== 0) return true;
    }
    return false;
  }

  /** Takes up to `n` requests from the head of `queue`, freeing those whose client left. */
  private take(queue: JobQueue<J>, n: number): J[] {
    const jobs: J[] = [];
    while (jobs.length < n && queue.count > 0) {
      const job = queue.shift();
      if (job.done) this.freeBody(job);
      else jobs.push(job);
    }
    return jobs;
  }

  /**
   * Light requests went first; heavy ones take what is left of the pool, but never its
   * last slot while it has more than one. A heavy batch is bounded by the bytes of its
   * bodies (kHeavyBatchBytes), since each such request may cost a full candidate budget.
   */
  private flushHeavy(): void {
    while (this.heavyCount() > 0 && this.poolHasRoom() && this.heavyInFlight < this.heavySlots()) {
      const jobs: J[] = [];
      let bytes = 0;
      while (this.heavyCount() > 0 && jobs.length < this.options.maxBatchSize) {
        const job = this.heavy.peek();
        const weight = this.heavyWeight.get(job) ?? job.length;
        if (jobs.length > 0 && bytes + weight > kHeavyBatchBytes) break;
        this.heavy.shift();
        if (job.done) {
          this.freeBody(job);
          continue;
        }
        jobs.push(job);
        bytes += weight;
      }
      if (jobs.length > 0) this.dispatch(jobs, this.pool, true, 0);
    }
  }

  private dispatch(jobs: J[], runner: PoolRunner | LaneRunner, heavy: boolean, estimatedMs: number): void {
    const now = monoNowMs();
    const words = writeTask(jobs, now);
    let oldestArrivedAt = now;
    for (let i = 0; i < jobs.length; i++) {
      if (jobs[i].arrivedAt < oldestArrivedAt) oldestArrivedAt = jobs[i].arrivedAt;
    }
    const inline = runner === this.lane;
    const abort = inline ? null : new AbortController();
    const batch: Batch<J> = {
      jobs,
      oldestArrivedAt,
      inline,
      dispatchedAt: now,
      abort,
      heavy,
      estimatedMs,
      answered: inline ? new Uint8Array(jobs.length) : null,
      deferred: null,
      answeringMs: 0,
    };
    this.inFlight.add(batch);
    if (heavy) this.heavyInFlight++;
    if (!inline) this.slots.take();
    this.placement?.meter?.placed(inline ? 'inline' : 'pool', jobs.length, estimatedMs);
    if (inline) {
      const answer = (idx: number, status: number, outcome: number, body: Uint8Array | string | null): void =>
        this.onInlineAnswer(batch, idx, status, outcome, body);
      // Bytes or a string, whichever the engine gives: both go to the sink as they are.
      const out = { add: answer, addUtf8: answer };
      (runner as LaneRunner).runInto(words, out).then(
        () => this.onInlineDone(batch),
        () => this.onFailure(batch),
      );
      return;
    }
    (runner as PoolRunner).run(words.buffer, abort!.signal).then(
      (buffer) => this.onReply(batch, buffer),
      () => this.onFailure(batch),
    );
  }

  /** Takes a batch out of flight, once: an abandoned batch's late failure finds it gone. */
  private retire(batch: Batch<J>): void {
    if (!this.inFlight.delete(batch)) return;
    if (batch.heavy) this.heavyInFlight--;
    if (!batch.inline) this.slots.give();
  }

  /** Feeds the cost model what the batch really cost, wherever it ran. */
  private learn(batch: Batch<J>, startedAt: number, finishedAt: number): void {
    const placement = this.placement;
    if (placement === null) return;
    if (batch.inline) {
      const last = this.lane!.last;
      const computed = { ...last, totalMs: Math.max(0, last.totalMs - batch.answeringMs) };
      placement.cost.learnInline(computed);
      placement.meter?.measured('inline', computed.totalMs);
      return;
    }
    const computeMs = finishedAt - startedAt;
    this.poolBusyMs += computeMs;
    if (!batch.heavy) placement.meter?.measured('pool', computeMs);
    // Heavy batches are not what light placement compares against; their hand-off is.
    placement.cost.learnPool(batch.heavy ? 0 : batch.jobs.length, batch.heavy ? 0 : computeMs, monoNowMs() - batch.dispatchedAt - (batch.heavy ? computeMs : 0));
  }

  /** A pool batch's BatchReply. */
  private onReply(batch: Batch<J>, buffer: ArrayBuffer): void {
    this.retire(batch);
    const message = readBatchReply(buffer);
    const startedAt = message.startedAtMs();
    const finishedAt = message.finishedAtMs();
    this.learn(batch, startedAt, finishedAt);
    const n = message.repliesLength();
    const jobs = batch.jobs;
    const answered = new Uint8Array(jobs.length);
    for (let i = 0; i < n; i++) {
      const r = message.replies(i, this.reply)!;
      const idx = r.requestId();
      const job = jobs[idx];
      // An id out of range or named twice is a worker bug: never free a region twice.
      if (job === undefined || answered[idx] === 1) continue;
      answered[idx] = 1;
      if (r.status() === kStatusDeferred) {
        // Only the lane may defer (it does not decode consent strings; onInlineAnswer): a
        // worker that does is a worker bug. release() frees the region and answers.
        this.release(job, NoBidReason.WorkerFailed);
        continue;
      }
      this.freeBody(job);
      if (job.done) continue;
      job.done = true;
      this.sink.answer(job, r.status(), r.outcome(), r.body(Encoding.UTF8_BYTES) as Uint8Array | null, startedAt, finishedAt);
    }
    // A reply that leaves a request out is a worker bug; never leave the client hanging.
    for (let i = 0; i < jobs.length; i++) {
      if (answered[i] === 0) this.release(jobs[i], NoBidReason.WorkerFailed);
    }
    this.flush();
  }

  /**
   * One answer of an inline batch, as the lane's engine produces it. The same rules as a
   * BatchReply's (onReply): each request once, a deferred one kept for the pool with its
   * body where it is, and a body region freed once.
   */
  private onInlineAnswer(batch: Batch<J>, idx: number, status: number, outcome: number, body: Uint8Array | string | null): void {
    const job = batch.jobs[idx];
    const answered = batch.answered!;
    if (job === undefined || answered[idx] === 1) return;
    answered[idx] = 1;
    if (status === kStatusDeferred) {
      if (!job.done) (batch.deferred ??= []).push(job);
      else this.freeBody(job);
      return;
    }
    this.freeBody(job);
    if (job.done) return;
    job.done = true;
    const finishedAt = monoNowMs();
    this.sink.answer(job, status, outcome, body, this.lane!.last.startedAt, finishedAt);
    batch.answeringMs += monoNowMs() - finishedAt;
  }

  /** The lane finished an inline batch: what it left unanswered is a bug, answered anyway. */
  private onInlineDone(batch: Batch<J>): void {
    this.retire(batch);
    this.learn(batch, 0, 0);
    const answered = batch.answered!;
    for (let i = 0; i < batch.jobs.length; i++) {
      if (answered[i] === 0) this.release(batch.jobs[i], NoBidReason.WorkerFailed);
    }
    if (batch.deferred !== null) this.requeueForPool(batch.deferred);
    this.flush();
  }

  /**
   * Puts requests the lane deferred back at the head of the queue: they arrived before
   * anything waiting, so the shedding sweep still meets the oldest first. The flag keeps
   * them (and the lane) out of inline placement and tells the worker to publish the decision.
   */
  private requeueForPool(jobs: J[]): void {
    for (const job of jobs) job.flags |= kFlagConsentDeferred;
    this.pending.unshift(jobs);
  }

  private onFailure(batch: Batch<J>): void {
    this.retire(batch);
    // An inline batch may have answered (and freed) some of its requests before it failed.
    const answered = batch.answered;
    for (let i = 0; i < batch.jobs.length; i++) {
      if (answered === null || answered[i] === 0) this.release(batch.jobs[i], NoBidReason.WorkerFailed);
    }
    if (batch.deferred !== null) for (const job of batch.deferred) this.release(job, NoBidReason.WorkerFailed);
    this.flush();
  }

  /** The one place a submitted body's slab region is freed (once per job: see the callers). */
  private freeBody(job: J): void {
    this.slab.free(job.offset);
  }

  private release(job: J, reason: NoBidReason): void {
    this.freeBody(job);
    if (job.done) return;
    job.done = true;
    this.sink.noBid(job, reason);
  }

  /** Sheds requests that waited too long for a worker and answers ones stuck past the hard timeout. */
  private sweep(): void {
    const now = monoNowMs();
    if (this.placement !== null && now - this.lastCoresSampleAt >= kFreeCoresSampleMs) {
      this.placement.cores.sample(now, this.poolBusyMs);
      this.poolBusyMs = 0;
      this.lastCoresSampleAt = now;
    }
    const queueLimit = now - this.options.maxQueueDelayMs;
    this.shed(this.pending, queueLimit);
    this.shed(this.heavy, queueLimit);
    this.compactPending();
    const hardLimit = now - this.options.hardTimeoutMs;
    const stuckLimit = now - Math.max(this.options.hardTimeoutMs / 2, this.options.minStuckMs ?? kMinStuckMs);
    let abandoned = false;
    for (const batch of this.inFlight) {
      if (batch.oldestArrivedAt > hardLimit) continue;
      // Half the hard timeout in a worker (and at least kMinStuckMs) is far beyond any real
      // batch: the worker is stuck (a loop, a hang in native code). The half spares a
      // healthy worker that was handed a request already old (a slow upload, a long
      // queue); that one gets tmax_exceeded, as do the requests of a batch not yet stuck.
      if (batch.abort !== null && batch.dispatchedAt <= stuckLimit) {
        this.abandon(batch);
        abandoned = true;
        continue;
      }
      for (const job of batch.jobs) {
        // The worker may still read the body: keep its slab region until the batch returns.
        if (job.done || job.arrivedAt > hardLimit) continue;
        job.done = true;
        this.sink.noBid(job, NoBidReason.TmaxExceeded);
      }
    }
    // The replacement worker can take what waits. And another acceptor may have given back
    // the pool slot that what waits here needs (pool-slots.ts): a batch's return wakes only
    // the dispatcher that sent it, so pool-bound work waiting here is retried each sweep.
    if ((abandoned || this.poolHasRoom()) && this.pendingCount() > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushNow);
    }
    this.notifyIfIdle();
  }

  /**
   * Gives up on a pool batch whose worker is stuck: every request still unanswered gets
   * its 204 now, and the worker is terminated (piscina replaces it). The slab regions
   * stay reserved until run() rejects, which it does only once that thread has exited;
   * onFailure frees them then, once each. The batch leaves inFlight at once, so its slot
   * goes to the replacement and a drain does not wait for a thread that may never stop.
   */
  private abandon(batch: Batch<J>): void {
    this.retire(batch);
    for (const job of batch.jobs) {
      if (job.done) continue;
      job.done = true;
      this.sink.noBid(job, NoBidReason.WorkerFailed);
    }
    // Its teardown must not overlap a session run in another thread (teardown-gate.ts).
    teardownGate()?.closeForTeardown();
    batch.abort!.abort();
  }

  /** Answers `overloaded` to what waited in `queue` since before `queueLimit` (oldest first). */
  private shed(queue: JobQueue<J>, queueLimit: number): void {
    while (queue.count > 0) {
      const job = queue.peek();
      if (!job.done && job.receivedAt > queueLimit) break;
      queue.shift();
      this.release(job, NoBidReason.Overloaded);
    }
  }

  private compactPending(): void {
    this.pending.compact();
    this.heavy.compact();
  }

  private notifyIfIdle(): void {
    if (this.idleWaiters.length === 0 || this.pendingCount() > 0 || this.inFlight.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

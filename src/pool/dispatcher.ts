/**
 * Adaptive batching between the front end and the scoring pool.
 *
 * A request whose body is complete waits in `pending` until a worker has room (a heavy
 * one, by its body's size, waits in `heavy` and goes in batches of its own, never taking
 * the pool's last free slot nor the inline lane; see flushHeavy). Pending
 * requests are flushed once per event-loop turn (setImmediate, after uWS has handled
 * every socket that was readable) and whenever a worker hands back a batch. So under a
 * light load a request goes alone and at once; under a heavy one requests pile up while
 * the workers are busy and leave together in the next batch: the per-task cost of a
 * piscina round trip is paid per batch, and no request waits behind a batch that was
 * sealed before it arrived, because the dispatcher never submits more batches than the
 * workers can hold (piscina's own queue stays empty).
 *
 * Under a light load the pool is skipped: when no batch is in flight, what waits fits
 * one inline batch, and this thread's event loop has room (LoadProbe), the requests are
 * scored here by the inline lane (inline-lane.ts). That saves the two cross-thread
 * wake-ups that dominate a request's latency when the workers are idle. As the load
 * grows the loop fills up and batches go to the pool, whose threads add cores.
 *
 * Every request is answered exactly once: by its worker's reply, or by a no-bid when
 * the worker dies or is stuck (aborted), the queue sheds it, or the hard timeout passes
 * first. A request the inline lane defers (an unknown consent string) goes back to the
 * head of the queue for the pool, its body where it is in the slab.
 */
import { kFlagConsentDeferred, kFlagGzip, writeTask } from '../codec/request-batch';
import { Encoding } from 'flatbuffers';
import { kStatusDeferred, readBatchReply, Reply } from '../codec/reply-batch';
import { NoBidReason } from '../decisioning/no-bid-reasons';
import { monoNowMs } from '../util/clock';
import { bodyWeightBytes } from './body-weight';
import { JobQueue } from './job-queue';
import type { LoadProbe } from './loop-load';
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

/** Where answers go: the server writes them to the client. */
export interface JobSink<J extends BidJob> {
  answer(job: J, status: number, outcome: number, body: Uint8Array | null, startedAt: number, finishedAt: number): void;
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

/** Scores small batches on the dispatcher's own thread (the inline lane). */
export interface LaneRunner {
  readonly idle: boolean;
  readonly maxBatch: number;
  run(task: ArrayBuffer): Promise<ArrayBuffer>;
}

export interface DispatcherOptions {
  maxBatchSize: number;
  /** The inline lane takes a batch only while this thread's loop utilisation is below this. */
  inlineMaxUtilization: number;
  maxPendingRequests: number;
  maxQueueDelayMs: number;
  hardTimeoutMs: number;
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
}

const kSweepIntervalMs = 5;
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
    private readonly load: LoadProbe | null = null,
  ) {
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
    if (!this.flushScheduled && this.inFlight.size < this.pool.capacity) {
      this.flushScheduled = true;
      setImmediate(this.flushNow);
    }
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
    if (this.takeInline()) {
      this.compactPending();
      this.notifyIfIdle();
      return;
    }
    const capacity = this.pool.capacity;
    while (this.lightCount() > 0 && this.inFlight.size < capacity) {
      // Spread what is waiting over the workers that are free rather than filling one.
      const free = capacity - this.inFlight.size;
      const size = Math.min(this.options.maxBatchSize, Math.ceil(this.lightCount() / free));
      const jobs: J[] = [];
      while (jobs.length < size && this.lightCount() > 0) {
        const job = this.pending.shift();
        if (job.done) this.slab.free(job.offset); // the client went away while it waited
        else jobs.push(job);
      }
      if (jobs.length > 0) this.dispatch(jobs);
    }
    this.flushHeavy();
    this.compactPending();
    this.notifyIfIdle();
  }

  /**
   * Light requests went first; heavy ones take what is left of the pool, but never its
   * last slot while it has more than one. A heavy batch is bounded by the bytes of its
   * bodies (kHeavyBatchBytes), since each such request may cost a full candidate budget.
   */
  private flushHeavy(): void {
    const capacity = this.pool.capacity;
    while (this.heavyCount() > 0 && this.inFlight.size < capacity && this.heavyInFlight < this.heavySlots()) {
      const jobs: J[] = [];
      let bytes = 0;
      while (this.heavyCount() > 0 && jobs.length < this.options.maxBatchSize) {
        const job = this.heavy.peek();
        const weight = this.heavyWeight.get(job) ?? job.length;
        if (jobs.length > 0 && bytes + weight > kHeavyBatchBytes) break;
        this.heavy.shift();
        if (job.done) {
          this.slab.free(job.offset);
          continue;
        }
        jobs.push(job);
        bytes += weight;
      }
      if (jobs.length > 0) this.dispatch(jobs, this.pool, true);
    }
  }

  /**
   * Scores what waits on this thread when the pool holds nothing and it is a small batch:
   * a lone request then skips two thread hand-offs. Requests carrying test hooks (crash,
   * delay) always go to the pool, where those hooks are meant to act, and so do requests
   * the lane deferred (kFlagConsentDeferred).
   */
  private takeInline(): boolean {
    const lane = this.lane;
    // Heavy batches in the pool leave it free for light work, so they do not count here;
    // heavy requests themselves never run on this thread, which serves every connection.
    if (lane === null || !lane.idle || this.inFlight.size > this.heavyInFlight) return false;
    if (this.load !== null && this.load.value >= this.options.inlineMaxUtilization) return false;
    const waiting = this.lightCount();
    if (waiting === 0 || waiting > lane.maxBatch) return false;
    for (let i = 0; i < waiting; i++) {
      if ((this.pending.at(i).flags & ~kFlagGzip) !== 0) return false;
    }
    const jobs: J[] = [];
    while (this.lightCount() > 0) {
      const job = this.pending.shift();
      if (job.done) this.slab.free(job.offset);
      else jobs.push(job);
    }
    if (jobs.length > 0) this.dispatch(jobs, lane);
    // Heavy requests still go to the pool's free slots meanwhile.
    this.flushHeavy();
    return true;
  }

  private dispatch(jobs: J[], runner: PoolRunner | LaneRunner = this.pool, heavy = false): void {
    const now = monoNowMs();
    const words = writeTask(jobs, now);
    let oldestArrivedAt = now;
    for (let i = 0; i < jobs.length; i++) {
      if (jobs[i].arrivedAt < oldestArrivedAt) oldestArrivedAt = jobs[i].arrivedAt;
    }
    const inline = runner === this.lane;
    const abort = inline ? null : new AbortController();
    const batch: Batch<J> = { jobs, oldestArrivedAt, inline, dispatchedAt: now, abort, heavy };
    this.inFlight.add(batch);
    if (heavy) this.heavyInFlight++;
    (abort === null ? runner.run(words.buffer) : (runner as PoolRunner).run(words.buffer, abort.signal)).then(
      (buffer) => this.onReply(batch, buffer),
      () => this.onFailure(batch),
    );
  }

  /** Takes a batch out of flight, once: an abandoned batch's late failure finds it gone. */
  private retire(batch: Batch<J>): void {
    if (this.inFlight.delete(batch) && batch.heavy) this.heavyInFlight--;
  }

  private onReply(batch: Batch<J>, buffer: ArrayBuffer): void {
    this.retire(batch);
    const message = readBatchReply(buffer);
    const startedAt = message.startedAtMs();
    const finishedAt = message.finishedAtMs();
    const n = message.repliesLength();
    const jobs = batch.jobs;
    const answered = new Uint8Array(jobs.length);
    let deferred: J[] | null = null;
    for (let i = 0; i < n; i++) {
      const r = message.replies(i, this.reply)!;
      const idx = r.requestId();
      const job = jobs[idx];
      // An id out of range or named twice is a worker bug: never free a region twice.
      if (job === undefined || answered[idx] === 1) continue;
      answered[idx] = 1;
      if (r.status() === kStatusDeferred) {
        // Its body stays where it is in the slab for the pool to read. Only the lane may
        // defer (it does not decode consent strings); a worker that does is a worker bug.
        // release() frees the region and answers only what is not answered yet.
        if (batch.inline && !job.done) (deferred ??= []).push(job);
        else this.release(job, NoBidReason.WorkerFailed);
        continue;
      }
      this.slab.free(job.offset);
      if (job.done) continue;
      job.done = true;
      this.sink.answer(job, r.status(), r.outcome(), r.body(Encoding.UTF8_BYTES) as Uint8Array | null, startedAt, finishedAt);
    }
    // A reply that leaves a request out is a worker bug; never leave the client hanging.
    for (let i = 0; i < jobs.length; i++) {
      if (answered[i] === 0) this.release(jobs[i], NoBidReason.WorkerFailed);
    }
    if (deferred !== null) this.requeueForPool(deferred);
    this.flush();
  }

  /**
   * Puts requests the lane deferred back at the head of the queue: they arrived before
   * anything waiting, so the shedding sweep still meets the oldest first. The flag keeps
   * them (and the lane) out of takeInline() and tells the worker to publish the decision.
   */
  private requeueForPool(jobs: J[]): void {
    for (const job of jobs) job.flags |= kFlagConsentDeferred;
    this.pending.unshift(jobs);
  }

  private onFailure(batch: Batch<J>): void {
    this.retire(batch);
    for (const job of batch.jobs) this.release(job, NoBidReason.WorkerFailed);
    this.flush();
  }

  private release(job: J, reason: NoBidReason): void {
    this.slab.free(job.offset);
    if (job.done) return;
    job.done = true;
    this.sink.noBid(job, reason);
  }

  /** Sheds requests that waited too long for a worker and answers ones stuck past the hard timeout. */
  private sweep(): void {
    this.load?.sample();
    const now = monoNowMs();
    const queueLimit = now - this.options.maxQueueDelayMs;
    this.shed(this.pending, queueLimit);
    this.shed(this.heavy, queueLimit);
    this.compactPending();
    const hardLimit = now - this.options.hardTimeoutMs;
    const stuckLimit = now - this.options.hardTimeoutMs / 2;
    let abandoned = false;
    for (const batch of this.inFlight) {
      if (batch.oldestArrivedAt > hardLimit) continue;
      // Half the hard timeout in a worker is far beyond any real batch: the worker is stuck
      // (a loop, a hang in native code). The half spares a healthy worker that was handed
      // a request already old (a slow upload, a long queue); that one gets tmax_exceeded.
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
    // The replacement worker can take what waits.
    if (abandoned && this.pendingCount() > 0 && !this.flushScheduled) {
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

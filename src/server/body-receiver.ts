/**
 * Receives request bodies into memory reserved as their bytes arrive, never from what
 * they declare. A content-length is a promise, not bytes: reserving slab room from it let
 * 130 connections that declare 256 KiB and then trickle hold the whole slab, and every
 * honest request was shed. So:
 *
 * - A body that arrives whole in its first chunk (nearly every bid request) is copied
 *   straight into the slab: one copy, no receive memory at all.
 * - A body that arrives in pieces grows a private buffer geometrically (up to its
 *   declared length, or maxBodyBytes when chunked); the buffer's capacity is charged to
 *   one budget over all connections, maxReceivingBytes. Complete, it is copied into the
 *   slab once and its buffer dropped. The slab therefore holds only complete bodies, and
 *   a full slab is true overload (204), not a symptom of slow senders.
 * - Every body must be complete bodyTimeoutMs after it arrived (BODY_TIMEOUT). Bodies
 *   are kept in arrival order, which under one timeout for all is deadline order, so one
 *   sweep every few ms looks at the expired bodies and one more: no timer per request.
 * - When a chunk needs more receive memory than the budget has left, the incomplete body
 *   that has received the fewest bytes per millisecond since it arrived is refused
 *   (BODY_EVICTED), then the next, until the chunk fits. Rate, not age: an attacker who
 *   keeps opening fresh connections keeps its bodies young, so oldest-first would pick a
 *   large honest body that is merely a few ms into a slow link; the rate is what a
 *   trickler cannot fake without sending at the speed of an honest client (and finishing
 *   its body, which then costs it a whole request's bandwidth). The body whose chunk is
 *   being placed is not a candidate (its bytes are arriving right now), and bodies that
 *   hold no memory are not either (refusing them frees nothing).
 *
 * Ownership: this class is the only code that allocates or releases receive memory.
 * Each body's is released exactly once (`release`), by whichever comes first: completion,
 * refusal, or its client going away. At completion the slab region passes to the caller
 * (the dispatcher frees it after the worker's reply); nothing here frees a slab region.
 *
 * Pure (no uWebSockets.js): the server feeds it chunks and answers what it reports.
 */
import type { ErrorCode } from '../errors';
import type { ReceiveSlab } from '../pool/receive-slab';
import { monoNowMs } from '../util/clock';

/** How often the sweep looks for bodies past their deadline (as the dispatcher's sweep). */
export const kBodySweepIntervalMs = 5;
/**
 * First buffer of a body in pieces when its first chunk is smaller: a trickler holds
 * 1 KiB (8 MiB admits 8,192 of them before any eviction); an honest body's first chunk is
 * usually larger and sizes the buffer itself.
 */
export const kMinBodyBufferBytes = 1024;
/**
 * A body younger than this counts as this old when its rate is measured, so that a body
 * whose first bytes came this instant is judged by its bytes, not by a division by ~0.
 */
const kMinRateAgeMs = 1;

export type BodyRefusal = Extract<ErrorCode, 'BODY_TIMEOUT' | 'BODY_EVICTED' | 'BODY_TOO_LARGE' | 'BAD_JSON'>;

export interface ReceiveLimits {
  /** A body longer than this is refused (BODY_TOO_LARGE) as soon as it passes it. */
  maxBodyBytes: number;
  /** Receive memory held by incomplete bodies over all connections; at least maxBodyBytes. */
  maxReceivingBytes: number;
  /** A body not complete this long after it arrived is refused (BODY_TIMEOUT). */
  bodyTimeoutMs: number;
}

/** What the receiver reports; each body gets exactly one of these, or none if aborted. */
export interface BodyEvents<B> {
  /** The body is complete at slab[offset, offset + length); the callee owns that region now. */
  complete(body: B, offset: number, length: number): void;
  /** The body is complete but the slab has no room for it (true overload). */
  overloaded(body: B): void;
  /** Refused while it arrived; its receive memory is already released. */
  refused(body: B, code: BodyRefusal): void;
}

/** Receive memory held right now, read by the metrics gauge (made before the server, as InFlightRequests). */
export class ReceiveMemory {
  bytes = 0;
}

/**
 * One request body while it arrives. The server's job object extends it, so a request
 * is one object. Its fields are the receiver's: nothing else writes them.
 */
export class ReceivingBody {
  /** Bytes received so far (of a body that arrives in pieces). */
  received = 0;
  /** Receive memory charged to this body: the capacity of `buffer`. */
  reserved = 0;
  buffer: Uint8Array | null = null;
  /** True from `begin` until the body's receive memory is released. */
  receiving = false;
  prev: ReceivingBody | null = null;
  next: ReceivingBody | null = null;

  constructor(
    /** When the request arrived (ms, monotonic): its body's deadline counts from here. */
    readonly arrivedAt: number,
    /** The content-length, or -1 for a chunked body. */
    readonly declared: number,
  ) {}
}

export interface BodyReceiverOptions {
  /** 0 turns the sweep timer off (tests call `sweep` themselves). */
  sweepIntervalMs?: number;
  now?: () => number;
}

export class BodyReceiver<B extends ReceivingBody> {
  /** Incomplete bodies, oldest first. */
  private head: ReceivingBody | null = null;
  private tail: ReceivingBody | null = null;
  private count = 0;
  private readonly timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(
    private readonly slab: ReceiveSlab,
    private readonly limits: ReceiveLimits,
    private readonly memory: ReceiveMemory,
    private readonly events: BodyEvents<B>,
    options: BodyReceiverOptions = {},
  ) {
    if (limits.maxReceivingBytes < limits.maxBodyBytes) {
      // Config validation refuses this too; here it would let a lone body be evicted.
      throw new RangeError('maxReceivingBytes must be at least maxBodyBytes');
    }
    this.now = options.now ?? monoNowMs;
    const interval = options.sweepIntervalMs ?? kBodySweepIntervalMs;
    if (interval > 0) {
      this.timer = setInterval(() => this.sweep(this.now()), interval);
      this.timer.unref();
    }
  }

  /** Incomplete bodies right now. */
  receivingCount(): number {
    return this.count;
  }

  /** Starts receiving `body` (its request just arrived: call in arrival order). */
  begin(body: B): void {
    body.receiving = true;
    body.prev = this.tail;
    body.next = null;
    if (this.tail === null) this.head = body;
    else this.tail.next = body;
    this.tail = body;
    this.count++;
  }

  /** One chunk of `body`; copied before returning (the caller may reuse its memory). */
  data(body: B, chunk: ArrayBuffer, isLast: boolean): void {
    if (!body.receiving) return; // refused or aborted: the rest of the body is dropped
    const n = chunk.byteLength;
    const total = body.received + n;
    const limit = body.declared >= 0 ? body.declared : this.limits.maxBodyBytes;
    if (total > limit) {
      // More than the declared length would be a framing error; without one, the body is too large.
      this.refuse(body, body.declared >= 0 ? 'BAD_JSON' : 'BODY_TOO_LARGE');
      return;
    }
    if (isLast) {
      // Complete: what arrived before and this last chunk go straight into the slab (a
      // body whole in one chunk never had receive memory; the last chunk needs none).
      const head = body.buffer;
      const had = body.received;
      this.release(body);
      const offset = this.slab.alloc(total);
      if (offset < 0) {
        this.events.overloaded(body);
        return;
      }
      if (had > 0) this.slab.bytes.set(head!.subarray(0, had), offset);
      if (n > 0) this.slab.bytes.set(new Uint8Array(chunk), offset + had);
      this.events.complete(body, offset, total);
      return;
    }
    if (n === 0) return;
    if (total > body.reserved && !this.grow(body, total, limit)) return;
    body.buffer!.set(new Uint8Array(chunk), body.received);
    body.received = total;
  }

  /** The client went away: release what the body holds (nobody is left to answer). */
  abort(body: B): void {
    this.release(body);
  }

  /** Refuses every body past its deadline. */
  sweep(now: number): void {
    const expired = now - this.limits.bodyTimeoutMs;
    while (this.head !== null && this.head.arrivedAt <= expired) this.refuse(this.head as B, 'BODY_TIMEOUT');
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
  }

  /** Grows `body`'s buffer to hold `total` bytes, evicting slower bodies if the budget is short. */
  private grow(body: B, total: number, limit: number): boolean {
    const capacity = Math.min(limit, Math.max(total, body.reserved * 2, kMinBodyBufferBytes));
    const extra = capacity - body.reserved;
    if (this.memory.bytes + extra > this.limits.maxReceivingBytes && !this.evictFor(body, extra)) return false;
    const grown = new Uint8Array(capacity);
    if (body.received > 0) grown.set(body.buffer!.subarray(0, body.received));
    body.buffer = grown;
    body.reserved = capacity;
    this.memory.bytes += extra;
    return true;
  }

  /** Refuses the slowest other bodies until `extra` more bytes fit the budget. */
  private evictFor(body: B, extra: number): boolean {
    const now = this.now();
    while (this.memory.bytes + extra > this.limits.maxReceivingBytes) {
      const victim = this.slowest(body, now);
      if (victim === null) {
        // Unreachable while maxReceivingBytes >= maxBodyBytes; never exceed the bound anyway.
        this.refuse(body, 'BODY_EVICTED');
        return false;
      }
      this.refuse(victim, 'BODY_EVICTED');
    }
    return true;
  }

  /** The body holding memory that has received the fewest bytes per ms (the oldest on a tie). */
  private slowest(except: B, now: number): B | null {
    let slowest: ReceivingBody | null = null;
    let slowestRate = Infinity;
    for (let b = this.head; b !== null; b = b.next) {
      if (b === except || b.reserved === 0) continue;
      const rate = b.received / Math.max(now - b.arrivedAt, kMinRateAgeMs);
      if (rate < slowestRate) {
        slowest = b;
        slowestRate = rate;
      }
    }
    return slowest as B | null;
  }

  private refuse(body: B, code: BodyRefusal): void {
    this.release(body);
    this.events.refused(body, code);
  }

  /** The one place receive memory is released; a second call for the same body does nothing. */
  private release(body: ReceivingBody): void {
    if (!body.receiving) return;
    body.receiving = false;
    if (body.prev === null) this.head = body.next;
    else body.prev.next = body.next;
    if (body.next === null) this.tail = body.prev;
    else body.next.prev = body.prev;
    body.prev = null;
    body.next = null;
    this.count--;
    this.memory.bytes -= body.reserved;
    body.reserved = 0;
    body.buffer = null;
  }
}

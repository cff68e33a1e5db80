/**
 * Every campaign's budget state in one SharedArrayBuffer that all threads of the process
 * see: what this process may still commit (available), what bids hold (reserved), what was
 * spent, and the pacing throttle. Engine threads reserve lock-free (compare-and-swap) and
 * never wait; only the money owner (money-owner.ts) releases, spends, expires and grants.
 *
 * Reservations are kept in time buckets (bucketSec wide, `buckets` of them, a ring) rather
 * than per bid: a bill or loss names its bid's time (the token's issuedAtSec), which names
 * the bucket its reservation sits in; expiry empties whole buckets older than the TTL. So
 * the ledger's size does not grow with traffic, and a reservation is released at most once
 * (the owner is the only one that takes from a bucket, and a bucket whose epoch has moved
 * on gives nothing back). The ring spans buckets * bucketSec, which should exceed the
 * reservation TTL by two buckets (shapeFor makes it so): an engine thread never reuses a
 * bucket the owner has not emptied; a bucket that still holds an older epoch's money (the
 * owner lags, or the TTL is longer than the ring) refuses the bid (safe side).
 *
 * Money words are BigInt64 (micro-USD outgrow Int32 at $2,147); V8 may box a BigInt, so
 * the reserve path allocates a few short-lived words: the only allocation on it.
 *
 * Invariants (property-tested): reserved equals the sum of the live buckets; no
 * reservation takes available - reserved below zero; only bills take available down.
 */
export const kAvailable = 0;
export const kReserved = 1;
export const kSpentDay = 2;
export const kSpentTotal = 3;
const kFixedWords = 4;

export const kThrottlePpm = 0;
export const kBudgeted = 1;
/**
 * 1 once a reservation was refused for want of budget, until the owner next makes room (a
 * release, an expiry, a grant): lets the bid path skip a dry campaign before scoring with
 * one Int32 read instead of the BigInt arithmetic of canCover.
 */
export const kDry = 2;
// Four, one unused: the buffer stays a whole number of 8-byte words.
const kIntWords = 4;

export const kFullThrottlePpm = 1_000_000;

export interface LedgerShape {
  bucketSec: number;
  buckets: number;
}

export const kDefaultShape: LedgerShape = { bucketSec: 60, buckets: 32 };

function wordsPerCampaign(shape: LedgerShape): number {
  return kFixedWords + 2 * shape.buckets;
}

export function ledgerBytes(campaigns: number, shape: LedgerShape = kDefaultShape): number {
  return campaigns * (wordsPerCampaign(shape) * 8 + kIntWords * 4);
}

/** The shape that covers a reservation TTL: buckets of at least 1 s, the ring two buckets longer than the TTL. */
export function shapeFor(reservationTtlSec: number, buckets = 64): LedgerShape {
  return { bucketSec: Math.max(1, Math.ceil(reservationTtlSec / (buckets - 2))), buckets };
}

export class BudgetLedger {
  private readonly big: BigInt64Array;
  private readonly ints: Int32Array;
  private readonly words: number;

  constructor(buffer: SharedArrayBuffer, private readonly campaigns: number, readonly shape: LedgerShape = kDefaultShape) {
    if (!Number.isInteger(shape.bucketSec) || shape.bucketSec < 1 || !Number.isInteger(shape.buckets) || shape.buckets < 3) {
      throw new Error(`budget ledger shape ${JSON.stringify(shape)}: bucketSec must be an integer >= 1 and buckets an integer >= 3`);
    }
    if (buffer.byteLength < ledgerBytes(campaigns, shape)) {
      throw new Error(`budget ledger of ${buffer.byteLength} bytes: ${campaigns} campaigns need ${ledgerBytes(campaigns, shape)}`);
    }
    this.words = wordsPerCampaign(shape);
    this.big = new BigInt64Array(buffer, 0, campaigns * this.words);
    this.ints = new Int32Array(buffer, campaigns * this.words * 8, campaigns * kIntWords);
  }

  get campaignCount(): number {
    return this.campaigns;
  }

  // ---- engine threads: lock-free, no allocation beyond BigInt arithmetic ----

  /** Pacing: whether the campaign takes part in this request (`u01` uniform in [0, 1)). */
  admit(slot: number, u01: number): boolean {
    const i = slot * kIntWords;
    if (Atomics.load(this.ints, i + kBudgeted) === 0) return true;
    return u01 * kFullThrottlePpm < Atomics.load(this.ints, i + kThrottlePpm);
  }

  /**
   * The bid path's cheap pre-check, before scoring: pacing lets the campaign take part
   * (`random` is drawn only when it throttles) and no reservation was refused since the
   * owner last made room. tryReserve, at the winning price, decides.
   */
  mayBid(slot: number, random: () => number): 0 | 1 | 2 {
    const i = slot * kIntWords;
    const ints = this.ints;
    if (Atomics.load(ints, i + kBudgeted) === 0) return 0;
    const throttle = Atomics.load(ints, i + kThrottlePpm);
    if (throttle < kFullThrottlePpm && random() * kFullThrottlePpm >= throttle) return 1;
    return Atomics.load(ints, i + kDry) === 0 ? 0 : 2;
  }

  /** Whether `micros` would fit now (a read; tryReserve decides). */
  canCover(slot: number, micros: number): boolean {
    if (Atomics.load(this.ints, slot * kIntWords + kBudgeted) === 0) return true;
    const base = slot * this.words;
    return Atomics.load(this.big, base + kAvailable) - Atomics.load(this.big, base + kReserved) >= BigInt(micros);
  }

  /** Reserves `micros` at `nowSec` if available - reserved covers it; false changes nothing. */
  tryReserve(slot: number, micros: number, nowSec: number): boolean {
    if (Atomics.load(this.ints, slot * kIntWords + kBudgeted) === 0) return true;
    const big = this.big;
    const base = slot * this.words;
    const epoch = Math.floor(nowSec / this.shape.bucketSec);
    const b = epoch % this.shape.buckets;
    const amountAt = base + kFixedWords + b;
    const epochAt = amountAt + this.shape.buckets;
    const want = BigInt(epoch);
    const held = Atomics.load(big, epochAt);
    if (held !== want) {
      // The bucket last served an older epoch: reuse it only once the owner has emptied it
      // (refuse, never fold: folding would let a later release take back what expiry
      // already counted). A bucket already on a newer epoch (a thread whose clock lags)
      // is never moved back, or live reservations would look old and expire early.
      if (held > want) return false;
      if (Atomics.load(big, amountAt) !== 0n) return false;
      if (Atomics.compareExchange(big, epochAt, held, want) !== held && Atomics.load(big, epochAt) !== want) return false;
    }
    const m = BigInt(micros);
    for (;;) {
      const reserved = Atomics.load(big, base + kReserved);
      if (Atomics.load(big, base + kAvailable) - reserved < m) {
        Atomics.store(this.ints, slot * kIntWords + kDry, 1);
        return false;
      }
      if (Atomics.compareExchange(big, base + kReserved, reserved, reserved + m) === reserved) break;
    }
    Atomics.add(big, amountAt, m);
    return true;
  }

  // ---- the owner ----

  configure(slot: number, budgeted: boolean): void {
    Atomics.store(this.ints, slot * kIntWords + kBudgeted, budgeted ? 1 : 0);
    Atomics.store(this.ints, slot * kIntWords + kThrottlePpm, kFullThrottlePpm);
  }

  setThrottle(slot: number, ppm: number): void {
    Atomics.store(this.ints, slot * kIntWords + kThrottlePpm, Math.max(0, Math.min(kFullThrottlePpm, Math.round(ppm))));
  }

  grant(slot: number, micros: number): void {
    Atomics.add(this.big, slot * this.words + kAvailable, BigInt(Math.round(micros)));
    this.wet(slot);
  }

  setAvailable(slot: number, micros: number): void {
    Atomics.store(this.big, slot * this.words + kAvailable, BigInt(Math.round(micros)));
    this.wet(slot);
  }

  /** Room was made: the bid path may try the campaign again (mayBid). */
  private wet(slot: number): void {
    Atomics.store(this.ints, slot * kIntWords + kDry, 0);
  }

  resetDay(slot: number): void {
    Atomics.store(this.big, slot * this.words + kSpentDay, 0n);
  }

  /** A loss: the reservation made at `issuedAtSec` goes back, if its bucket has not expired. Returns what was released. */
  release(slot: number, reservedMicros: number, issuedAtSec: number): number {
    const big = this.big;
    const base = slot * this.words;
    const epoch = Math.floor(issuedAtSec / this.shape.bucketSec);
    const amountAt = base + kFixedWords + (epoch % this.shape.buckets);
    if (Atomics.load(big, amountAt + this.shape.buckets) !== BigInt(epoch)) return 0;
    const amount = Atomics.load(big, amountAt);
    const take = amount < BigInt(reservedMicros) ? amount : BigInt(reservedMicros);
    if (take <= 0n) return 0;
    Atomics.sub(big, amountAt, take);
    Atomics.sub(big, base + kReserved, take);
    this.wet(slot);
    return Number(take);
  }

  /** A bill: releases the bid's reservation (0 when it was another instance's) and spends `costMicros`. */
  bill(slot: number, costMicros: number, reservedMicros: number, issuedAtSec: number): void {
    if (reservedMicros > 0) this.release(slot, reservedMicros, issuedAtSec);
    const base = slot * this.words;
    const cost = BigInt(costMicros);
    Atomics.sub(this.big, base + kAvailable, cost);
    Atomics.add(this.big, base + kSpentDay, cost);
    Atomics.add(this.big, base + kSpentTotal, cost);
  }

  /** Empties every bucket wholly older than `ttlSec`; returns the micros released. */
  expire(nowSec: number, ttlSec: number): number {
    const big = this.big;
    const { bucketSec, buckets } = this.shape;
    let released = 0n;
    for (let slot = 0; slot < this.campaigns; slot++) {
      const base = slot * this.words;
      for (let b = 0; b < buckets; b++) {
        const amountAt = base + kFixedWords + b;
        if (Atomics.load(big, amountAt) === 0n) continue;
        const epoch = Number(Atomics.load(big, amountAt + buckets));
        if ((epoch + 1) * bucketSec > nowSec - ttlSec) continue;
        const v = Atomics.exchange(big, amountAt, 0n);
        Atomics.sub(big, base + kReserved, v);
        released += v;
      }
      // Once a tick every campaign may be tried again: a refusal racing the owner's last
      // release (which cleared the flag first) costs at most one tick of missed bids.
      this.wet(slot);
    }
    return Number(released);
  }

  available(slot: number): number {
    return Number(Atomics.load(this.big, slot * this.words + kAvailable));
  }

  reserved(slot: number): number {
    return Number(Atomics.load(this.big, slot * this.words + kReserved));
  }

  spentDay(slot: number): number {
    return Number(Atomics.load(this.big, slot * this.words + kSpentDay));
  }

  spentTotal(slot: number): number {
    return Number(Atomics.load(this.big, slot * this.words + kSpentTotal));
  }

  throttle(slot: number): number {
    return Atomics.load(this.ints, slot * kIntWords + kThrottlePpm);
  }

  /** Sum of the live buckets (tests: equals reserved()). */
  bucketSum(slot: number): number {
    let s = 0n;
    const base = slot * this.words + kFixedWords;
    for (let b = 0; b < this.shape.buckets; b++) s += Atomics.load(this.big, base + b);
    return Number(s);
  }
}

/**
 * The money loop's shared memory, made once on the main thread and handed to every thread
 * that bids (WorkerInit.money) and to the money owner (money.worker.ts): the budget ledger,
 * the frequency-cap table, the notice key, a notice ring per acceptor (acceptor → owner)
 * and the event rings (engine threads → owner). Nothing in it is copied per thread.
 */
import { randomBytes } from 'node:crypto';
import type { LedgerShape } from './budget-ledger';

export interface MoneyShared {
  ledger: SharedArrayBuffer;
  caps: SharedArrayBuffer;
  /** The notice key's bytes; each thread copies them into a private Buffer for HMAC. */
  noticeKey: SharedArrayBuffer;
  /** Where nurl/burl/lurl point (config money.noticeBaseUrl, or the listener's address). */
  noticeBaseUrl: string;
  noticeMaxAgeSec: number;
  /**
   * Starts every bid id minted in this process: the owner releases a reservation only for
   * its own bids (a fleet peer's bill spends here but reserved nothing here).
   */
  bidIdPrefix: string;
  /** This instance's name in the event log (money.instanceId, or hostname-pid). */
  instanceId: string;
  /** The ledger's bucket layout (budget-ledger.ts shapeFor the reservation TTL): the same in every thread. */
  ledgerShape: LedgerShape;
  /** One per acceptor, by acceptor index: accepted notices for the owner. */
  noticeRings: SharedArrayBuffer[];
  /** Bid records for the event log; an engine thread claims one (claimRing) for its life. */
  eventRings: SharedArrayBuffer[];
  /** Int32 per event ring: 0 free, else the thread id of its producer. */
  eventRingClaims: SharedArrayBuffer;
}

/** A private copy of the notice key (node:crypto takes no shared memory as a key). */
export function noticeKeyOf(shared: MoneyShared): Buffer {
  return Buffer.from(new Uint8Array(shared.noticeKey).slice());
}

export function sharedNoticeKey(key: Buffer): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(key.length);
  new Uint8Array(sab).set(key);
  return sab;
}

/** A short, process-unique bid-id prefix: a fleet never mints the same id twice. */
export function newBidIdPrefix(): string {
  return randomBytes(4).toString('hex') + '.';
}

/**
 * Claims a free event ring for thread `threadId` (>0); -1 when all are taken (the thread
 * then logs no bid events, and says so). A dead thread's ring stays claimed: rings are
 * sized for several generations of replaced workers.
 */
export function claimRing(claims: SharedArrayBuffer, threadId: number): number {
  const words = new Int32Array(claims);
  for (let i = 0; i < words.length; i++) {
    if (Atomics.compareExchange(words, i, 0, threadId + 1) === 0) return i;
  }
  return -1;
}

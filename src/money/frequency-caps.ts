/**
 * Billed impressions per (user, campaign, cap, window), in the process's shared-memory
 * table: the consent table's seqlock hash table (privacy/consent-table.ts) holding a count
 * per 64-bit key. One writer, the money owner, counts bills (record) and folds in the
 * fleet's counts from Redis (raise); every engine thread reads (capped) without locking or
 * allocating, and a torn read is impossible (the table's sequence word).
 *
 * Windows are fixed, aligned to the epoch (window = floor(now / windowSec)): one exact
 * counter per window, which Redis holds with a TTL of the window (INCR + EXPIRE). The cost:
 * across a window boundary a user may see up to twice `max`. An entry of a past window is
 * never read again and is evicted by newer keys; a full table evicts (the count is then
 * lost, which can only let a user see more, never fewer, ads: counted in `evictions`
 * through ConsentTable's home-slot eviction).
 */
import type { FrequencyCap } from '../decisioning/campaign-types';
import { fmix32 } from '../features/hash';
import { allocateConsentTable, ConsentTable, kTableMiss } from '../privacy/consent-table';

export function allocateCapTable(entries: number): SharedArrayBuffer {
  return allocateConsentTable(entries);
}

export function windowOf(nowSec: number, windowSec: number): number {
  return Math.floor(nowSec / windowSec);
}

export class FrequencyCaps {
  private readonly table: ConsentTable;
  private readonly key = new Int32Array(2);

  constructor(buffer: SharedArrayBuffer) {
    this.table = new ConsentTable(buffer);
  }

  /** The table key of one counter: the user's 64 bits mixed with campaign, cap and window. */
  private keyOf(slot: number, capIndex: number, userHi: number, userLo: number, window: number): Int32Array {
    const a = fmix32(userHi ^ Math.imul(slot + 1, 0x9e3779b1) ^ Math.imul(capIndex + 1, 0x7feb352d));
    const b = fmix32(userLo ^ Math.imul(window | 0, 0x85ebca6b) ^ Math.imul((window / 4294967296) | 0, 0xc2b2ae35));
    this.key[0] = a ^ fmix32(b + 0x632be5ab);
    this.key[1] = b ^ fmix32(a + 0x1b873593);
    return this.key;
  }

  /** Billed impressions counted for the user in the cap's current window. */
  count(slot: number, capIndex: number, cap: FrequencyCap, userHi: number, userLo: number, nowSec: number): number {
    const k = this.keyOf(slot, capIndex, userHi, userLo, windowOf(nowSec, cap.windowSec));
    const v = this.table.lookup(k[0], k[1]);
    return v === kTableMiss ? 0 : v;
  }

  /** Whether any of the campaign's caps is reached for the user now. */
  capped(slot: number, caps: readonly FrequencyCap[], userHi: number, userLo: number, nowSec: number): boolean {
    for (let i = 0; i < caps.length; i++) {
      if (this.count(slot, i, caps[i], userHi, userLo, nowSec) >= caps[i].max) return true;
    }
    return false;
  }

  /** The owner: one more billed impression for the user, in every cap's current window. */
  record(slot: number, caps: readonly FrequencyCap[], userHi: number, userLo: number, nowSec: number): void {
    for (let i = 0; i < caps.length; i++) {
      const n = this.count(slot, i, caps[i], userHi, userLo, nowSec) + 1;
      const k = this.keyOf(slot, i, userHi, userLo, windowOf(nowSec, caps[i].windowSec));
      this.table.publish(k[0], k[1], n);
    }
  }

  /** The owner: the fleet's count for one window (from Redis), kept when above ours. */
  raise(slot: number, capIndex: number, userHi: number, userLo: number, window: number, count: number): void {
    const k = this.keyOf(slot, capIndex, userHi, userLo, window);
    const v = this.table.lookup(k[0], k[1]);
    if (v === kTableMiss || v < count) this.table.publish(k[0], k[1], count);
  }
}

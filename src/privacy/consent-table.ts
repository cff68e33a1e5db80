/**
 * Consent decisions shared by every thread of the process, in one SharedArrayBuffer made
 * by the front end (src/bidder.ts) and handed to each worker in WorkerInit. A worker that
 * decodes a consent string publishes the decision here; the inline lane, which never
 * decodes, finds it here the next time the string comes and need not defer the request.
 *
 * Open addressing keyed by the string's 64-bit hash (string-hash.ts), linear probing over
 * at most kMaxProbes slots. Each slot is guarded by a seqlock word: a writer makes it odd
 * (compare-and-swap, so two writers never interleave in one slot), writes the key and the
 * value, then makes it even again; a reader takes the word before and after reading and
 * trusts what it read only when both are the same even number, so it never sees one key's
 * hash with another's value. Entries are never deleted (an empty slot ends a probe
 * sequence); when every probe slot is taken the home slot is overwritten. A decision is a
 * pure function of its key, so a lost or overwritten entry only costs a decode.
 *
 * Slot layout (Int32 words): [kSlotSeq, kSlotKeyHi, kSlotKeyLo, kSlotValue].
 */
import { fmix32 } from '../features/hash';

export const kSlotSeq = 0;
export const kSlotKeyHi = 1;
export const kSlotKeyLo = 2;
export const kSlotValue = 3;
export const kSlotWords = 4;
/** Slots probed from a key's home slot before giving up (lookup) or evicting (publish). */
export const kMaxProbes = 8;
/** Attempts at a slot whose seqlock word changed under a reader before it is passed over. */
const kReadAttempts = 4;
/** What lookup returns for a key not in the table; stored values are never negative. */
export const kTableMiss = -1;

const kBytesPerSlot = kSlotWords * Int32Array.BYTES_PER_ELEMENT;

/** Slots for a table that should hold about `entries` decisions at a load factor of at most one half. */
export function consentTableSlots(entries: number): number {
  let slots = kMaxProbes;
  while (slots < entries * 2) slots *= 2;
  return slots;
}

export function allocateConsentTable(entries: number): SharedArrayBuffer {
  return new SharedArrayBuffer(consentTableSlots(entries) * kBytesPerSlot);
}

export class ConsentTable {
  private readonly words: Int32Array;
  private readonly mask: number;

  constructor(buffer: SharedArrayBuffer) {
    const slots = buffer.byteLength / kBytesPerSlot;
    if (!Number.isInteger(slots) || slots < kMaxProbes || (slots & (slots - 1)) !== 0) {
      throw new Error(`consent table of ${buffer.byteLength} bytes: need a power-of-two number (>= ${kMaxProbes}) of ${kBytesPerSlot}-byte slots`);
    }
    this.words = new Int32Array(buffer);
    this.mask = slots - 1;
  }

  get slots(): number {
    return this.mask + 1;
  }

  /** The value stored for (hi, lo), or kTableMiss. */
  lookup(hi: number, lo: number): number {
    const w = this.words;
    const home = fmix32(hi ^ lo);
    for (let p = 0; p < kMaxProbes; p++) {
      const base = ((home + p) & this.mask) * kSlotWords;
      for (let attempt = 0; attempt < kReadAttempts; attempt++) {
        const before = Atomics.load(w, base + kSlotSeq);
        if (before === 0) return kTableMiss; // never written: the key would have been put here
        if ((before & 1) !== 0) continue; // a writer holds it
        const kh = Atomics.load(w, base + kSlotKeyHi);
        const kl = Atomics.load(w, base + kSlotKeyLo);
        const value = Atomics.load(w, base + kSlotValue);
        if (Atomics.load(w, base + kSlotSeq) !== before) continue; // rewritten while read
        if (kh === hi && kl === lo) return value;
        break; // a consistent entry for another key: probe on
      }
    }
    return kTableMiss;
  }

  /**
   * Stores `value` (>= 0) for (hi, lo). Returns false when it could not (every probe slot
   * busy with writers at that instant); the caller has its own cache, so that is harmless.
   */
  publish(hi: number, lo: number, value: number): boolean {
    const w = this.words;
    const home = fmix32(hi ^ lo);
    for (let p = 0; p < kMaxProbes; p++) {
      const base = ((home + p) & this.mask) * kSlotWords;
      const seq = Atomics.load(w, base + kSlotSeq);
      if ((seq & 1) !== 0) continue;
      if (seq !== 0) {
        const kh = Atomics.load(w, base + kSlotKeyHi);
        const kl = Atomics.load(w, base + kSlotKeyLo);
        // Another key's entry, or one being rewritten: keep probing. A stale read here is
        // caught by the compare-and-swap below, which fails if the word moved since `seq`.
        if (kh !== hi || kl !== lo) continue;
        if (Atomics.load(w, base + kSlotValue) === value && Atomics.load(w, base + kSlotSeq) === seq) return true;
      }
      if (this.write(base, seq, hi, lo, value)) return true;
      // Another writer took the slot first: probe on. Had it stored this same key, a
      // duplicate lands further on: a wasted slot, never a wrong answer.
    }
    // Every probe slot holds another key: evict the home slot.
    const base = (home & this.mask) * kSlotWords;
    const seq = Atomics.load(w, base + kSlotSeq);
    return (seq & 1) === 0 && this.write(base, seq, hi, lo, value);
  }

  private write(base: number, seq: number, hi: number, lo: number, value: number): boolean {
    const w = this.words;
    if (Atomics.compareExchange(w, base + kSlotSeq, seq, seq + 1) !== seq) return false;
    Atomics.store(w, base + kSlotKeyHi, hi);
    Atomics.store(w, base + kSlotKeyLo, lo);
    Atomics.store(w, base + kSlotValue, value);
    // Even again, never 0 (0 marks a slot never written) however often it wraps.
    let next = (seq + 2) | 0;
    if (next === 0) next = 2;
    Atomics.store(w, base + kSlotSeq, next);
    return true;
  }
}

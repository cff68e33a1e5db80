/**
 * Win-rate models shared by every thread of the process, in one SharedArrayBuffer: the
 * learner's thread (win-rate-model.ts) publishes each segment's parameters here about
 * once a second, and every engine thread reads them lock-free on the bid path to shade.
 *
 * One writer, many readers. The writer is not checked: two writers would corrupt the
 * probe chains, so only the thread that owns the WinRateLearner calls the writer half.
 *
 * Open addressing on the u32 segment hash, linear probing. Key 0 is never a segment (0
 * means "no segment") and marks an empty slot; the global model has its own slot outside
 * the hash area. Removal is backward-shift deletion (no tombstones, so probe chains never
 * silt up as segments are evicted and replaced). Each slot is guarded by a seqlock word:
 * the writer makes it odd, writes the key and the values, makes it even again; a reader
 * takes the word before and after and trusts what it read only when both are the same even
 * number, so it never sees one segment's key with another's parameters, nor a half-written
 * `a` (a Float64 is stored as two Int32 halves, each moved with Atomics, because plain
 * Float64 reads could be reordered past the closing seqlock read). A slot that changes
 * under a reader kReadAttempts times running is treated as absent. A reader racing a
 * removal's backward shift may miss a segment that is being moved: it then uses the global
 * model for that one read, never a wrong segment's.
 *
 * Layout, Int32 words: a header of kHeaderWords, the global slot, then `slots` hash slots;
 * each slot is kSlotWords: [kSlotSeq, kSlotKey, kSlotA (2 words), kSlotC (2 words),
 * kSlotCount, pad]. The header holds kHeaderVersion (snapshots completed: readers can tell
 * a stale table) and kHeaderSize (segments held).
 */
import { fmix32 } from '../features/hash';

export const kHeaderVersion = 0;
export const kHeaderSize = 1;
export const kHeaderWords = 8;

export const kSlotSeq = 0;
export const kSlotKey = 1;
/** Low word of `a`; the high word follows. */
export const kSlotA = 2;
/** Low word of `c`; the high word follows. */
export const kSlotC = 4;
/** Observations behind the parameters, saturating at 2^31 - 1. */
export const kSlotCount = 6;
export const kSlotWords = 8;

/** Where `read` puts what it read, in the caller's Float64Array of at least 3. */
export const kOutA = 0;
export const kOutC = 1;
export const kOutCount = 2;

/** What `read` found: neither model usable (do not shade), the segment's own, or the global one. */
export const kNoModel = 0;
export const kFromSegment = 1;
export const kFromGlobal = 2;
export type WinRateSource = typeof kNoModel | typeof kFromSegment | typeof kFromGlobal;

/** Attempts at a slot whose seqlock word moved under a reader before it is treated as absent. */
const kReadAttempts = 4;
/** Fewest hash slots; a table is always a power of two of them. */
export const kMinSlots = 8;
const kMaxCount = 0x7fffffff;

const kBytesPerSlot = kSlotWords * Int32Array.BYTES_PER_ELEMENT;
const kGlobalBase = kHeaderWords;
const kFirstSlotBase = kHeaderWords + kSlotWords;

// Scratch to move a Float64 through two Int32 words: per thread (each has its own module
// instance), so the bid path splits and joins without allocating.
const scratchF64 = new Float64Array(1);
const scratchI32 = new Int32Array(scratchF64.buffer);

/** `slots` rounded up to a power of two, at least kMinSlots. */
export function winRateTableSlots(slots: number): number {
  let n = kMinSlots;
  while (n < slots) n *= 2;
  return n;
}

export function winRateTableBytes(slots: number): number {
  return (kHeaderWords + kSlotWords * (winRateTableSlots(slots) + 1)) * Int32Array.BYTES_PER_ELEMENT;
}

/** A table of `slots` hash slots (rounded up to a power of two) plus the global slot. */
export function allocateWinRateTable(slots: number): SharedArrayBuffer {
  return new SharedArrayBuffer(winRateTableBytes(slots));
}

export class WinRateTable {
  private readonly words: Int32Array;
  private readonly mask: number;

  constructor(buffer: SharedArrayBuffer) {
    const slots = (buffer.byteLength - (kHeaderWords + kSlotWords) * Int32Array.BYTES_PER_ELEMENT) / kBytesPerSlot;
    if (!Number.isInteger(slots) || slots < kMinSlots || (slots & (slots - 1)) !== 0) {
      throw new Error(`win-rate table of ${buffer.byteLength} bytes: not a buffer from allocateWinRateTable (a power of two >= ${kMinSlots} of ${kBytesPerSlot}-byte slots after the header and global slot)`);
    }
    this.words = new Int32Array(buffer);
    this.mask = slots - 1;
  }

  get slots(): number {
    return this.mask + 1;
  }

  // ---- readers: any thread, lock-free, no allocation ----

  /**
   * The model to shade with for `segment` (u32; 0 = none) into out[kOutA, kOutC, kOutCount]:
   * the segment's own when present with at least `minObservations`, else the global model
   * when it has at least `minObservations`, else kNoModel (out then holds whatever was
   * read last: do not shade). The global model obeys the same threshold so that a fresh
   * process does not shade on a prior alone.
   */
  read(segment: number, minObservations: number, out: Float64Array): WinRateSource {
    if (segment !== 0 && this.find(segment | 0, out) && out[kOutCount] >= minObservations) return kFromSegment;
    if (this.readSlot(kGlobalBase, 0, out) && out[kOutCount] >= minObservations) return kFromGlobal;
    return kNoModel;
  }

  /** The segment's own entry, whatever its count; false when absent. */
  readSegment(segment: number, out: Float64Array): boolean {
    return segment !== 0 && this.find(segment | 0, out);
  }

  /** The global model; false before the first publishGlobal. */
  readGlobal(out: Float64Array): boolean {
    return this.readSlot(kGlobalBase, 0, out);
  }

  /** Snapshots completed (endSnapshot calls), wrapping at 2^31. */
  get version(): number {
    return Atomics.load(this.words, kHeaderVersion);
  }

  /** Segments held (the global model not counted). */
  get size(): number {
    return Atomics.load(this.words, kHeaderSize);
  }

  private find(key: number, out: Float64Array): boolean {
    const w = this.words;
    const mask = this.mask;
    let s = fmix32(key) & mask;
    for (let p = 0; p <= mask; p++) {
      const base = kFirstSlotBase + s * kSlotWords;
      let found = -1; // -1: unreadable, 0: another key, 1: this key, 2: empty
      for (let attempt = 0; attempt < kReadAttempts; attempt++) {
        const before = Atomics.load(w, base + kSlotSeq);
        if (before === 0) { found = 2; break; } // never written
        if ((before & 1) !== 0) continue; // the writer holds it
        const k = Atomics.load(w, base + kSlotKey);
        if (k === key) this.readValues(base, out);
        if (Atomics.load(w, base + kSlotSeq) !== before) continue; // rewritten while read
        found = k === key ? 1 : k === 0 ? 2 : 0;
        break;
      }
      // An unreadable slot might have been ours: call the segment absent rather than spin.
      if (found !== 0) return found === 1;
      s = (s + 1) & mask;
    }
    return false;
  }

  private readSlot(base: number, key: number, out: Float64Array): boolean {
    const w = this.words;
    for (let attempt = 0; attempt < kReadAttempts; attempt++) {
      const before = Atomics.load(w, base + kSlotSeq);
      if (before === 0) return false;
      if ((before & 1) !== 0) continue;
      const k = Atomics.load(w, base + kSlotKey);
      this.readValues(base, out);
      if (Atomics.load(w, base + kSlotSeq) !== before) continue;
      return k === key;
    }
    return false;
  }

  private readValues(base: number, out: Float64Array): void {
    const w = this.words;
    scratchI32[0] = Atomics.load(w, base + kSlotA);
    scratchI32[1] = Atomics.load(w, base + kSlotA + 1);
    out[kOutA] = scratchF64[0];
    scratchI32[0] = Atomics.load(w, base + kSlotC);
    scratchI32[1] = Atomics.load(w, base + kSlotC + 1);
    out[kOutC] = scratchF64[0];
    out[kOutCount] = Atomics.load(w, base + kSlotCount);
  }

  // ---- the one writer (the learner's thread) ----

  publishGlobal(a: number, c: number, count: number): void {
    this.writeSlot(kGlobalBase, 0, a, c, count);
  }

  /**
   * Stores (a, c, count) for `segment` (u32, not 0). Returns false, changing nothing, when
   * the segment is 0 or new and the table already holds slots - 1 segments (one slot stays
   * empty so that every probe ends); the learner sizes the table at twice its segments.
   */
  publish(segment: number, a: number, c: number, count: number): boolean {
    const key = segment | 0;
    if (key === 0) return false;
    const w = this.words;
    const mask = this.mask;
    let s = fmix32(key) & mask;
    for (let p = 0; p <= mask; p++) {
      const base = kFirstSlotBase + s * kSlotWords;
      const k = w[base + kSlotKey]; // the writer reads its own writes: no race
      if (k === key) {
        this.writeSlot(base, key, a, c, count);
        return true;
      }
      if (k === 0) {
        const size = w[kHeaderSize];
        if (size >= mask) return false;
        this.writeSlot(base, key, a, c, count);
        Atomics.store(w, kHeaderSize, size + 1);
        return true;
      }
      s = (s + 1) & mask;
    }
    return false;
  }

  /** Drops `segment`; false when it was not held. */
  remove(segment: number): boolean {
    const key = segment | 0;
    if (key === 0) return false;
    const w = this.words;
    const mask = this.mask;
    let hole = fmix32(key) & mask;
    for (let p = 0; ; p++) {
      if (p > mask) return false;
      const k = w[kFirstSlotBase + hole * kSlotWords + kSlotKey];
      if (k === 0) return false;
      if (k === key) break;
      hole = (hole + 1) & mask;
    }
    // Backward shift: walk the cluster after the hole and pull back each entry whose home
    // does not lie cyclically in (hole, j], so no entry is left beyond an empty slot. The
    // entry is written at the hole before its old slot is reused, so it is never absent
    // from both, though a reader walking past the hole just before may miss it once.
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      const base = kFirstSlotBase + j * kSlotWords;
      const k = w[base + kSlotKey];
      if (k === 0) break;
      const home = fmix32(k) & mask;
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      this.copySlot(base, kFirstSlotBase + hole * kSlotWords);
      hole = j;
    }
    this.writeSlot(kFirstSlotBase + hole * kSlotWords, 0, 0, 0, 0);
    Atomics.store(w, kHeaderSize, w[kHeaderSize] - 1);
    return true;
  }

  /** Marks a snapshot complete: readers see `version` move on. */
  endSnapshot(): void {
    Atomics.add(this.words, kHeaderVersion, 1);
  }

  private copySlot(from: number, to: number): void {
    const w = this.words;
    scratchI32[0] = w[from + kSlotA];
    scratchI32[1] = w[from + kSlotA + 1];
    const a = scratchF64[0];
    scratchI32[0] = w[from + kSlotC];
    scratchI32[1] = w[from + kSlotC + 1];
    this.writeSlot(to, w[from + kSlotKey], a, scratchF64[0], w[from + kSlotCount]);
  }

  private writeSlot(base: number, key: number, a: number, c: number, count: number): void {
    const w = this.words;
    const seq = w[base + kSlotSeq];
    Atomics.store(w, base + kSlotSeq, (seq + 1) | 0); // odd: readers keep off
    Atomics.store(w, base + kSlotKey, key);
    scratchF64[0] = a;
    Atomics.store(w, base + kSlotA, scratchI32[0]);
    Atomics.store(w, base + kSlotA + 1, scratchI32[1]);
    scratchF64[0] = c;
    Atomics.store(w, base + kSlotC, scratchI32[0]);
    Atomics.store(w, base + kSlotC + 1, scratchI32[1]);
    Atomics.store(w, base + kSlotCount, count >= kMaxCount ? kMaxCount : count > 0 ? Math.floor(count) : 0);
    // Even again, never 0 (0 marks a slot never written) however often it wraps.
    let next = (seq + 2) | 0;
    if (next === 0) next = 2;
    Atomics.store(w, base + kSlotSeq, next);
  }
}

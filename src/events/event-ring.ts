/**
 * A lock-free single-producer / single-consumer ring of byte records in a SharedArrayBuffer.
 * An engine thread (acceptor or pool worker) hands records to the thread that owns the event
 * log without postMessage: the producer copies a record in and publishes it by moving `head`,
 * the consumer reads it and frees its space by moving `tail`. Neither side ever waits; a
 * record that does not fit is refused (tryWrite returns false) and counted in the ring's own
 * `dropped` word, so the consumer thread can report drops it never saw.
 *
 * Layout: a header of Int32 words, then the data area (a power of two bytes). `head` and
 * `tail` count bytes ever written and ever read, modulo 2^32, so `head - tail` is the bytes
 * in use and the ring is full and empty without a spare slot. Each sits on its own 64-byte
 * line so the two threads do not false-share. A record is [u32 length][bytes], padded to 4
 * bytes; when a record does not fit before the end of the data area, the producer writes a
 * wrap marker (length 0xFFFFFFFF) there and starts the record at offset 0, so every record
 * reaches the consumer as one contiguous view.
 *
 * Memory order: the record bytes are plain stores made before the Atomics.store of `head`,
 * and the consumer reads them after its Atomics.load of `head` (and the producer reuses space
 * only after loading the `tail` the consumer stored after reading): Atomics are sequentially
 * consistent, which gives the happens-before edges the plain accesses need.
 *
 * Exactly one thread may call tryWrite, and one thread drain, per ring; several EventRing
 * objects may wrap one buffer (one per thread).
 */
import { EventLogError } from './event-errors';

/** Int32 word offsets in the header. */
const kHeadWord = 0;
const kTailWord = 16;
const kDroppedWord = 32;
const kCapacityWord = 33;
const kHeaderBytes = 192;
/** Length word of a wrap marker: the rest of the data area is empty; continue at 0. */
const kWrapMarker = -1;
const kMinCapacity = 64;
const kMaxCapacity = 1 << 30;

export class EventRing {
  readonly buffer: SharedArrayBuffer;
  /** Bytes in the data area (a power of two). The largest record is capacity - 4 bytes. */
  readonly capacity: number;
  private readonly header: Int32Array;
  private readonly data: Uint8Array;
  private readonly words: Int32Array;
  private readonly mask: number;

  /** A fresh ring whose data area holds at least `bytes` (rounded up to a power of two). */
  static allocate(bytes: number): SharedArrayBuffer {
    if (!Number.isInteger(bytes) || bytes < 1 || bytes > kMaxCapacity) {
      throw new EventLogError('EVENTS_BAD_OPTIONS', `ring size ${bytes} must be an integer in 1..${kMaxCapacity}`);
    }
    let capacity = kMinCapacity;
    while (capacity < bytes) capacity *= 2;
    const buffer = new SharedArrayBuffer(kHeaderBytes + capacity);
    new Int32Array(buffer, 0, kHeaderBytes >> 2)[kCapacityWord] = capacity;
    return buffer;
  }

  constructor(buffer: SharedArrayBuffer) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < kHeaderBytes + kMinCapacity) {
      throw new EventLogError('EVENTS_BAD_OPTIONS', 'buffer was not made by EventRing.allocate');
    }
    const header = new Int32Array(buffer, 0, kHeaderBytes >> 2);
    const capacity = Atomics.load(header, kCapacityWord);
    if (capacity < kMinCapacity || (capacity & (capacity - 1)) !== 0 || buffer.byteLength !== kHeaderBytes + capacity) {
      throw new EventLogError('EVENTS_BAD_OPTIONS', 'buffer was not made by EventRing.allocate');
    }
    this.buffer = buffer;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.header = header;
    this.data = new Uint8Array(buffer, kHeaderBytes, capacity);
    this.words = new Int32Array(buffer, kHeaderBytes, capacity >> 2);
  }

  /**
   * Producer: copies `bytes` in as one record. False, counting a drop, when there is no room
   * now (or the record is larger than the ring could ever hold). Never blocks or allocates.
   */
  tryWrite(bytes: Uint8Array): boolean {
    const n = bytes.length;
    const need = 4 + ((n + 3) & ~3);
    const head = Atomics.load(this.header, kHeadWord);
    const tail = Atomics.load(this.header, kTailWord);
    let at = head & this.mask;
    const before = this.capacity - at;
    // A record that will not fit before the end skips the rest of the area (the wrap marker).
    const total = need <= before ? need : before + need;
    if (need > this.capacity - 4 || ((head - tail) >>> 0) + total > this.capacity) {
      Atomics.add(this.header, kDroppedWord, 1);
      return false;
    }
    if (need > before) {
      this.words[at >> 2] = kWrapMarker;
      at = 0;
    }
    this.words[at >> 2] = n;
    this.data.set(bytes, at + 4);
    Atomics.store(this.header, kHeadWord, (head + total) | 0);
    return true;
  }

  /** Producer side: counts a record dropped before it reached the ring (e.g. it could not be encoded). */
  countDrop(): void {
    Atomics.add(this.header, kDroppedWord, 1);
  }

  /**
   * Consumer: calls `cb` with each waiting record, oldest first, at most `max` of them, and
   * returns how many. The view points into the ring and is valid only during the call: its
   * space is released to the producer when `cb` returns, so copy what is kept.
   */
  drain(cb: (record: Uint8Array) => void, max = Infinity): number {
    const head = Atomics.load(this.header, kHeadWord);
    let tail = Atomics.load(this.header, kTailWord);
    let count = 0;
    while (tail !== head && count < max) {
      let at = tail & this.mask;
      let n = this.words[at >> 2];
      if (n === kWrapMarker) {
        tail = (tail + this.capacity - at) | 0;
        at = 0;
        n = this.words[0];
      }
      try {
        cb(this.data.subarray(at + 4, at + 4 + n));
      } finally {
        // A callback that throws still consumes its record: a poison record must not wedge the ring.
        tail = (tail + 4 + ((n + 3) & ~3)) | 0;
        Atomics.store(this.header, kTailWord, tail);
      }
      count++;
    }
    return count;
  }

  /** Records the producer could not write, ever (read by the consumer thread for metrics). */
  get dropped(): number {
    return Atomics.load(this.header, kDroppedWord) >>> 0;
  }

  /** Bytes in use now (records, padding and any wrap gap); 0 when the consumer has caught up. */
  get used(): number {
    return (Atomics.load(this.header, kHeadWord) - Atomics.load(this.header, kTailWord)) >>> 0;
  }
}

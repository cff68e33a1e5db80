/**
 * Shared receive buffer for complete request bodies. The front end reserves a region
 * here only once a body has fully arrived (src/server/body-receiver.ts: a declared
 * content-length reserves nothing, so slow senders cannot hold the slab) and copies the
 * body in; workers read it in place (no transfer, no second copy). The dispatcher
 * releases the region when the worker's answer for that request comes back.
 *
 * Allocation is a bump pointer inside fixed-size segments with a live-region count per
 * segment: O(1) alloc and free, no fragmentation bookkeeping. A full segment is left
 * for the next one that is empty; when none is empty the slab is full and the caller
 * sheds the request. Each acceptor thread owns a range of segments of the one shared
 * buffer (the pool's workers read every range, by offset) and is the only thread that
 * allocates and frees in it.
 */
export class ReceiveSlab {
  readonly buffer: SharedArrayBuffer;
  readonly bytes: Uint8Array;
  private readonly live: Int32Array;
  private current = 0;
  private cursor = 0;
  private segmentsInUse = 0;

  /** The first segment of this slab's range in `buffer`. */
  private readonly first: number;

  /**
   * A slab of `segments` segments: a buffer of its own, or the range that starts at
   * segment `first` of a buffer shared with other acceptors (allocateSharedSlab).
   */
  constructor(readonly segmentBytes: number, readonly segments: number, shared?: { buffer: SharedArrayBuffer; first: number }) {
    this.buffer = shared?.buffer ?? new SharedArrayBuffer(segmentBytes * segments);
    this.first = shared?.first ?? 0;
    if ((this.first + segments) * segmentBytes > this.buffer.byteLength) throw new RangeError('slab range outside its buffer');
    this.bytes = new Uint8Array(this.buffer);
    this.live = new Int32Array(segments);
  }

  /** Reserves `length` bytes; returns the offset, or -1 when no segment has room. */
  alloc(length: number): number {
    // An empty body still takes a byte: a zero-length region at a segment's end would
    // otherwise start in the next segment and be freed from the wrong one.
    if (length < 1) length = 1;
    if (length > this.segmentBytes) return -1;
    const seg = this.current;
    const base = this.first * this.segmentBytes;
    if (this.live[seg] === 0) this.cursor = base + seg * this.segmentBytes;
    if (this.cursor + length > base + (seg + 1) * this.segmentBytes) {
      const next = this.findEmptySegment(seg);
      if (next < 0) return -1;
      this.current = next;
      this.cursor = base + next * this.segmentBytes;
    }
    const offset = this.cursor;
    this.cursor += length;
    if (this.live[this.current]++ === 0) this.segmentsInUse++;
    return offset;
  }

  free(offset: number): void {
    const seg = ((offset / this.segmentBytes) | 0) - this.first;
    if (--this.live[seg] === 0) this.segmentsInUse--;
  }

  inUse(): number {
    return this.segmentsInUse;
  }

  private findEmptySegment(from: number): number {
    for (let i = 1; i <= this.segments; i++) {
      const s = (from + i) % this.segments;
      if (this.live[s] === 0) return s;
    }
    return -1;
  }
}

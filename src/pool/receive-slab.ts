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
 * sheds the request. Only the front-end thread allocates and frees.
 */
export class ReceiveSlab {
  readonly buffer: SharedArrayBuffer;
  readonly bytes: Uint8Array;
  private readonly live: Int32Array;
  private current = 0;
  private cursor = 0;
  private segmentsInUse = 0;

  constructor(readonly segmentBytes: number, readonly segments: number) {
    this.buffer = new SharedArrayBuffer(segmentBytes * segments);
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
    if (this.live[seg] === 0) this.cursor = seg * this.segmentBytes;
    if (this.cursor + length > (seg + 1) * this.segmentBytes) {
      const next = this.findEmptySegment(seg);
      if (next < 0) return -1;
      this.current = next;
      this.cursor = next * this.segmentBytes;
    }
    const offset = this.cursor;
    this.cursor += length;
    if (this.live[this.current]++ === 0) this.segmentsInUse++;
    return offset;
  }

  free(offset: number): void {
    const seg = (offset / this.segmentBytes) | 0;
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

/**
 * The pool's free slots (threads x pool.maxBatchesPerWorker), counted once for every
 * acceptor that shares the pool: a word in shared memory that each acceptor's dispatcher
 * takes a slot from when it hands the pool a batch and gives back when that batch leaves
 * its flight (answered, failed, or abandoned to a stuck worker, whose replacement takes
 * the slot). So piscina's own queue stays empty, whichever acceptor sends.
 *
 * Two acceptors may both see the last slot free and both take it (the check and the take
 * are not one step, on purpose: a compare-exchange loop on the hot path buys nothing);
 * the count then dips below zero for one batch, which piscina holds until a worker is free.
 */
export class PoolSlots {
  private readonly word: Int32Array;

  constructor(
    readonly capacity: number,
    buffer: SharedArrayBuffer = new SharedArrayBuffer(4),
  ) {
    this.word = new Int32Array(buffer, 0, 1);
  }

  /** The memory to give the other acceptors (new PoolSlots(capacity, buffer)). */
  get buffer(): SharedArrayBuffer {
    return this.word.buffer as SharedArrayBuffer;
  }

  /** Slots free now (never negative). */
  free(): number {
    const held = Atomics.load(this.word, 0);
    return held >= this.capacity ? 0 : this.capacity - held;
  }

  /** Slots held now, over every acceptor. */
  held(): number {
    return Atomics.load(this.word, 0);
  }

  take(): void {
    Atomics.add(this.word, 0, 1);
  }

  give(): void {
    Atomics.sub(this.word, 0, 1);
  }
}

/**
 * Counters and histograms that every thread writes into shared memory, so that worker
 * threads feed the main registry without a message per observation and a scrape never
 * waits on (or interrupts) the hot path.
 *
 * Memory layout of the SharedArrayBuffer:
 *   [Int32 owner table: kMaxSlots entries][padding to 8][slot 0 words][slot 1 words]...
 * Slot 0 belongs to the front-end thread; worker threads claim a free slot at start by
 * writing their threadId into the owner table (compare-and-swap), so each slot has a
 * single writer and plain Float64 adds are safe. The reader sums every slot at scrape
 * time; a slot whose thread died keeps its totals (counters never go backwards) and is
 * reused by a replacement worker.
 */

export const kMainSlot = 0;
/** Slots available to worker threads over the life of the process (replacements reuse freed ones). */
export const kMaxSlots = 128;
const kOwnerTableBytes = kMaxSlots * Int32Array.BYTES_PER_ELEMENT;

export interface CounterDef {
  name: string;
  help: string;
  labelNames: readonly string[];
  /** Label values of each series, created before traffic arrives. */
  series: readonly (readonly string[])[];
  /**
   * Series per model slot or per experiment-arm slot (the one label value is the slot
   * number): exported under the labels the slot holds now (model and version, or
   * experiment and arm; src/metrics/lifecycle-view.ts), and not at all while it holds none.
   */
  relabel?: 'model' | 'arm';
}

export interface HistogramDef extends CounterDef {
  /** Upper bounds, ascending; +Inf is implicit. */
  buckets: readonly number[];
}

interface Placed<T> {
  def: T;
  /** Word offset of each series inside a slot. */
  offsets: number[];
}

/** Where each series lives; identical in every thread because it is built from the same definitions. */
export class MetricsLayout {
  readonly counters: Placed<CounterDef>[] = [];
  readonly histograms: Placed<HistogramDef>[] = [];
  readonly wordsPerSlot: number;
  private readonly byKey = new Map<string, number>();
  private readonly bucketBounds = new Map<number, Float64Array>();

  constructor(counters: readonly CounterDef[], histograms: readonly HistogramDef[]) {
    let words = 0;
    for (const def of counters) {
      const offsets: number[] = [];
      for (const values of def.series) {
        this.byKey.set(seriesKey(def.name, values), words);
        offsets.push(words);
        words += 1;
      }
      this.counters.push({ def, offsets });
    }
    for (const def of histograms) {
      const offsets: number[] = [];
      const bounds = Float64Array.from(def.buckets);
      for (const values of def.series) {
        this.byKey.set(seriesKey(def.name, values), words);
        this.bucketBounds.set(words, bounds);
        offsets.push(words);
        // one count per bucket, one for +Inf, then the sum
        words += def.buckets.length + 2;
      }
      this.histograms.push({ def, offsets });
    }
    this.wordsPerSlot = words;
  }

  /** Word offset of a series; resolve once at start, then record with the number. */
  offset(name: string, labelValues: readonly string[] = []): number {
    const at = this.byKey.get(seriesKey(name, labelValues));
    if (at === undefined) throw new Error(`metric series not defined: ${seriesKey(name, labelValues)}`);
    return at;
  }

  bounds(histogramOffset: number): Float64Array {
    const b = this.bucketBounds.get(histogramOffset);
    if (!b) throw new Error(`not a histogram series offset: ${histogramOffset}`);
    return b;
  }

  byteLength(): number {
    return kOwnerTableBytes + kMaxSlots * this.wordsPerSlot * Float64Array.BYTES_PER_ELEMENT;
  }

  allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer(this.byteLength());
  }
}

function seriesKey(name: string, values: readonly string[]): string {
  return values.length === 0 ? name : `${name}\u0000${values.join('\u0000')}`;
}

/** A histogram series resolved for recording: its words and its bucket bounds. */
export interface HistogramHandle {
  offset: number;
  bounds: Float64Array;
}

/** One thread's writer: owns exactly one slot. */
export class SlotWriter {
  private readonly words: Float64Array;

  constructor(readonly layout: MetricsLayout, buffer: SharedArrayBuffer, readonly slot: number) {
    this.words = new Float64Array(buffer, kOwnerTableBytes + slot * layout.wordsPerSlot * 8, layout.wordsPerSlot);
  }

  histogram(name: string, labelValues: readonly string[] = []): HistogramHandle {
    const offset = this.layout.offset(name, labelValues);
    return { offset, bounds: this.layout.bounds(offset) };
  }

  inc(offset: number, by = 1): void {
    this.words[offset] += by;
  }

  observe(h: HistogramHandle, value: number): void {
    const bounds = h.bounds;
    const n = bounds.length;
    let i = 0;
    while (i < n && value > bounds[i]) i++;
    this.words[h.offset + i] += 1;
    this.words[h.offset + n + 1] += value;
  }
}

/** Claims a worker slot for `threadId`; returns -1 when every slot is taken. */
export function claimSlot(buffer: SharedArrayBuffer, threadId: number): number {
  const owners = new Int32Array(buffer, 0, kMaxSlots);
  for (let slot = kMainSlot + 1; slot < kMaxSlots; slot++) {
    if (Atomics.compareExchange(owners, slot, 0, threadId) === 0) return slot;
  }
  return -1;
}

/** Frees the slots of threads that are gone, so replacement workers can take them. */
export function releaseDeadSlots(buffer: SharedArrayBuffer, liveThreadIds: ReadonlySet<number>): number {
  const owners = new Int32Array(buffer, 0, kMaxSlots);
  let freed = 0;
  for (let slot = kMainSlot + 1; slot < kMaxSlots; slot++) {
    const owner = Atomics.load(owners, slot);
    if (owner !== 0 && !liveThreadIds.has(owner) && Atomics.compareExchange(owners, slot, owner, 0) === owner) freed++;
  }
  return freed;
}

/** Reads the sum over every slot. Used only at scrape time. */
export class SlotReader {
  private readonly all: Float64Array;

  constructor(readonly layout: MetricsLayout, buffer: SharedArrayBuffer) {
    this.all = new Float64Array(buffer, kOwnerTableBytes, kMaxSlots * layout.wordsPerSlot);
  }

  sum(offset: number): number {
    const stride = this.layout.wordsPerSlot;
    let total = 0;
    for (let slot = 0; slot < kMaxSlots; slot++) total += this.all[slot * stride + offset];
    return total;
  }

  /** Value in one slot (per-worker series such as busy time). */
  inSlot(slot: number, offset: number): number {
    return this.all[slot * this.layout.wordsPerSlot + offset];
  }
}

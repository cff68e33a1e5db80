/**
 * HDR histograms of each request stage, in integer microseconds, for tail-latency work
 * (/debug/latency).
 *
 * Two halves, one per side of a thread boundary:
 * - StageLatency records, on the front-end thread only, where every stage's timestamps
 *   meet (about 100 ns a record, `npm run bench:micro -- metrics`). It never renders: on
 *   request it copies its counts into a shared snapshot buffer (a memcpy of 5 × 17,408
 *   doubles, about 30 µs).
 * - LatencyReport, in the operations thread, loads a snapshot into histograms of its own
 *   and renders the text (about 50 ms for five histograms) and JSON forms, so that
 *   rendering never holds the bidding loop.
 */
import * as hdr from 'hdr-histogram-js';
import { STAGES, type Stage } from './definitions';

const kLowestUs = 1;
const kHighestTrackableUs = 60_000_000;
const kSignificantDigits = 3;

/**
 * Float64 counts: an Int32 count throws (on the answer path) once one bucket passes 2^31
 * samples, which a long-running bidder reaches; a double counts exactly to 2^53.
 */
function newHistogram(): hdr.Float64Histogram {
  return new hdr.Float64Histogram(kLowestUs, kHighestTrackableUs, kSignificantDigits);
}

/** Counts per histogram: identical in every thread, as it follows from the constants above. */
const kCountsPerStage = newHistogram().countsArrayLength;

/**
 * Snapshot layout (doubles): every stage's counts, stage after stage, then each stage's
 * exact max and min non-zero value (the counts alone give them only to within a bucket).
 */
const kExtremaAt = STAGES.length * kCountsPerStage;
const kSnapshotWords = kExtremaAt + 2 * STAGES.length;

/** The buffer snapshots are copied into; allocated once, reused for every snapshot. */
export function allocateLatencySnapshot(): SharedArrayBuffer {
  return new SharedArrayBuffer(kSnapshotWords * Float64Array.BYTES_PER_ELEMENT);
}

function snapshotView(buffer: SharedArrayBuffer): Float64Array {
  const view = new Float64Array(buffer);
  if (view.length !== kSnapshotWords) throw new Error(`latency snapshot holds ${view.length} words, expected ${kSnapshotWords}`);
  return view;
}

/**
 * The index of a value's count in an HDR histogram of the shape above, computed here
 * rather than by the library's recordValue (Math.log2 and Math.pow on every call: 100 ns a
 * record, five records a request; this is 15 ns). The same arithmetic as HdrHistogram's
 * countsArrayIndex for unit magnitude 0 (lowest value 1): bucket 0 holds values below
 * the sub-bucket count, each later bucket the next power of two at the same precision.
 * test/metrics/latency.test.ts checks it against the library's over the whole range.
 */
const kShape = newHistogram();
const kSubBucketHalfCountMagnitude = kShape.subBucketHalfCountMagnitude;
const kSubBucketHalfCount = kShape.subBucketHalfCount;
const kSubBucketCount = kShape.subBucketCount;
if (kShape.unitMagnitude !== 0) throw new Error('latency histograms must have unit magnitude 0 (lowest value 1)');

export function countsIndexOf(us: number): number {
  const bucket = us < kSubBucketCount ? 0 : 31 - Math.clz32(us) - kSubBucketHalfCountMagnitude;
  return ((bucket + 1) << kSubBucketHalfCountMagnitude) + ((us >>> bucket) - kSubBucketHalfCount);
}

/** The recording half (front-end thread). */
export class StageLatency {
  private readonly histograms: hdr.Float64Histogram[] = STAGES.map(newHistogram);
  private readonly counts: Float64Array[] = this.histograms.map((h) => h._counts as Float64Array);
  private readonly totals = new Float64Array(STAGES.length);

  /** Stage index as in STAGES; value in milliseconds (converted to whole microseconds). */
  record(stage: number, ms: number): void {
    let us = Math.round(ms * 1000);
    if (us < kLowestUs) us = kLowestUs;
    else if (us > kHighestTrackableUs) us = kHighestTrackableUs;
    this.counts[stage][countsIndexOf(us)]++;
    this.totals[stage]++;
    const h = this.histograms[stage];
    // The exact extrema the snapshot carries; past the first samples this rarely runs.
    if (us > h.maxValue || us < h.minNonZeroValue) h.updateMinAndMax(us);
  }

  reset(): void {
    for (const h of this.histograms) h.reset();
    this.totals.fill(0);
  }

  /** Samples recorded at `stage` (index in STAGES) since start. */
  count(stage: number): number {
    return this.totals[stage];
  }

  /**
   * Copies every stage's counts into `buffer` (from allocateLatencySnapshot). The caller
   * guarantees nobody reads the buffer meanwhile (the operations thread copies it out
   * before it asks for the next snapshot).
   */
  snapshotInto(buffer: SharedArrayBuffer): void {
    const view = snapshotView(buffer);
    for (let i = 0; i < this.histograms.length; i++) {
      const h = this.histograms[i];
      view.set(h._counts as Float64Array, i * kCountsPerStage);
      view[kExtremaAt + 2 * i] = h.maxValue;
      view[kExtremaAt + 2 * i + 1] = h.minNonZeroValue;
    }
  }
}

/**
 * Adds the snapshot in `from` to the one in `into` (same layout): the counts add, the
 * extrema take the wider of the two (an empty histogram's max is 0 and its min
 * Number.MAX_SAFE_INTEGER, so they never win). How the main thread folds every acceptor
 * thread's histograms into the one /debug/latency report.
 */
export function addLatencySnapshot(into: SharedArrayBuffer, from: SharedArrayBuffer): void {
  const a = snapshotView(into);
  const b = snapshotView(from);
  for (let i = 0; i < kExtremaAt; i++) a[i] += b[i];
  for (let i = 0; i < STAGES.length; i++) {
    const max = kExtremaAt + 2 * i;
    const min = max + 1;
    if (b[max] > a[max]) a[max] = b[max];
    if (b[min] < a[min]) a[min] = b[min];
  }
}

/** The rendering half (operations thread): the histograms as of the last snapshot loaded. */
export class LatencyReport {
  private readonly histograms: hdr.Float64Histogram[] = STAGES.map(newHistogram);
  private text: string | null = null;
  private json: Record<Stage, StageSummary> | null = null;

  /** Replaces the report's contents with the snapshot in `buffer`; renders lazily. */
  load(buffer: SharedArrayBuffer): void {
    const view = snapshotView(buffer);
    for (let i = 0; i < this.histograms.length; i++) {
      const h = this.histograms[i];
      (h._counts as Float64Array).set(view.subarray(i * kCountsPerStage, (i + 1) * kCountsPerStage));
      // The total count follows from the counts; max and min are carried exactly.
      h.establishInternalTackingValues();
      h.maxValue = view[kExtremaAt + 2 * i];
      h.minNonZeroValue = view[kExtremaAt + 2 * i + 1];
    }
    this.text = null;
    this.json = null;
  }

  toJSON(): Record<Stage, StageSummary> {
    if (this.json !== null) return this.json;
    const out = {} as Record<Stage, StageSummary>;
    STAGES.forEach((stage, i) => {
      const h = this.histograms[i];
      out[stage] = {
        count: h.totalCount,
        mean: Math.round(h.mean * 10) / 10,
        p50: h.getValueAtPercentile(50),
        p90: h.getValueAtPercentile(90),
        p99: h.getValueAtPercentile(99),
        p999: h.getValueAtPercentile(99.9),
        p9999: h.getValueAtPercentile(99.99),
        max: h.maxValue,
      };
    });
    this.json = out;
    return out;
  }

  toText(): string {
    if (this.text !== null) return this.text;
    const parts: string[] = ['# Request latency by stage, microseconds (HDR histograms since start)\n'];
    STAGES.forEach((stage, i) => {
      parts.push(`\n## stage=${stage}\n`);
      parts.push(this.histograms[i].outputPercentileDistribution());
    });
    this.text = parts.join('');
    return this.text;
  }
}

export interface StageSummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
}

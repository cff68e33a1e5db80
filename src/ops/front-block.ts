/**
 * The front end's state as the operations thread sees it: one small SharedArrayBuffer
 * the front end writes and the operations thread reads, so a scrape reads the bidding
 * thread's gauges without running any code on it beyond one cheap refresh.
 *
 * Layout:
 *   [Int32 state words: kStateWords][Float64 gauges: kGaugeWords]
 * State words are flags written with Atomics (readiness, draining, the exit hand-shake).
 * Gauges are plain doubles with one writer (the front end): a reader may see one gauge
 * a refresh newer than another, never a torn value (aligned 8-byte stores).
 */
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { PoolGauges } from '../metrics/registry';

/** 1 once every worker has warmed (readyz 200 unless draining). */
export const kStateReady = 0;
/** 1 once a drain has begun (readyz 503). */
export const kStateDraining = 1;
/** Set by the front end when the process exits while the operations thread still runs. */
export const kStateExitRequested = 2;
/** Set by the operations thread once its sockets are closed after an exit request. */
export const kStateExitDone = 3;
const kStateWords = 4;

/**
 * Pool and server gauges, in this order, each at its index. Every PoolGauges key must be
 * listed (checked at compile time below), so a gauge added to PoolGauges cannot be
 * forgotten here.
 */
export const POOL_GAUGE_KEYS = [
  'requestsInFlight',
  'pendingRequests',
  'queuedTasks',
  'inFlightBatches',
  'threads',
  'slabSegmentsInUse',
  'receivingBytes',
] as const satisfies readonly (keyof PoolGauges)[];
type Unlisted = Exclude<keyof PoolGauges, (typeof POOL_GAUGE_KEYS)[number]>;
const everyPoolGaugeListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyPoolGaugeListed;

const kPoolGauges = POOL_GAUGE_KEYS.length;
/** Delay before the front end handled the refresh request (as prom-client's lag gauge). */
export const kGaugeLoopLagSeconds = kPoolGauges;
/**
 * Event-loop delay since the previous refresh (monitorEventLoopDelay, reset at each
 * refresh). No standard deviation: reading it walks the whole native histogram, about
 * 0.3 ms on the bidding loop, where the rest of a refresh takes tens of microseconds.
 */
export const kGaugeLoopDelayMinSeconds = kPoolGauges + 1;
export const kGaugeLoopDelayMaxSeconds = kPoolGauges + 2;
export const kGaugeLoopDelayMeanSeconds = kPoolGauges + 3;
export const kGaugeLoopDelayP50Seconds = kPoolGauges + 4;
export const kGaugeLoopDelayP90Seconds = kPoolGauges + 5;
export const kGaugeLoopDelayP99Seconds = kPoolGauges + 6;
/** Seconds the loop spent running callbacks since the thread started (a counter). */
export const kGaugeLoopBusySeconds = kPoolGauges + 7;
export const kGaugeHeapTotalBytes = kPoolGauges + 8;
export const kGaugeHeapUsedBytes = kPoolGauges + 9;
export const kGaugeExternalBytes = kPoolGauges + 10;
const kGaugeWords = kPoolGauges + 11;

const kGaugesAt = kStateWords * Int32Array.BYTES_PER_ELEMENT;

export function allocateFrontBlock(): SharedArrayBuffer {
  return new SharedArrayBuffer(kGaugesAt + kGaugeWords * Float64Array.BYTES_PER_ELEMENT);
}

export function stateWords(buffer: SharedArrayBuffer): Int32Array {
  return new Int32Array(buffer, 0, kStateWords);
}

/** The event-loop sampling interval, as prom-client's default. */
const kLoopDelayResolutionMs = 10;

/** The front end's half: writes its gauges when the operations thread asks. */
export class FrontGaugePublisher {
  private readonly gauges: Float64Array;
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: kLoopDelayResolutionMs });
  private readonly readers: (() => number)[];

  constructor(buffer: SharedArrayBuffer, pool: PoolGauges) {
    this.gauges = new Float64Array(buffer, kGaugesAt, kGaugeWords);
    this.readers = POOL_GAUGE_KEYS.map((k) => pool[k].bind(pool));
    this.delay.enable();
  }

  /** A few dozen loads and stores, about 50 µs: cheap enough for the bidding loop per refresh. */
  publish(lagMs: number): void {
    const g = this.gauges;
    for (let i = 0; i < this.readers.length; i++) g[i] = this.readers[i]();
    g[kGaugeLoopLagSeconds] = Math.max(0, lagMs) / 1e3;
    const d = this.delay;
    // An IntervalHistogram with no sample yet reports min as 2^63 - 1 and mean as NaN.
    const sampled = d.count > 0;
    g[kGaugeLoopDelayMinSeconds] = sampled ? d.min / 1e9 : 0;
    g[kGaugeLoopDelayMaxSeconds] = sampled ? d.max / 1e9 : 0;
    g[kGaugeLoopDelayMeanSeconds] = sampled ? d.mean / 1e9 : 0;
    g[kGaugeLoopDelayP50Seconds] = sampled ? d.percentile(50) / 1e9 : 0;
    g[kGaugeLoopDelayP90Seconds] = sampled ? d.percentile(90) / 1e9 : 0;
    g[kGaugeLoopDelayP99Seconds] = sampled ? d.percentile(99) / 1e9 : 0;
    d.reset();
    g[kGaugeLoopBusySeconds] = performance.eventLoopUtilization().active / 1e3;
    const heap = getHeapStatistics();
    g[kGaugeHeapTotalBytes] = heap.total_heap_size;
    g[kGaugeHeapUsedBytes] = heap.used_heap_size;
    g[kGaugeExternalBytes] = heap.external_memory;
  }

  close(): void {
    this.delay.disable();
  }
}

/** The front end's runtime as the registry exposes it (the bidding thread's isolate and loop). */
export type FrontRuntime = (index: number) => number;

/** The operations thread's half: reads what the front end last published. */
export class FrontBlockReader {
  private readonly gauges: Float64Array;
  private readonly state: Int32Array;
  /** PoolGauges over shared memory, for createRegistry. */
  readonly pool: PoolGauges;
  readonly runtime: FrontRuntime;

  constructor(buffer: SharedArrayBuffer) {
    this.state = stateWords(buffer);
    this.gauges = new Float64Array(buffer, kGaugesAt, kGaugeWords);
    const g = this.gauges;
    const pool = {} as Record<keyof PoolGauges, () => number>;
    POOL_GAUGE_KEYS.forEach((k, i) => {
      pool[k] = () => g[i];
    });
    this.pool = pool;
    this.runtime = (index) => g[index];
  }

  ready(): boolean {
    return Atomics.load(this.state, kStateReady) === 1;
  }

  draining(): boolean {
    return Atomics.load(this.state, kStateDraining) === 1;
  }
}

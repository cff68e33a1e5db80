/**
 * The contract between a micro-benchmark file (`bench/micro/<area>.bench.ts`) and the one
 * runner (`bench/micro/runner.ts`), and the shape of what the runner writes to
 * bench/results/micro-*.json. Times are in nanoseconds per call of `fn`.
 */

interface CaseBase {
  /** Unique within its file; the runner reports `<area>/<name>`. */
  readonly name: string;
  /** Runs once before warm-up, outside the timed loop (load a model, build an index). */
  setup?(): void | Promise<void>;
  /** Runs once after the last sample (release a session). */
  teardown?(): void | Promise<void>;
  /**
   * Units of work one call of `fn` does (the requests of a batch): the runner reports time
   * per unit, so cases over batches of different sizes compare per request. Default 1.
   */
  readonly perCall?: number;
}

/** One call of `fn` is the unit measured. Its result is kept in a sink so V8 cannot drop the work. */
export interface SyncCase extends CaseBase {
  readonly async?: false;
  fn(): unknown;
}

/** As SyncCase, but each call's promise is awaited before the next call (one in flight). */
export interface AsyncCase extends CaseBase {
  readonly async: true;
  fn(): Promise<unknown>;
}

export type MicroCase = SyncCase | AsyncCase;

/** What each `*.bench.ts` file exports. */
export interface MicroBenchModule {
  readonly cases: readonly MicroCase[];
}

export interface MeasureOptions {
  /** Samples taken after calibration; the median is the reported figure. */
  samples: number;
  /** Target duration of one sample; iterations are calibrated to reach it. */
  sampleMs: number;
  /** Time spent running the case before calibration, for the JIT to settle. */
  warmupMs: number;
}

/** What measuring one case yields. */
export interface Measurement {
  /** Median over samples, per unit of work (MicroCase.perCall). */
  nsPerCall: number;
  minNs: number;
  maxNs: number;
  /** Median absolute deviation of the samples, in percent of the median. */
  madPct: number;
  /** 1e9 / nsPerCall. */
  opsPerSec: number;
  /** Calls per sample, as calibrated. */
  iterations: number;
  /** ns/call of every sample, in the order taken. */
  samplesNs: number[];
}

export interface CaseResult extends Measurement {
  /** `<area>/<name>`, where area is the file name without `.bench.js`. */
  id: string;
  area: string;
  name: string;
}

export interface MicroResults {
  kind: 'micro';
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; node: string; v8: string; loadAvg: number[] };
  options: MeasureOptions & { quick: boolean; filter: string | null };
  /**
   * ns/call of an empty sync case measured the same way: the harness's own cost per call,
   * included in every sync figure (not subtracted). Reference for ratios within the run.
   */
  overheadNs: number;
  cases: CaseResult[];
  /** Cases whose setup, fn or teardown threw; the run goes on without them. */
  failed: { id: string; error: string }[];
}

/**
 * The micro-benchmark runner: the bid path's hot functions, each in nanoseconds per call,
 * so a regression shows at the function level rather than only as request latency.
 *
 *   node dist/bench/micro/runner.js [area ...] [--filter <substr>] [--quick]
 *                                   [--samples <n>] [--sample-ms <ms>] [--warmup-ms <ms>]
 *
 * Every `bench/micro/<area>.bench.js` beside this file is run unless areas are named. For
 * each case: setup, warm-up, calibration of the calls per sample to about --sample-ms, then
 * --samples samples; the median is the figure, with min..max and the median absolute
 * deviation as the spread. Prints a table and writes bench/results/micro-<time>.json and
 * bench/results/micro-latest.json (shape: MicroResults in ./micro-case.ts).
 *
 * Each case runs in its own generated loop function, so the call to `fn` is monomorphic and
 * can be inlined the way it is at its real call site; each result is stored into a small
 * array that outlives the loop, so V8 cannot drop the work. Run with `node --expose-gc` to
 * collect garbage before each sample.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths';
import type { CaseResult, MeasureOptions, Measurement, MicroBenchModule, MicroCase, MicroResults } from './micro-case';

export const DEFAULT_OPTIONS: Readonly<MeasureOptions> = Object.freeze({ samples: 7, sampleMs: 250, warmupMs: 300 });
export const QUICK_OPTIONS: Readonly<MeasureOptions> = Object.freeze({ samples: 5, sampleMs: 50, warmupMs: 50 });

const kBenchSuffix = '.bench.js';
const kSinkSize = 8;

type SyncLoop = (c: MicroCase, n: number, sink: unknown[]) => void;
type AsyncLoop = (c: MicroCase, n: number, sink: unknown[]) => Promise<void>;

const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => AsyncLoop;

/**
 * A fresh function per case: V8 keeps type feedback per function, so a loop shared by
 * every case would see many targets and call each through a megamorphic site.
 */
function makeSyncLoop(): SyncLoop {
  return new Function('c', 'n', 'sink', `'use strict'; for (let i = 0; i < n; i++) sink[i & ${kSinkSize - 1}] = c.fn();`) as SyncLoop;
}

function makeAsyncLoop(): AsyncLoop {
  return new AsyncFunction('c', 'n', 'sink', `'use strict'; for (let i = 0; i < n; i++) sink[i & ${kSinkSize - 1}] = await c.fn();`);
}

const gc = (globalThis as { gc?: () => void }).gc;

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  const mid = n >>> 1;
  return n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function checkOptions(o: MeasureOptions): void {
  if (!Number.isInteger(o.samples) || o.samples < 1) throw new RangeError(`samples must be a positive integer, got ${o.samples}`);
  if (!(o.sampleMs > 0) || !Number.isFinite(o.sampleMs)) throw new RangeError(`sampleMs must be a positive number, got ${o.sampleMs}`);
  if (!(o.warmupMs >= 0) || !Number.isFinite(o.warmupMs)) throw new RangeError(`warmupMs must be a number >= 0, got ${o.warmupMs}`);
}

/**
 * Measures one case: setup, warm-up and calibration, samples, teardown. The case's setup
 * and teardown run here; a throw from any of them (or from fn) rejects.
 */
export async function measureCase(c: MicroCase, options: MeasureOptions = DEFAULT_OPTIONS): Promise<Measurement> {
  checkOptions(options);
  const sink: unknown[] = new Array(kSinkSize).fill(undefined);
  const syncLoop = c.async === true ? null : makeSyncLoop();
  const asyncLoop = c.async === true ? makeAsyncLoop() : null;
  const timeLoop = async (n: number): Promise<number> => {
    const t0 = process.hrtime.bigint();
    if (syncLoop !== null) syncLoop(c, n, sink);
    else await asyncLoop!(c, n, sink);
    return Number(process.hrtime.bigint() - t0);
  };

  await c.setup?.();
  try {
    // Warm-up doubles as calibration: grow the batch until one takes a quarter of a sample
    // (or 5 ms, whichever is less) and the warm-up time has passed.
    const sampleNs = options.sampleMs * 1e6;
    const chunkNs = Math.min(sampleNs / 4, 5e6);
    const warmUntil = performance.now() + options.warmupMs;
    let n = 1;
    for (;;) {
      const ns = await timeLoop(n);
      if (ns >= chunkNs) {
        if (performance.now() >= warmUntil) break;
      } else {
        n = ns < chunkNs / 16 ? n * 8 : n * 2;
      }
    }
    // Calibrate on the median of three warm chunks: one chunk hit by a GC or by another
    // process on the machine would otherwise set the sample length for every sample.
    const chunks: number[] = [];
    for (let k = 0; k < 3; k++) chunks.push((await timeLoop(n)) / n);
    const nsPerCall = median(chunks.sort((a, b) => a - b));
    const callsFor = (perCall: number): number => Math.max(1, Math.round(sampleNs / Math.max(perCall, 1e-3)));
    let iterations = callsFor(nsPerCall);

    const samplesNs: number[] = [];
    // Code that the JIT was still optimising during calibration runs faster (or, deoptimised,
    // slower) once the samples start: a sample far off its target length is thrown away and
    // the calls per sample are set again from it, a few times at most.
    let recalibrations = 0;
    while (samplesNs.length < options.samples) {
      gc?.();
      const ns = await timeLoop(iterations);
      if ((ns < sampleNs / 2 || ns > sampleNs * 2) && recalibrations < 3) {
        recalibrations++;
        iterations = callsFor(ns / iterations);
        continue;
      }
      samplesNs.push(ns / iterations);
    }
    // Per unit of work (a batch case's requests), so cases of different sizes compare.
    const units = c.perCall ?? 1;
    if (!(units >= 1)) throw new RangeError(`${c.name}: perCall must be at least 1, got ${units}`);
    for (let i = 0; i < samplesNs.length; i++) samplesNs[i] /= units;
    const sorted = [...samplesNs].sort((a, b) => a - b);
    const med = median(sorted);
    const mad = median(sorted.map((x) => Math.abs(x - med)).sort((a, b) => a - b));
    return {
      nsPerCall: med,
      minNs: sorted[0],
      maxNs: sorted[sorted.length - 1],
      madPct: med > 0 ? (mad / med) * 100 : 0,
      opsPerSec: med > 0 ? 1e9 / med : Infinity,
      iterations,
      samplesNs,
    };
  } finally {
    await c.teardown?.();
  }
}

// ---------------------------------------------------------------------------------------
// Command line

interface Args {
  areas: string[];
  filter: string | null;
  quick: boolean;
  options: MeasureOptions;
}

const USAGE = 'usage: runner.js [area ...] [--filter <substr>] [--quick] [--samples <n>] [--sample-ms <ms>] [--warmup-ms <ms>]';

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Args {
  const areas: string[] = [];
  let filter: string | null = null;
  let quick = false;
  const overrides: Partial<MeasureOptions> = {};
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  const num = (v: string, flag: string): number => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x)) throw new UsageError(`${flag}: not a number: ${v}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const take = (): string => {
      if (inline !== undefined) return inline;
      const v = value(i, flag);
      i++;
      return v;
    };
    switch (flag) {
      case '--filter':
        filter = take();
        break;
      case '--quick':
        quick = true;
        break;
      case '--samples':
        overrides.samples = num(take(), flag);
        break;
      case '--sample-ms':
        overrides.sampleMs = num(take(), flag);
        break;
      case '--warmup-ms':
        overrides.warmupMs = num(take(), flag);
        break;
      case '--help':
      case '-h':
        throw new UsageError('');
      default:
        if (raw.startsWith('-')) throw new UsageError(`unknown option ${raw}`);
        areas.push(raw);
    }
  }
  const options = { ...(quick ? QUICK_OPTIONS : DEFAULT_OPTIONS), ...overrides };
  try {
    checkOptions(options);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return { areas, filter, quick, options };
}

/** `validate`, `validate.bench`, `validate.bench.js`, `validate.bench.ts` or a path all name one area. */
function areaName(arg: string): string {
  return arg.replace(/^.*[\\/]/, '').replace(/\.(js|ts)$/, '').replace(/\.bench$/, '');
}

interface Loaded {
  area: string;
  cases: readonly MicroCase[];
}

function loadAreas(dir: string, wanted: readonly string[]): Loaded[] {
  const available = readdirSync(dir)
    .filter((f) => f.endsWith(kBenchSuffix))
    .map((f) => f.slice(0, -kBenchSuffix.length))
    .sort();
  let areas = available;
  if (wanted.length > 0) {
    const names = wanted.map(areaName);
    const missing = names.filter((n) => !available.includes(n));
    if (missing.length > 0) throw new UsageError(`no bench file for ${missing.join(', ')}; available: ${available.join(', ')}`);
    areas = [...new Set(names)];
  }
  return areas.map((area) => {
    const mod = require(join(dir, area + kBenchSuffix)) as Partial<MicroBenchModule>;
    const cases = mod.cases;
    if (!Array.isArray(cases)) throw new Error(`${area}${kBenchSuffix} does not export a cases array`);
    const seen = new Set<string>();
    for (const c of cases as MicroCase[]) {
      if (typeof c?.name !== 'string' || typeof c.fn !== 'function') throw new Error(`${area}${kBenchSuffix}: a case lacks a name or fn`);
      if (seen.has(c.name)) throw new Error(`${area}${kBenchSuffix}: case name ${c.name} used twice`);
      seen.add(c.name);
    }
    return { area, cases };
  });
}

function fmtNs(ns: number): string {
  if (!Number.isFinite(ns)) return String(ns);
  if (ns < 10) return ns.toFixed(2);
  if (ns < 100) return ns.toFixed(1);
  return Math.round(ns).toLocaleString('en-US');
}

function fmtOps(ops: number): string {
  if (!Number.isFinite(ops)) return String(ops);
  if (ops >= 1e9) return (ops / 1e9).toFixed(2) + 'G';
  if (ops >= 1e6) return (ops / 1e6).toFixed(2) + 'M';
  if (ops >= 1e3) return (ops / 1e3).toFixed(1) + 'k';
  return ops.toFixed(0);
}

interface Column {
  title: string;
  width: number;
  left?: boolean;
}

/** The table's columns; the first is as wide as the longest case id. */
function columns(ids: readonly string[]): Column[] {
  return [
    { title: 'case', width: Math.max(4, ...ids.map((id) => id.length)), left: true },
    { title: 'ns/call', width: 11 },
    { title: 'min..max ns', width: 23 },
    { title: 'MAD', width: 7 },
    { title: 'ops/s', width: 9 },
    { title: 'calls/sample', width: 13 },
  ];
}

function row(cols: readonly Column[], cells: readonly string[]): string {
  return cells.map((c, i) => (cols[i].left ? c.padEnd(cols[i].width) : c.padStart(cols[i].width))).join(' ');
}

function resultRow(cols: readonly Column[], id: string, m: Measurement): string {
  return row(cols, [id, fmtNs(m.nsPerCall), `${fmtNs(m.minNs)}..${fmtNs(m.maxNs)}`, m.madPct.toFixed(1) + '%', fmtOps(m.opsPerSec), m.iterations.toLocaleString('en-US')]);
}

async function main(): Promise<number> {
  let args: Args;
  let loaded: Loaded[];
  try {
    args = parseArgs(process.argv.slice(2));
    loaded = loadAreas(__dirname, args.areas);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message !== '') console.error(e.message);
    console.error(USAGE);
    return e.message === '' ? 0 : 2;
  }
  const filter = args.filter?.toLowerCase() ?? null;
  const todo: { area: string; c: MicroCase }[] = [];
  for (const { area, cases } of loaded) {
    for (const c of cases) if (filter === null || `${area}/${c.name}`.toLowerCase().includes(filter)) todo.push({ area, c });
  }
  if (todo.length === 0) {
    console.error(`no case matches${args.filter !== null ? ` --filter ${args.filter}` : ''}`);
    return 2;
  }

  const startedAt = new Date().toISOString();
  const o = args.options;
  console.log(`micro-benchmarks: ${todo.length} cases, ${o.samples} samples of ~${o.sampleMs} ms after ${o.warmupMs} ms warm-up` +
    `${args.quick ? ' (quick)' : ''}; node ${process.version}, ${cpus().length} cpus, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}` +
    `${gc === undefined ? '' : ', gc before each sample'}`);
  const kOverheadRow = '(harness: empty fn)';
  const cols = columns([kOverheadRow, ...todo.map(({ area, c }) => `${area}/${c.name}`)]);
  console.log(row(cols, cols.map((c) => c.title)));

  const overhead = await measureCase({ name: 'overhead', fn: () => undefined }, o);
  console.log(resultRow(cols, kOverheadRow, overhead));

  const results: CaseResult[] = [];
  const failed: { id: string; error: string }[] = [];
  for (const { area, c } of todo) {
    const id = `${area}/${c.name}`;
    try {
      const m = await measureCase(c, o);
      results.push({ id, area, name: c.name, ...m });
      console.log(resultRow(cols, id, m));
    } catch (e) {
      const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      failed.push({ id, error });
      console.log(row(cols, [id, 'FAILED']) + '  ' + (e instanceof Error ? e.message : String(e)));
    }
  }

  const cpuList = cpus();
  const out: MicroResults = {
    kind: 'micro',
    startedAt,
    finishedAt: new Date().toISOString(),
    command: process.argv.slice(1).join(' '),
    machine: { cpus: cpuList.length, cpuModel: cpuList[0]?.model ?? 'unknown', node: process.version, v8: process.versions.v8, loadAvg: loadavg() },
    options: { ...o, quick: args.quick, filter: args.filter },
    overheadNs: overhead.nsPerCall,
    cases: results,
    failed,
  };
  const dir = join(repoRoot(), 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `micro-${startedAt.replace(/[:.]/g, '-')}.json`);
  const json = JSON.stringify(out, null, 2) + '\n';
  writeFileSync(file, json);
  writeFileSync(join(dir, 'micro-latest.json'), json);
  console.log(`\nwrote ${file} and micro-latest.json`);
  if (failed.length > 0) console.error(`${failed.length} case(s) failed: ${failed.map((f) => f.id).join(', ')}`);
  return failed.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}

/**
 * Preload for the bidder under the profiler (`node -r dist/profiles/bidder-preload.js`),
 * main thread only, and a no-op unless profiles/profile.ts set its variables:
 *
 * - PROFILE_CLOCK_MARK_FILE: writes process.hrtime (µs) as this module starts. The main
 *   thread's V8 log counts time from its own start, and logs when it compiled this module;
 *   the two together put the log on the load generator's clock, to a millisecond.
 * - PROFILE_WORKERS_CPU_PROF_DIR: every scoring worker started from here on gets
 *   `--cpu-prof --cpu-prof-dir <dir>`; the main thread and the operations thread do not.
 *   Why not --cpu-prof for the whole process: a thread under both --cpu-prof and 0x's
 *   --prof gets a handful of --prof ticks (the CPU profiler takes the isolate's sampling
 *   over). So the main thread is 0x's and the workers are --cpu-prof's.
 *
 * Workers started without execArgv inherit the main thread's, which under 0x holds --prof
 * and 0x's own preloads; a worker started here gets its caller's execArgv, or none, plus
 * the profiling flags.
 */
import { writeFileSync } from 'node:fs';
// The module object itself (not an esModuleInterop copy), so piscina sees the patch.
import workerThreads = require('node:worker_threads');

const loadedAtUs = Number(process.hrtime.bigint() / 1000n);

export const kClockMarkFileEnv = 'PROFILE_CLOCK_MARK_FILE';
export const kWorkersCpuProfDirEnv = 'PROFILE_WORKERS_CPU_PROF_DIR';

export interface ClockMark {
  /** process.hrtime in µs when this module started running. */
  hrtimeUs: number;
}

if (workerThreads.isMainThread) {
  const markFile = process.env[kClockMarkFileEnv];
  if (markFile) writeFileSync(markFile, JSON.stringify({ hrtimeUs: loadedAtUs } satisfies ClockMark));

  const dir = process.env[kWorkersCpuProfDirEnv];
  if (dir) {
    const Base = workerThreads.Worker;
    class ProfiledWorker extends Base {
      constructor(filename: string | URL, options: workerThreads.WorkerOptions = {}) {
        // The operations thread (src/ops/) sits idle through a profile run (nothing scrapes)
        // and is no scoring worker: it gets neither profiler.
        const ops = String(filename).endsWith('ops.worker.js');
        const profiling = ops ? [] : ['--cpu-prof', '--cpu-prof-dir', dir!];
        super(filename, { ...options, execArgv: [...(options.execArgv ?? []), ...profiling] });
      }
    }
    (workerThreads as { Worker: typeof Base }).Worker = ProfiledWorker;
  }
}

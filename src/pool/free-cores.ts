/**
 * The cores free for the pool right now, as this process can measure them: the CPU time
 * it may still use under its budget (the cgroup quota and affinity, cpu-budget.ts) less
 * what it used over the last interval, and never more than the machine's own idle time
 * over the same interval (other processes, a co-located load generator, count there).
 * Pool workers' own recent use counts as theirs: the cores they hold are what a new pool
 * batch would run on, so it is added back (see sample()). Smoothed, so that the
 * placement does not flip with every 100 ms sample.
 *
 * Sampled from a timer (the dispatcher's sweep), never per request. The machine's idle
 * time is read from the first line of /proc/stat into a buffer kept for it: os.cpus()
 * reads /proc/stat and /proc/cpuinfo and builds an object per CPU, which cost 0.4% of the
 * acceptor's time at 10 samples a second under load (profiled, banner-small).
 */
import { openSync, readSync } from 'node:fs';
import { cpus } from 'node:os';

/** Weight of the newest sample (one every kSampleMs): an average over about half a second. */
const kSmoothing = 0.25;
export const kFreeCoresSampleMs = 100;

export interface CoreProbe {
  /** Cores (fractional) a pool batch may run on now. */
  readonly free: number;
  /** Takes a sample; `poolBusyMs` is the pool workers' compute time since the last one. */
  sample(nowMs: number, poolBusyMs: number): void;
}

/** /proc/stat counts in USER_HZ ticks, 100 a second on every Linux build we run on. */
const kMsPerTick = 10;
const statLine = Buffer.alloc(256);
/**
 * Opened once for the thread's life (a read at offset 0 regenerates the file): an open
 * and a close per sample cost more than the read. -2: not opened yet; -1: unavailable.
 */
let statFd = -2;

/** The machine's idle time (ms, all CPUs) from /proc/stat's aggregate line; os.cpus() elsewhere. */
export function machineIdleMs(): number {
  try {
    if (statFd === -2) statFd = openSync('/proc/stat', 'r');
    const n = statFd >= 0 ? readSync(statFd, statLine, 0, statLine.length, 0) : 0;
    // "cpu  user nice system idle iowait ...": idle is the fourth number.
    let at = 3;
    for (let field = 0; field < 3; field++) {
      while (at < n && statLine[at] === 32) at++;
      while (at < n && statLine[at] !== 32) at++;
    }
    while (at < n && statLine[at] === 32) at++;
    let idle = 0;
    while (at < n && statLine[at] >= 48 && statLine[at] <= 57) idle = idle * 10 + (statLine[at++] - 48);
    if (idle > 0) return idle * kMsPerTick;
  } catch {
    // Not Linux, or /proc not mounted: the portable way below, from now on.
    statFd = -1;
  }
  let idle = 0;
  for (const c of cpus()) idle += c.times.idle;
  return idle;
}

export class FreeCores implements CoreProbe {
  private lastAt: number;
  private lastCpu = process.cpuUsage();
  private lastIdle = machineIdleMs();
  private smoothed: number;

  constructor(
    /** CPUs the process may use (its budget). */
    private readonly budget: number,
    nowMs: number,
  ) {
    this.lastAt = nowMs;
    // Until the first sample, assume the budget is ours but for this thread.
    this.smoothed = Math.max(0, budget - 1);
  }

  get free(): number {
    return this.smoothed;
  }

  sample(nowMs: number, poolBusyMs: number): void {
    const wallMs = nowMs - this.lastAt;
    if (wallMs <= 0) return;
    const cpu = process.cpuUsage();
    const idle = machineIdleMs();
    const usedCores = (cpu.user - this.lastCpu.user + cpu.system - this.lastCpu.system) / 1000 / wallMs;
    const idleCores = (idle - this.lastIdle) / wallMs;
    const poolCores = poolBusyMs / wallMs;
    this.lastAt = nowMs;
    this.lastCpu = cpu;
    this.lastIdle = idle;
    const free = Math.max(0, Math.min(this.budget - usedCores, idleCores) + poolCores);
    this.smoothed += kSmoothing * (Math.min(free, this.budget) - this.smoothed);
  }
}


/**
 * Process-wide monotonic milliseconds. performance.now() is cheap but each thread counts
 * from its own origin; adding a per-thread offset to the shared monotonic clock
 * (process.hrtime) makes timestamps comparable across the front end and the workers.
 */
import { performance } from 'node:perf_hooks';

function measureOffset(): number {
  // Take the tightest of a few samples so scheduling noise does not skew the offset.
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 5; i++) {
    const before = performance.now();
    const mono = Number(process.hrtime.bigint()) / 1e6;
    const after = performance.now();
    if (after - before < best) {
      best = after - before;
      offset = mono - (before + after) / 2;
    }
  }
  return offset;
}

const kOffsetMs = measureOffset();

export function monoNowMs(): number {
  return performance.now() + kOffsetMs;
}

/**
 * How busy the front end's event loop is: event-loop utilisation (the share of time it
 * spent running callbacks rather than waiting in poll), smoothed over the last few tens
 * of milliseconds. The dispatcher uses it to decide whether this thread has room to
 * score a batch itself (the inline lane) or must hand it to the pool.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Weight of the newest sample; at one sample per 5 ms this averages over about 40 ms. */
const kSmoothing = 0.125;

export interface LoadProbe {
  /** Utilisation in [0, 1]. */
  readonly value: number;
  /** Takes a new sample; called periodically (the dispatcher's sweep). */
  sample(): void;
}

export class LoopLoad implements LoadProbe {
  private last: EventLoopUtilization = performance.eventLoopUtilization();
  private smoothed = 0;

  get value(): number {
    return this.smoothed;
  }

  sample(): void {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, this.last);
    this.last = now;
    this.smoothed += kSmoothing * (delta.utilization - this.smoothed);
  }
}

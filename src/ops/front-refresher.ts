/**
 * The operations thread's side of the refresh exchange (ops-protocol.ts): asks the front
 * end for fresh gauges and latency snapshots, at most one request outstanding, reusing an
 * answer younger than kRefreshMaxAgeMs, so however many scrapes arrive the bidding loop
 * does one refresh per interval.
 */
import { LatencyReport } from '../metrics/latency';
import { kRefreshMaxAgeMs, kRefreshTimeoutMs, type OpsMessage } from './ops-protocol';

type RefreshRequest = Extract<OpsMessage, { type: 'refresh' }>;

interface Outstanding {
  id: number;
  latency: boolean;
  waiters: (() => void)[];
  /** Sent by warmUp(): its answer refreshes nothing. */
  warmUp: boolean;
}

export interface RefresherOptions {
  post: (message: RefreshRequest) => void;
  /** The shared snapshot buffer the front end copies into. */
  snapshot: SharedArrayBuffer;
  now: () => number;
  /**
   * Handles answers already queued for this thread, synchronously. Called before a
   * timeout gives up: a thread starved of CPU runs its timers before it reads its
   * messages, so the answer may be waiting behind the timer that would discard it.
   */
  drainPending?: () => void;
  maxAgeMs?: number;
  timeoutMs?: number;
}

export class FrontRefresher {
  /** The latency histograms as of the last snapshot loaded. */
  readonly report = new LatencyReport();
  private gaugesAt = -Infinity;
  private latencyAt = -Infinity;
  private nextId = 1;
  private outstanding: Outstanding | null = null;
  private readonly maxAgeMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: RefresherOptions) {
    this.maxAgeMs = options.maxAgeMs ?? kRefreshMaxAgeMs;
    this.timeoutMs = options.timeoutMs ?? kRefreshTimeoutMs;
  }

  /** True once a latency snapshot has been loaded into `report`. */
  get hasLatency(): boolean {
    return this.latencyAt > -Infinity;
  }

  /** How old the loaded snapshot is (Infinity before the first). */
  latencyAgeMs(): number {
    return this.options.now() - this.latencyAt;
  }

  /**
   * Resolves true once the gauges (and, with `latency`, the report) are at most
   * maxAgeMs old, or false after timeoutMs with what was last published.
   */
  refresh(latency: boolean): Promise<boolean> {
    if (this.fresh(latency)) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const finish = (fresh: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(fresh);
      };
      const timer = setTimeout(() => {
        this.options.drainPending?.();
        finish(false);
      }, this.timeoutMs);
      this.await(latency, () => finish(true));
    });
  }

  /**
   * Handles the front end's answer; answers to anything but the outstanding request are
   * ignored. Ages count from `takenAtMs`, when the front end wrote the values: an answer
   * this thread reads late (it runs at a low priority) is not younger for it.
   */
  onRefreshed(id: number, latency: boolean, takenAtMs: number): void {
    const o = this.outstanding;
    if (o === null || o.id !== id) return;
    this.outstanding = null;
    if (o.warmUp) {
      // Ran the path once; what it carried is no answer to anyone (it would be reused as fresh).
      for (const w of o.waiters) w();
      return;
    }
    const at = takenAtMs;
    this.gaugesAt = at;
    if (latency) {
      // Copy out now: the front end writes the buffer again only on our next request.
      this.report.load(this.options.snapshot);
      this.latencyAt = at;
    }
    for (const w of o.waiters) w();
  }

  private fresh(latency: boolean): boolean {
    const oldest = this.options.now() - this.maxAgeMs;
    return this.gaugesAt >= oldest && (!latency || this.latencyAt >= oldest);
  }

  /** Calls `done` once a refresh that covers `latency` has been answered. */
  private await(latency: boolean, done: () => void): void {
    const o = this.outstanding;
    if (o !== null) {
      // Join the outstanding request; if it does not carry what is wanted, ask again after it.
      o.waiters.push(o.warmUp || (latency && !o.latency) ? () => this.afterOutstanding(latency, done) : done);
      return;
    }
    this.send(latency, [done], false);
  }

  private send(latency: boolean, waiters: (() => void)[], warmUp: boolean): void {
    const id = this.nextId++;
    this.outstanding = { id, latency, waiters, warmUp };
    this.options.post({ type: 'refresh', id, latency, sentAtMs: this.options.now() });
  }

  /**
   * One round trip at start-up, so the first real refresh does not run cold code on the
   * bidding loop; its answer counts as neither gauges nor a snapshot.
   */
  warmUp(): void {
    if (this.outstanding === null) this.send(true, [], true);
  }

  private afterOutstanding(latency: boolean, done: () => void): void {
    if (this.fresh(latency)) done();
    else this.await(latency, done);
  }
}

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
}

export interface RefresherOptions {
  post: (message: RefreshRequest) => void;
  /** The shared snapshot buffer the front end copies into. */
  snapshot: SharedArrayBuffer;
  now: () => number;
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

  /**
   * Resolves true once the gauges (and, with `latency`, the report) are at most
   * maxAgeMs old, or false after timeoutMs with what was last published.
   */
  refresh(latency: boolean): Promise<boolean> {
    if (this.fresh(latency)) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        resolve(false);
      }, this.timeoutMs);
      this.await(latency, () => {
        if (settled) return;
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Handles the front end's answer; answers to anything but the outstanding request are ignored. */
  onRefreshed(id: number, latency: boolean): void {
    const o = this.outstanding;
    if (o === null || o.id !== id) return;
    this.outstanding = null;
    const at = this.options.now();
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
      // Join the outstanding request; if it does not carry a snapshot, ask again after it.
      o.waiters.push(latency && !o.latency ? () => this.afterOutstanding(latency, done) : done);
      return;
    }
    const id = this.nextId++;
    this.outstanding = { id, latency, waiters: [done] };
    this.options.post({ type: 'refresh', id, latency, sentAtMs: this.options.now() });
  }

  private afterOutstanding(latency: boolean, done: () => void): void {
    if (this.fresh(latency)) done();
    else this.await(latency, done);
  }
}

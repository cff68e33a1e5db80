/**
 * Fires a creative's own nurl/burl/lurl (the advertiser's trackers, docs/campaigns.md) when
 * our notice of the same kind has been taken once: the bid itself carries only our URLs, so
 * the advertiser hears of wins, bills and losses through us, after our idempotency check
 * (an exchange's retry never fires the tracker twice).
 *
 * The OpenRTB 2.6 section 4.4 macros in the template are filled from what the exchange sent
 * us (the clearing price as given, capped at the bid; the loss reason; the ids from our
 * token). Runs on the money owner's thread; each fire has a timeout and at most
 * `maxInFlight` are out at once: beyond that a fire is dropped and counted, never queued
 * without bound.
 */
import type { ReadNotice } from './notice-request';

export interface TrackerCounters {
  fired: number;
  failed: number;
  dropped: number;
}

export type FetchLike = (url: string, init: { method: string; signal: AbortSignal; redirect: 'follow' | 'manual' }) => Promise<{ status: number }>;

function micros(v: number): string {
  return v < 0 ? '' : (v / 1_000_000).toString();
}

/** The template with every macro our notice can fill, URL-encoded; unknown macros are left as they are. */
export function fillTrackerUrl(template: string, n: ReadNotice, seat: string): string {
  const c = n.claims;
  const values: Record<string, string> = {
    AUCTION_ID: c.requestId,
    AUCTION_BID_ID: c.bidId,
    AUCTION_IMP_ID: c.impId,
    AUCTION_SEAT_ID: seat,
    AUCTION_AD_ID: c.creativeId,
    AUCTION_PRICE: micros(n.clearingMicros >= 0 ? n.clearingMicros : c.priceMicros),
    AUCTION_CURRENCY: c.currency,
    AUCTION_LOSS: n.lossReason >= 0 ? String(n.lossReason) : '',
    AUCTION_MIN_TO_WIN: micros(n.minToWinMicros),
  };
  return template.replace(/\$\{(AUCTION_[A-Z_]+)\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? encodeURIComponent(values[name]) : whole);
}

export class TrackerFirer {
  private inFlight = 0;
  readonly counters: TrackerCounters = { fired: 0, failed: 0, dropped: 0 };

  constructor(
    private readonly seat: string,
    private readonly fetchFn: FetchLike = fetch as unknown as FetchLike,
    private readonly timeoutMs = 2_000,
    private readonly maxInFlight = 256,
  ) {}

  /** Fires `template` for notice `n`; resolves when it is done (never rejects). */
  fire(template: string, n: ReadNotice): Promise<void> {
    if (this.inFlight >= this.maxInFlight) {
      this.counters.dropped++;
      return Promise.resolve();
    }
    this.inFlight++;
    const url = fillTrackerUrl(template, n, this.seat);
    return this.fetchFn(url, { method: 'GET', signal: AbortSignal.timeout(this.timeoutMs), redirect: 'follow' })
      .then((r) => {
        if (r.status >= 200 && r.status < 400) this.counters.fired++;
        else this.counters.failed++;
      }, () => {
        this.counters.failed++;
      })
      .finally(() => {
        this.inFlight--;
      });
  }

  get pending(): number {
    return this.inFlight;
  }
}

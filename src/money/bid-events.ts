/**
 * The bid records of one engine thread for the event log: encoded (flatbuffers, events.fbs)
 * and put in the thread's own ring (events/event-ring.ts), which the money owner drains to
 * the files. Never blocks: a full ring drops the record, and the ring counts it.
 */
import { EventEncoder, type EventFields } from '../codec/event-records';
import type { BidEventSink } from '../engine/bid-engine';
import { EventRing } from '../events/event-ring';
import { claimRing, type MoneyShared } from './money-shared';

export class BidEvents implements BidEventSink {
  private readonly encoder = new EventEncoder();
  private readonly fields: EventFields;

  private constructor(private readonly ring: EventRing, modelVersion: string, instanceId: string) {
    this.fields = {
      kind: 'bid', timeMs: 0, requestId: '', impId: '', bidId: '', campaignId: '', creativeId: '', priceMicros: 0, currency: 'USD',
      clearingMicros: -1, costMicros: 0, lossReason: -1, minToWinMicros: -1, modelVersion, arm: '', test: false, instanceId,
    };
  }

  /** The sink of thread `threadId`, on a ring of its own; null (and a warning) when every ring is taken. */
  static claim(shared: MoneyShared, threadId: number, modelVersion: string): BidEvents | null {
    const i = claimRing(shared.eventRingClaims, threadId);
    if (i < 0) {
      process.emitWarning('no free event ring; this thread logs no bid events', { code: 'BIDDER_EVENT_RINGS' });
      return null;
    }
    return new BidEvents(new EventRing(shared.eventRings[i]), modelVersion, shared.instanceId);
  }

  bid(requestId: string, impId: string, bidId: string, campaignId: string, creativeId: string, priceMicros: number,
    currency: string, _atSec: number, test: boolean): void {
    const f = this.fields;
    f.timeMs = Date.now();
    f.requestId = requestId;
    f.impId = impId;
    f.bidId = bidId;
    f.campaignId = campaignId;
    f.creativeId = creativeId;
    f.priceMicros = priceMicros;
    f.currency = currency;
    f.test = test;
    this.ring.tryWrite(this.encoder.encode(f));
  }
}

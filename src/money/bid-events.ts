/**
 * The bid records of one engine thread for the event log: written raw (bid-record.ts) into
 * the thread's own ring (events/event-ring.ts), which the money owner drains, encodes as
 * flatbuffers (events.fbs) and writes to the files. Never blocks: a full ring drops the
 * record, and the ring counts it.
 */
import type { BidEventSink, BidExtra } from '../engine/bid-engine';
import { BidRecordWriter } from './bid-record';
import { EventRing } from '../events/event-ring';
import { claimRing, type MoneyShared } from './money-shared';

export class BidEvents implements BidEventSink {
  private readonly writer = new BidRecordWriter();

  private constructor(private readonly ring: EventRing) {}

  /** The sink of thread `threadId`, on a ring of its own; null (and a warning) when every ring is taken. */
  static claim(shared: MoneyShared, threadId: number): BidEvents | null {
    const i = claimRing(shared.eventRingClaims, threadId);
    if (i < 0) {
      process.emitWarning('no free event ring; this thread logs no bid events', { code: 'BIDDER_EVENT_RINGS' });
      return null;
    }
    return new BidEvents(new EventRing(shared.eventRings[i]));
  }

  bid(requestId: string, impId: string, bidId: string, campaignId: string, creativeId: string, priceMicros: number,
    currency: string, _atSec: number, test: boolean, extra?: BidExtra): void {
    this.ring.tryWrite(this.writer.write(Date.now(), priceMicros, test, requestId, impId, bidId, campaignId, creativeId, currency,
      extra?.valueMicros ?? -1, extra?.ctr ?? -1, extra?.segment ?? 0, extra?.model ?? '', extra?.arm ?? ''));
  }

  shadow(requestId: string, impId: string, campaignId: string, creativeId: string, model: string, ctr: number,
    shadowModel: string, shadowCtr: number, arm: string, test: boolean): void {
    this.ring.tryWrite(this.writer.writeShadow(Date.now(), test, requestId, impId, campaignId, creativeId, model, ctr, shadowModel, shadowCtr, arm));
  }
}

/**
 * Event-log records (schema: events.fbs) in and out of flatbuffers. One Builder per writer,
 * reused (clear) per record. On disk and in the rings a record is framed by a u32
 * little-endian length (src/events/event-file.ts reads the frames).
 */
import * as flatbuffers from 'flatbuffers';
import { EventKind, EventRecord } from './generated/events_generated';

export { EventKind };

export type EventKindName = 'bid' | 'win' | 'bill' | 'loss';
export const EVENT_KIND_NAMES: readonly EventKindName[] = ['bid', 'win', 'bill', 'loss'];

export interface EventFields {
  kind: EventKindName;
  timeMs: number;
  requestId: string;
  impId: string;
  bidId: string;
  campaignId: string;
  creativeId: string;
  priceMicros: number;
  currency: string;
  /** -1: unknown. */
  clearingMicros: number;
  costMicros: number;
  /** -1: not given. */
  lossReason: number;
  /** -1: not given. */
  minToWinMicros: number;
  modelVersion: string;
  arm: string;
  test: boolean;
  instanceId: string;
}

const kKinds = [EventKind.Bid, EventKind.Win, EventKind.Bill, EventKind.Loss];

export class EventEncoder {
  private readonly builder = new flatbuffers.Builder(512);

  /** The record as bytes; the view is valid until the next encode. */
  encode(e: EventFields): Uint8Array {
    const b = this.builder;
    b.clear();
    const requestId = b.createString(e.requestId);
    const impId = b.createString(e.impId);
    const bidId = b.createString(e.bidId);
    const campaignId = b.createString(e.campaignId);
    const creativeId = b.createString(e.creativeId);
    const currency = b.createString(e.currency);
    const modelVersion = b.createString(e.modelVersion);
    const arm = b.createString(e.arm);
    const instanceId = b.createString(e.instanceId);
    const at = EventRecord.createEventRecord(b, kKinds[EVENT_KIND_NAMES.indexOf(e.kind)], BigInt(Math.max(0, Math.round(e.timeMs))),
      requestId, impId, bidId, campaignId, creativeId, BigInt(Math.max(0, Math.round(e.priceMicros))), currency,
      BigInt(Math.round(e.clearingMicros)), BigInt(Math.max(0, Math.round(e.costMicros))), e.lossReason | 0, BigInt(Math.round(e.minToWinMicros)),
      modelVersion, arm, e.test, instanceId);
    b.finish(at);
    return b.asUint8Array();
  }
}

export function decodeEvent(bytes: Uint8Array): EventFields {
  const r = EventRecord.getRootAsEventRecord(new flatbuffers.ByteBuffer(bytes));
  return {
    kind: EVENT_KIND_NAMES[r.kind()] ?? 'bid',
    timeMs: Number(r.timeMs()),
    requestId: r.requestId() ?? '',
    impId: r.impId() ?? '',
    bidId: r.bidId() ?? '',
    campaignId: r.campaignId() ?? '',
    creativeId: r.creativeId() ?? '',
    priceMicros: Number(r.priceMicros()),
    currency: r.currency() ?? '',
    clearingMicros: Number(r.clearingMicros()),
    costMicros: Number(r.costMicros()),
    lossReason: r.lossReason(),
    minToWinMicros: Number(r.minToWinMicros()),
    modelVersion: r.modelVersion() ?? '',
    arm: r.arm() ?? '',
    test: r.test(),
    instanceId: r.instanceId() ?? '',
  };
}

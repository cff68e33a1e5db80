/**
 * Event-log records (schema: events.fbs) in and out of flatbuffers, and the on-disk framing.
 *
 * Engine threads encode one record per bid with one Builder of their own, reused (clear) per
 * record, and hand the bytes to an EventRing, which copies them. Strings go through a reused
 * UTF-8 scratch: the builder's own string path allocates an array per call.
 *
 * decodeEvent checks the flatbuffer's structure first: the flatbuffers runtime reads out of
 * range as zeros instead of failing, so a damaged file would otherwise decode as plausible
 * records.
 *
 * Framing (files; src/events/event-file.ts reads them): each record is a u32 little-endian
 * byte length, then that many bytes of flatbuffer (the layout of a flatbuffers
 * "size-prefixed" buffer). No file header: a file is a concatenation of frames.
 */
import * as flatbuffers from 'flatbuffers';
import { EventLogError } from '../events/event-errors';
import { EventKind, EventRecord } from './generated/events_generated';

export { EventKind };

export type EventKindName = 'bid' | 'win' | 'bill' | 'loss' | 'exposure' | 'click' | 'shadow';
/** Indexed by EventKind; append only, as the enum. */
export const EVENT_KIND_NAMES: readonly EventKindName[] = ['bid', 'win', 'bill', 'loss', 'exposure', 'click', 'shadow'];

/**
 * One record. The fields after `instanceId` came later (events.fbs): a writer may leave them
 * out, and they are written as their defaults (absent from the flatbuffer); decodeEvent
 * always sets them (DecodedEvent), to the default when the record has none.
 */
export interface EventFields {
  kind: EventKindName;
  /** Unix milliseconds. */
  timeMs: number;
  requestId: string;
  impId: string;
  bidId: string;
  campaignId: string;
  creativeId: string;
  /** The bid's CPM in micro-units of `currency`. */
  priceMicros: number;
  currency: string;
  /** Win, bill: the clearing CPM in micro-units of `currency`; -1: unknown. */
  clearingMicros: number;
  /** Bill: what the impression cost, micro-USD. */
  costMicros: number;
  /** Loss: OpenRTB 2.6 List 5.25 loss reason; -1: not given. */
  lossReason: number;
  /** Loss: AUCTION_MIN_TO_WIN, CPM micro-units; -1: not given. */
  minToWinMicros: number;
  modelVersion: string;
  /**
   * The experiment arms the request was assigned to, comma-separated `experimentId:armId`
   * pairs (`e1:A`, `e1:A,e2:B`); '' for none. Exposure: exactly one pair.
   */
  arm: string;
  test: boolean;
  instanceId: string;
  /**
   * Bid: the unshaded value of the impression, CPM micro-units of `currency` (priceMicros is
   * what was bid; they differ when the bid was shaded); -1 (default): unknown.
   */
  valueMicros?: number;
  /** Bid and notices: the shading segment hash, u32; 0 (default): none. */
  segment?: number;
  /** Exposure: requests assigned to `arm` since this instance's previous exposure record of that arm. Default 0. */
  count?: number;
  /** Exposure: the arm's configured weight. Default 0. */
  weight?: number;
  /** Exposure: the arm is a control (overrides neither model nor strategy). Default false. */
  control?: boolean;
  /** Bid and shadow: the active model's predicted click probability (a float32); -1 (default): unknown. */
  ctr?: number;
  /** Shadow: the shadow model, name@version; default ''. */
  shadowModel?: string;
  /** Shadow: the shadow model's prediction for the same row (a float32); -1 (default): unknown. */
  shadowCtr?: number;
}

/** A record as read: every field set, the later ones to their defaults when the writer left them out. */
export type DecodedEvent = Required<EventFields>;

/** The defaults of the fields after `instanceId` (events.fbs): what a record without them reads as. */
export const EVENT_FIELD_DEFAULTS: Readonly<Pick<DecodedEvent, 'valueMicros' | 'segment' | 'count' | 'weight' | 'control' | 'ctr' | 'shadowModel' | 'shadowCtr'>> = {
  valueMicros: -1, segment: 0, count: 0, weight: 0, control: false, ctr: -1, shadowModel: '', shadowCtr: -1,
};

/** Frame header: u32 little-endian record length. */
export const kFrameHeaderBytes = 4;
/** Larger than any record the bidder writes (ids are at most a few hundred bytes): a longer frame means damage. */
export const kMaxRecordBytes = 1024 * 1024;

const kKindCodes: Readonly<Record<EventKindName, EventKind>> = {
  bid: EventKind.Bid, win: EventKind.Win, bill: EventKind.Bill, loss: EventKind.Loss,
  exposure: EventKind.Exposure, click: EventKind.Click, shadow: EventKind.Shadow,
};

let scratch = Buffer.allocUnsafeSlow(4096);

function str(b: flatbuffers.Builder, s: string): number {
  if (s.length * 3 > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(s.length * 3, scratch.length * 2));
  const n = scratch.write(s, 0, 'utf8');
  return b.createString(scratch.subarray(0, n));
}

const kBigMinusOne = BigInt(-1);
const kBigZero = BigInt(0);

/** Integers only; a non-finite value is written as `fallback` so encoding never throws on the bid path. */
function int64(v: number, fallback: number): bigint {
  const n = Number.isFinite(v) ? Math.round(v) : fallback;
  // The common values without a BigInt allocation each.
  return n === -1 ? kBigMinusOne : n === 0 ? kBigZero : BigInt(n);
}

/** A count, price or time: negative or non-finite is 0. */
function uint64(v: number): bigint {
  return v > 0 ? int64(v, 0) : kBigZero;
}

/** A probability as float32, or -1 (unknown) for a missing or non-finite one. */
function prob(v: number | undefined): number {
  return v !== undefined && Number.isFinite(v) ? v : -1;
}

/**
 * Encodes `e` with `builder` (cleared first, so one builder serves every record of a thread).
 * The bytes are a view into the builder, valid until its next use: copy them (EventRing.tryWrite
 * does) before encoding again.
 */
export function encodeEvent(e: EventFields, builder: flatbuffers.Builder): Uint8Array {
  const b = builder;
  b.clear();
  // Offset-valued fields (strings) are written before the table starts.
  const requestId = str(b, e.requestId);
  const impId = str(b, e.impId);
  const bidId = str(b, e.bidId);
  const campaignId = str(b, e.campaignId);
  const creativeId = str(b, e.creativeId);
  const currency = str(b, e.currency);
  const modelVersion = str(b, e.modelVersion);
  const arm = str(b, e.arm);
  const instanceId = str(b, e.instanceId);
  const shadowModel = e.shadowModel === undefined || e.shadowModel === '' ? 0 : str(b, e.shadowModel);
  const R = EventRecord;
  R.startEventRecord(b);
  R.addKind(b, kKindCodes[e.kind]);
  R.addTimeMs(b, uint64(e.timeMs));
  R.addRequestId(b, requestId);
  R.addImpId(b, impId);
  R.addBidId(b, bidId);
  R.addCampaignId(b, campaignId);
  R.addCreativeId(b, creativeId);
  R.addPriceMicros(b, uint64(e.priceMicros));
  R.addCurrency(b, currency);
  R.addClearingMicros(b, int64(e.clearingMicros, -1));
  R.addCostMicros(b, uint64(e.costMicros));
  R.addLossReason(b, Number.isFinite(e.lossReason) ? e.lossReason | 0 : -1);
  R.addMinToWinMicros(b, int64(e.minToWinMicros, -1));
  R.addModelVersion(b, modelVersion);
  R.addArm(b, arm);
  R.addTest(b, e.test);
  R.addInstanceId(b, instanceId);
  // The later fields only when set: a bid without them is byte for byte what it was before
  // they existed (the builder trims the vtable's trailing empty slots).
  if (e.valueMicros !== undefined && e.valueMicros !== -1) R.addValueMicros(b, int64(e.valueMicros, -1));
  if (e.segment !== undefined && e.segment !== 0) R.addSegment(b, e.segment >>> 0);
  if (e.count !== undefined && e.count > 0) R.addCount(b, uint64(e.count));
  if (e.weight !== undefined && e.weight !== 0) R.addWeight(b, e.weight >>> 0);
  if (e.control === true) R.addControl(b, true);
  if (e.ctr !== undefined && e.ctr !== -1) R.addCtr(b, prob(e.ctr));
  if (shadowModel !== 0) R.addShadowModel(b, shadowModel);
  if (e.shadowCtr !== undefined && e.shadowCtr !== -1) R.addShadowCtr(b, prob(e.shadowCtr));
  b.finish(R.endEventRecord(b));
  return b.asUint8Array();
}

/** encodeEvent with a builder of its own. */
export class EventEncoder {
  private readonly builder = new flatbuffers.Builder(512);

  /** The record as bytes; the view is valid until the next encode. */
  encode(e: EventFields): Uint8Array {
    return encodeEvent(e, this.builder);
  }
}

/**
 * One record (the flatbuffer, without its frame). Throws EventLogError EVENTS_CORRUPT_RECORD
 * when the bytes are no well-formed EventRecord, EVENTS_UNKNOWN_KIND for a kind newer than
 * this reader (a record of a later bidder; skip it).
 */
export function decodeEvent(bytes: Uint8Array): DecodedEvent {
  const problem = checkEventRecord(bytes);
  if (problem !== null) throw new EventLogError('EVENTS_CORRUPT_RECORD', problem);
  const r = EventRecord.getRootAsEventRecord(new flatbuffers.ByteBuffer(bytes));
  const kind = EVENT_KIND_NAMES[r.kind()];
  if (kind === undefined) throw new EventLogError('EVENTS_UNKNOWN_KIND', `kind ${r.kind()}`);
  return {
    kind,
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
    valueMicros: Number(r.valueMicros()),
    segment: r.segment(),
    count: Number(r.count()),
    weight: r.weight(),
    control: r.control(),
    ctr: r.ctr(),
    shadowModel: r.shadowModel() ?? '',
    shadowCtr: r.shadowCtr(),
  };
}

/** Bytes of each EventRecord field in vtable order; 0 marks a string (a u32 offset to one). */
const kFieldBytes: readonly number[] = [
  1, 8, 0, 0, 0, 0, 0, 8, 0, 8, 8, 4, 8, 0, 0, 1, 0,
  // value_micros, segment, count, weight, control, ctr, shadow_model, shadow_ctr
  8, 4, 8, 4, 1, 4, 0, 4,
];

/**
 * A structural check of an EventRecord flatbuffer: every offset a reader follows stays inside
 * `bytes`. What is wrong, or null. Fields after the known ones (a newer writer's) are skipped.
 */
export function checkEventRecord(bytes: Uint8Array): string | null {
  const len = bytes.length;
  const u16 = (at: number): number => bytes[at] | (bytes[at + 1] << 8);
  const u32 = (at: number): number => (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
  if (len < 8) return `${len} bytes is too short for a record`;
  const table = u32(0);
  if (table + 4 > len) return `root table offset ${table} is out of range`;
  const vtable = table - (u32(table) | 0);
  if (vtable < 0 || vtable + 4 > len) return `vtable offset ${vtable} is out of range`;
  const vtableBytes = u16(vtable);
  const tableBytes = u16(vtable + 2);
  if (vtableBytes < 4 || (vtableBytes & 1) !== 0 || vtable + vtableBytes > len) return `vtable size ${vtableBytes} is invalid`;
  if (tableBytes < 4 || table + tableBytes > len) return `table size ${tableBytes} is out of range`;
  const fields = Math.min((vtableBytes - 4) >> 1, kFieldBytes.length);
  for (let i = 0; i < fields; i++) {
    const at = u16(vtable + 4 + 2 * i);
    if (at === 0) continue;
    if (at + (kFieldBytes[i] || 4) > tableBytes) return `field ${i} lies outside its table`;
    if (kFieldBytes[i] !== 0) continue;
    const s = table + at + u32(table + at);
    if (s + 4 > len) return `field ${i}: string offset out of range`;
    if (s + 4 + u32(s) > len) return `field ${i}: string of ${u32(s)} bytes runs past the end`;
  }
  return null;
}

/** Writes `record` framed into `out` at `at` (which must have room); the offset after it. */
export function writeFrame(record: Uint8Array, out: Uint8Array, at: number): number {
  const n = record.length;
  out[at] = n & 0xff;
  out[at + 1] = (n >>> 8) & 0xff;
  out[at + 2] = (n >>> 16) & 0xff;
  out[at + 3] = (n >>> 24) & 0xff;
  out.set(record, at + kFrameHeaderBytes);
  return at + kFrameHeaderBytes + n;
}

/** One framed record in a buffer of its own (tests, tools). */
export function frameRecord(record: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(kFrameHeaderBytes + record.length);
  writeFrame(record, out, 0);
  return out;
}

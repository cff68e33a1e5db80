/**
 * A bid (or a shadow prediction) as an engine thread hands it to the money owner: a few raw
 * fields in a compact binary layout, written with no object and no flatbuffers builder on
 * the bid path. The owner turns each into the event log's flatbuffers record
 * (money-events.ts), off the bid path.
 *
 * Layout: [version u8 = 2][type u8: 0 bid, 1 shadow][test u8][time f64 LE, unix ms]
 * [n1 f64][n2 f64][n3 f64][segment u32 LE], then u8-length-prefixed UTF-8 strings.
 * - bid: n1 price and n2 value (CPM micro-units of the currency), n3 the model's CTR (-1
 *   none); strings: request id, imp id, bid id, campaign id, creative id, currency, model,
 *   arm.
 * - shadow: n1 the active model's CTR, n2 the shadow's, n3 unused; strings: request id,
 *   imp id, campaign id, creative id, model, shadow model, arm.
 * Strings longer than 255 bytes are cut (only an exchange's ids can be). Records live only
 * in this process's rings, so a layout change needs no reader of older ones.
 */
const kVersion = 2;
const kTypeBid = 0;
const kTypeShadow = 1;
const kHeader = 1 + 1 + 1 + 8 + 8 + 8 + 8 + 4;
const kStrings = 8;
const kMaxRecord = kHeader + kStrings * 256;

export interface BidRecordFields {
  type: 'bid';
  timeMs: number;
  priceMicros: number;
  valueMicros: number;
  ctr: number;
  segment: number;
  test: boolean;
  requestId: string;
  impId: string;
  bidId: string;
  campaignId: string;
  creativeId: string;
  currency: string;
  model: string;
  arm: string;
}

export interface ShadowRecordFields {
  type: 'shadow';
  timeMs: number;
  ctr: number;
  shadowCtr: number;
  test: boolean;
  requestId: string;
  impId: string;
  campaignId: string;
  creativeId: string;
  model: string;
  shadowModel: string;
  arm: string;
}

export class BidRecordWriter {
  private readonly buf = Buffer.allocUnsafeSlow(kMaxRecord);

  /** The bid record's bytes; the view is valid until the next write. */
  write(timeMs: number, priceMicros: number, test: boolean, requestId: string, impId: string, bidId: string,
    campaignId: string, creativeId: string, currency: string, valueMicros = -1, ctr = -1, segment = 0, model = '', arm = ''): Uint8Array {
    let at = this.header(kTypeBid, test, timeMs, priceMicros, valueMicros, ctr, segment);
    at = this.string(requestId, at);
    at = this.string(impId, at);
    at = this.string(bidId, at);
    at = this.string(campaignId, at);
    at = this.string(creativeId, at);
    at = this.string(currency, at);
    at = this.string(model, at);
    at = this.string(arm, at);
    return this.buf.subarray(0, at);
  }

  /** A shadow prediction's bytes; valid until the next write. */
  writeShadow(timeMs: number, test: boolean, requestId: string, impId: string, campaignId: string, creativeId: string,
    model: string, ctr: number, shadowModel: string, shadowCtr: number, arm: string): Uint8Array {
    let at = this.header(kTypeShadow, test, timeMs, ctr, shadowCtr, 0, 0);
    at = this.string(requestId, at);
    at = this.string(impId, at);
    at = this.string(campaignId, at);
    at = this.string(creativeId, at);
    at = this.string(model, at);
    at = this.string(shadowModel, at);
    at = this.string(arm, at);
    return this.buf.subarray(0, at);
  }

  private header(type: number, test: boolean, timeMs: number, n1: number, n2: number, n3: number, segment: number): number {
    const b = this.buf;
    b[0] = kVersion;
    b[1] = type;
    b[2] = test ? 1 : 0;
    b.writeDoubleLE(timeMs, 3);
    b.writeDoubleLE(n1, 11);
    b.writeDoubleLE(n2, 19);
    b.writeDoubleLE(n3, 27);
    b.writeUInt32LE(segment >>> 0, 35);
    return kHeader;
  }

  private string(s: string, at: number): number {
    // 85 UTF-16 units fit 255 UTF-8 bytes whatever they are; longer strings are cut to fit.
    const n = this.buf.write(s.length <= 85 ? s : s.slice(0, 85), at + 1, 'utf8');
    this.buf[at] = n;
    return at + 1 + n;
  }
}

/** Reads a record BidRecordWriter wrote; null for one it did not (another version, cut short). */
export function readBidRecord(r: Uint8Array): BidRecordFields | ShadowRecordFields | null {
  if (r.length < kHeader || r[0] !== kVersion || r[1] > kTypeShadow) return null;
  const view = new DataView(r.buffer, r.byteOffset, r.byteLength);
  const type = r[1];
  const count = type === kTypeBid ? 8 : 7;
  const strings: string[] = [];
  // One Buffer view for the record, sliced per string (a view per string was a third of the decode).
  const bytes = Buffer.from(r.buffer, r.byteOffset, r.byteLength);
  let at = kHeader;
  for (let i = 0; i < count; i++) {
    if (at >= r.length) return null;
    const n = r[at++];
    if (at + n > r.length) return null;
    strings.push(n === 0 ? '' : bytes.toString('utf8', at, at + n));
    at += n;
  }
  const test = r[2] === 1;
  const timeMs = view.getFloat64(3, true);
  const n1 = view.getFloat64(11, true);
  const n2 = view.getFloat64(19, true);
  if (type === kTypeShadow) {
    return {
      type: 'shadow', timeMs, ctr: n1, shadowCtr: n2, test, requestId: strings[0], impId: strings[1], campaignId: strings[2],
      creativeId: strings[3], model: strings[4], shadowModel: strings[5], arm: strings[6],
    };
  }
  return {
    type: 'bid', test, timeMs, priceMicros: n1, valueMicros: n2, ctr: view.getFloat64(27, true), segment: view.getUint32(35, true),
    requestId: strings[0], impId: strings[1], bidId: strings[2], campaignId: strings[3], creativeId: strings[4], currency: strings[5],
    model: strings[6], arm: strings[7],
  };
}

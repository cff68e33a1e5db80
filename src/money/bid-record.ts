/**
 * A bid as an engine thread hands it to the money owner: a few raw fields in a compact
 * binary layout, written with no object and no flatbuffers builder on the bid path. The
 * owner turns each into the event log's flatbuffers record (money-events.ts), off the bid
 * path. Layout: [version u8][test u8][time f64 LE, unix ms][price f64 LE, CPM micro-units]
 * then u8-length-prefixed UTF-8 strings: request id, imp id, bid id, campaign id, creative
 * id, currency. Strings longer than 255 bytes are cut (only an exchange's ids can be).
 */
const kVersion = 1;
const kHeader = 1 + 1 + 8 + 8;
const kMaxRecord = kHeader + 6 * 256;

export interface BidRecordFields {
  timeMs: number;
  priceMicros: number;
  test: boolean;
  requestId: string;
  impId: string;
  bidId: string;
  campaignId: string;
  creativeId: string;
  currency: string;
}

export class BidRecordWriter {
  private readonly buf = Buffer.allocUnsafeSlow(kMaxRecord);

  /** The record's bytes; the view is valid until the next write. */
  write(timeMs: number, priceMicros: number, test: boolean, requestId: string, impId: string, bidId: string,
    campaignId: string, creativeId: string, currency: string): Uint8Array {
    const b = this.buf;
    b[0] = kVersion;
    b[1] = test ? 1 : 0;
    b.writeDoubleLE(timeMs, 2);
    b.writeDoubleLE(priceMicros, 10);
    let at = kHeader;
    at = this.string(requestId, at);
    at = this.string(impId, at);
    at = this.string(bidId, at);
    at = this.string(campaignId, at);
    at = this.string(creativeId, at);
    at = this.string(currency, at);
    return b.subarray(0, at);
  }

  private string(s: string, at: number): number {
    // 85 UTF-16 units fit 255 UTF-8 bytes whatever they are; longer strings are cut to fit.
    const n = this.buf.write(s.length <= 85 ? s : s.slice(0, 85), at + 1, 'utf8');
    this.buf[at] = n;
    return at + 1 + n;
  }
}

/** Reads a record BidRecordWriter wrote; null for one it did not (another version, cut short). */
export function readBidRecord(r: Uint8Array): BidRecordFields | null {
  if (r.length < kHeader || r[0] !== kVersion) return null;
  const view = new DataView(r.buffer, r.byteOffset, r.byteLength);
  const strings: string[] = [];
  let at = kHeader;
  for (let i = 0; i < 6; i++) {
    if (at >= r.length) return null;
    const n = r[at++];
    if (at + n > r.length) return null;
    strings.push(Buffer.from(r.buffer, r.byteOffset + at, n).toString('utf8'));
    at += n;
  }
  return {
    test: r[1] === 1, timeMs: view.getFloat64(2, true), priceMicros: view.getFloat64(10, true),
    requestId: strings[0], impId: strings[1], bidId: strings[2], campaignId: strings[3], creativeId: strings[4], currency: strings[5],
  };
}

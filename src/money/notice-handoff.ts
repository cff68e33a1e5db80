/**
 * Accepted notices from an acceptor to the money owner, through a shared-memory ring (one
 * per acceptor: single producer, single consumer), so the acceptor never posts a message or
 * waits. A record is [kind u8][arrived-at f64 unix ms][query UTF-8]: the owner reads the
 * query again (notice-request.ts) rather than trusting a second encoding of it.
 */
import { EventRing } from '../events/event-ring';
import type { NoticeKind } from '../notices/notice-urls';
import type { NoticeHandoff } from '../server/notice-route';

const kKinds: readonly NoticeKind[] = ['win', 'bill', 'loss', 'click'];
const encoder = new TextEncoder();
const kHeaderBytes = 9;
/** The notice route refuses longer queries before they get here (notice-request.ts reads at most 4096). */
const kMaxQueryBytes = 4096;

export class RingNoticeHandoff implements NoticeHandoff {
  private readonly ring: EventRing;
  private readonly record = new Uint8Array(kHeaderBytes + kMaxQueryBytes * 3);
  private readonly view = new DataView(this.record.buffer);

  constructor(ring: SharedArrayBuffer) {
    this.ring = new EventRing(ring);
  }

  offer(kind: NoticeKind, query: string, arrivedAtMs: number): boolean {
    if (query.length > kMaxQueryBytes) return false;
    this.record[0] = kKinds.indexOf(kind);
    this.view.setFloat64(1, arrivedAtMs, true);
    const { written } = encoder.encodeInto(query, this.record.subarray(kHeaderBytes));
    return this.ring.tryWrite(this.record.subarray(0, kHeaderBytes + written));
  }
}

const decoder = new TextDecoder();

/** Reads every notice waiting in `ring` (the owner's side). */
export function drainNotices(ring: EventRing, each: (kind: NoticeKind, query: string, arrivedAtMs: number) => void, max = 4096): number {
  return ring.drain((r: Uint8Array) => {
    const view = new DataView(r.buffer, r.byteOffset, r.byteLength);
    each(kKinds[r[0]] ?? 'win', decoder.decode(r.subarray(kHeaderBytes)), view.getFloat64(1, true));
  }, max);
}

/**
 * BidResponse construction and serialisation. The response is always in USD: pricing works
 * in USD and the request's `cur` is checked before any bid is made.
 */
import type { Bid, BidResponse } from './types';

export const RESPONSE_CURRENCY = 'USD';

/**
 * One seat with all bids. The literal always has the same keys in the same order (absent
 * ones `undefined`, which JSON.stringify drops) so V8 keeps one hidden class for it.
 */
export function buildBidResponse(requestId: string, bidid: string, bids: Bid[], seat?: string): BidResponse {
  return {
    id: requestId,
    seatbid: [{ bid: bids, seat }],
    bidid,
    cur: RESPONSE_CURRENCY,
  };
}

/**
 * JSON.stringify, measured against a hand-built writer (concatenation, per-string escape
 * scan) on a 2-bid response with markup, Node 20, including the utf8 flatten the server
 * does anyway: stringify median ~4.2 us, hand-built ~4.7 us. Without the flatten the
 * hand-built rope looked ~10% faster, but that cost only moves to the socket write. The
 * native serialiser stays: as fast, and correct escaping of every string for free.
 */
export function serializeBidResponse(res: BidResponse): string {
  return JSON.stringify(res);
}

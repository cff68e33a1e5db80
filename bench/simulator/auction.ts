/**
 * The exchange's auction for one impression, as pure arithmetic: our bid p against the
 * highest competing bid c drawn for that request.
 *
 * - A bid under the imp's floor is refused: a loss with reason 100 (OpenRTB 2.6 List 5.25).
 * - First price (at = 1): win iff p > c; pay p.
 * - Second price (at = 2): win iff p > c; pay max(c, floor), rounded up to the 0.0001 an
 *   exchange prints, never above p.
 * - A loss to a higher bid is reason 102; it carries the minimum bid to win, c rounded up
 *   to 0.0001, when the request drew it (a configured share of losses), else nothing.
 *
 * Prices cross the wire with 4 decimals, so they are held here as integers of 1/10,000 of a
 * CPM (`*4`), and what the books add up is exactly what the notices said.
 */
import type { AuctionType } from './types';

/** OpenRTB 2.6 List 5.25 loss reasons the simulator sends. */
export const kLossBelowFloor = 100;
export const kLossHigherBid = 102;

export type AuctionOutcome =
  | { won: true; paid4: number }
  | { won: false; reason: typeof kLossBelowFloor | typeof kLossHigherBid; minToWin4: number | null };

/** A CPM to 1/10,000 units, rounded to nearest (a bid price as the bidder sent it). */
export function toUnits4(cpm: number): number {
  return Math.round(cpm * 10_000);
}

/** A CPM to 1/10,000 units, rounded up (a threshold that must be reached). */
export function ceilUnits4(cpm: number): number {
  // The small allowance keeps binary noise (1.2 * 10000 = 12000.000000000002) from adding a unit.
  return Math.ceil(cpm * 10_000 - 1e-7);
}

/** 1/10,000 units as the decimal text an exchange substitutes: "1.2345". */
export function formatUnits4(units: number): string {
  return (units / 10_000).toFixed(4);
}

/**
 * One auction. `price4` is our bid (1/10,000 CPM), `competing` the highest other bid (CPM),
 * `floor` the imp's floor (CPM), `withMinToWin` whether this request's loss reports
 * the minimum bid to win.
 */
export function runAuction(at: AuctionType, price4: number, competing: number, floor: number, withMinToWin: boolean): AuctionOutcome {
  const floor4 = ceilUnits4(floor);
  if (price4 < floor4) return { won: false, reason: kLossBelowFloor, minToWin4: withMinToWin ? floor4 : null };
  const price = price4 / 10_000;
  if (price > competing) {
    if (at === 1) return { won: true, paid4: price4 };
    return { won: true, paid4: Math.min(price4, ceilUnits4(Math.max(competing, floor))) };
  }
  return { won: false, reason: kLossHigherBid, minToWin4: withMinToWin ? Math.max(floor4, ceilUnits4(competing)) : null };
}

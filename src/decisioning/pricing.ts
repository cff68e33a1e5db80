/**
 * Turns a predicted CTR into the price we send. CPC campaigns pay per click, so their value
 * per thousand impressions is CTR x CPC x 1000. CPM campaigns bid their flat CPM: the CTR
 * only matters to them for choosing between candidates, not for the price.
 *
 * Floors (OpenRTB 2.6 3.2.4, 3.2.11-3.2.12): a deal bid answers to the deal's bidfloor
 * alone, or to the imp's when the deal sets none; an open-auction bid to the imp's. The
 * check is made in the floor's own currency, on the very number we send, so that neither
 * conversion nor rounding can put a bid under a floor.
 */
import type { Imp } from '../openrtb/types';
import type { Candidate } from './campaign-types';
import type { RequestContext } from './request-context';
import { impFloorUsd, toUsd } from './request-context';

/** Prices are sent with 4 decimals: 1/100 of a cent per thousand. */
const kTicksPerUnit = 10000;
/** Relative slack for binary noise before rounding up: far above it, far below a tick. */
const kNoise = 1e-12;

/**
 * Rounds a positive amount up to the 4 decimals we send. A product such as 1.1 x 10000
 * lands a hair above an exact tick (11000.000000000002); that noise is not a fraction to
 * round up, so it is absorbed first.
 */
export function ceil4(x: number): number {
  const ticks = x * kTicksPerUnit;
  return Math.ceil(ticks - ticks * kNoise) / kTicksPerUnit;
}

/**
 * The price to send for a candidate, in the bid currency (`usdToBidCur` units per USD), or 0
 * for no bid. `impFloor` is the imp's bidfloor in its own currency (0: none) and
 * `impFloorRate` that currency's units per USD.
 *
 * The campaign's value (capped at maxCpmUsd) must reach the governing floor; the price is
 * that value converted and rounded up to 4 decimals, so it exceeds maxCpmUsd by less than
 * one step at most. A fixed-price deal (at = 3) bids exactly its floor.
 */
export function priceCandidate(c: Candidate, ctr: number, impFloor: number, impFloorRate = 1, usdToBidCur = 1): number {
  const campaign = c.campaign;
  const goal = campaign.goal;
  let value: number;
  if (goal.type === 'CPC') {
    if (!(ctr > 0) || !Number.isFinite(ctr)) return 0;
    value = ctr * goal.cpcUsd * 1000;
  } else {
    value = goal.cpmUsd;
  }
  if (value > campaign.maxCpmUsd) value = campaign.maxCpmUsd;
  if (!(value > 0)) return 0;

  const dealFloor = c.dealFloor ?? 0;
  const ownFloor = dealFloor > 0;
  if (c.fixedPrice === true && !ownFloor) return 0; // no agreed price to bid
  const floor = ownFloor ? dealFloor : impFloor > 0 ? impFloor : 0;
  const floorRate = ownFloor ? (c.dealFloorRate ?? 1) : impFloorRate;
  // In the floor's currency; a value exactly at the floor in decimals (0.0006 USD against
  // 0.0903 at 150.5) must not lose to binary noise (0.09029999...).
  if (floor > 0 && !atLeast(value * floorRate, floor)) return 0;

  if (c.fixedPrice === true) return floorRate === usdToBidCur ? floor : ceil4((floor / floorRate) * usdToBidCur);
  const price = ceil4(value * usdToBidCur);
  if (floor === 0) return price;
  // The least number we may send: the floor in the bid currency, rounded up to a tick, and
  // one tick more if noise absorbed by ceil4 left it under the floor. A value that reached
  // the floor only within noise is sent at that, never under it.
  const floorInBidCur = floorRate === usdToBidCur ? floor : (floor / floorRate) * usdToBidCur;
  let least = ceil4(floorInBidCur);
  if (least < floorInBidCur) least = (Math.round(least * kTicksPerUnit) + 1) / kTicksPerUnit;
  return price >= least ? price : least;
}

/** a >= b, allowing for binary noise (relative kNoise): an exact tie in decimals stays a tie. */
function atLeast(a: number, b: number): boolean {
  return a >= b - b * kNoise;
}

/**
 * Whether an imp that got no candidate was dropped for want of an exchange rate: its floor,
 * or the floor of every deal it offers, is in a currency we hold no rate for (a zero floor
 * needs none). Only asked of imps without candidates, so it may take its time.
 */
export function floorCurrencyUnsupported(imp: Imp, ctx: RequestContext): boolean {
  if (Number.isNaN(impFloorUsd(imp, ctx))) return true;
  const deals = typeof imp.pmp === 'object' && imp.pmp !== null ? imp.pmp.deals : undefined;
  if (!Array.isArray(deals) || deals.length === 0) return false;
  for (const d of deals) {
    if (typeof d !== 'object' || d === null || !Number.isNaN(toUsd(d.bidfloor, d.bidfloorcur, ctx))) return false;
  }
  return true;
}

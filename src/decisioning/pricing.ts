/**
 * Turns a predicted CTR into a CPM bid in USD. CPC campaigns pay per click, so their value
 * per thousand impressions is CTR x CPC x 1000. CPM campaigns bid their flat CPM: the CTR
 * only matters to them for choosing between candidates, not for the price.
 */
import type { Candidate } from './campaign-types';

/** Rounds to 4 decimals (1/100 of a cent per thousand), the precision we send. */
export function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}

/**
 * CPM bid in USD, capped by the campaign's maxCpmUsd, or 0 (no bid) when it is not positive
 * or falls below the effective floor: the higher of the imp floor and the deal floor.
 */
export function priceCandidate(c: Candidate, ctr: number, floorUsd: number): number {
  const campaign = c.campaign;
  const goal = campaign.goal;
  let price: number;
  if (goal.type === 'CPC') {
    if (!(ctr > 0) || !Number.isFinite(ctr)) return 0;
    price = ctr * goal.cpcUsd * 1000;
  } else {
    price = goal.cpmUsd;
  }
  if (price > campaign.maxCpmUsd) price = campaign.maxCpmUsd;
  price = round4(price);
  let floor = floorUsd > 0 ? floorUsd : 0;
  const dealFloor = c.dealFloorUsd;
  if (dealFloor !== undefined && dealFloor > floor) floor = dealFloor;
  if (price <= 0 || price < floor) return 0;
  return price;
}

/**
 * A deal's terms (OpenRTB 2.6 3.2.12) that decide whether a campaign listing the deal may
 * bid through it: the seats (`wseat`), the advertiser domains (`wadomain`), a floor we can
 * price against, and for a fixed-price deal (`at` = 3) a price to bid. Pricing reads the
 * floor and the auction type from the candidate (pricing.ts).
 */
import type { Deal } from '../openrtb/types';
import type { RequestContext } from './request-context';
import { currencyRate, floorAmount } from './request-context';
import { seatListed } from './seat-rules';

/** Deal `at` value meaning "the value passed in bidfloor is the agreed upon deal price". */
export const kFixedPriceAuction = 3;

/**
 * Whether `wadomain` admits the advertiser: absent or empty admits all; otherwise it must list
 * the advertiser's domain or a parent of it (`advKeys`: lower-case domain, then parents),
 * case-insensitively.
 */
export function advertiserListed(wadomain: unknown, advKeys: readonly string[]): boolean {
  if (!Array.isArray(wadomain) || wadomain.length === 0) return true;
  for (let i = 0; i < wadomain.length; i++) {
    const d = wadomain[i];
    if (typeof d === 'string' && advKeys.indexOf(d.trim().toLowerCase()) >= 0) return true;
  }
  return false;
}

/**
 * Whether a deal the campaign lists is open to it: our seat is admitted, the advertiser is
 * admitted, the floor (if any) is in a currency we hold a rate for, and a fixed-price deal
 * names its price.
 */
export function dealOpenTo(d: Deal, advKeys: readonly string[], ctx: RequestContext): boolean {
  if (!seatListed(d.wseat, ctx.seatId)) return false;
  if (!advertiserListed(d.wadomain, advKeys)) return false;
  const floor = floorAmount(d.bidfloor);
  if (floor === 0) return d.at !== kFixedPriceAuction;
  return !Number.isNaN(currencyRate(d.bidfloorcur, ctx));
}

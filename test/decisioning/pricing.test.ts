import t from 'tap';
import fc from 'fast-check';
import type { Candidate } from '../../src/decisioning/campaign-types';
import { ceil4, floorCurrencyUnsupported, priceCandidate } from '../../src/decisioning/pricing';
import { bannerImp, campaign, ctxOf, request } from './fixtures/builders';

const cpc = campaign({ goal: { type: 'CPC', cpcUsd: 0.8 }, maxCpmUsd: 20 });
const cpm = (cpmUsd: number, maxCpmUsd = 10) => campaign({ goal: { type: 'CPM', cpmUsd }, maxCpmUsd });
const cand = (c = cpc, deal: Partial<Candidate> = {}): Candidate => ({ campaign: c, creative: c.creatives[0], ...deal });
/** A deal candidate whose floor is `floor` units of a currency worth `rate` per USD. */
const deal = (c: ReturnType<typeof campaign>, floor: number, rate = 1, fixedPrice = false): Candidate =>
  cand(c, { dealId: 'D', dealFloor: floor, dealFloorRate: rate, fixedPrice });

t.test('CPC: ctr x cpc x 1000, rounded up to 4 decimals', async (t) => {
  t.equal(priceCandidate(cand(), 0.01, 0), 8);
  t.equal(priceCandidate(cand(), 0.0123456, 0), 9.8765);
  t.equal(priceCandidate(cand(), 0.0123451, 0), 9.8761, '9.87608 rounds up, not to the nearest');
  t.equal(priceCandidate(cand(), 0, 0), 0, 'zero ctr is no bid');
  t.equal(priceCandidate(cand(), NaN, 0), 0);
  t.equal(priceCandidate(cand(), -0.1, 0), 0);
});

t.test('CPM: flat cpm regardless of ctr', async (t) => {
  const c = cpm(2.5, 5);
  t.equal(priceCandidate(cand(c), 0.001, 0), 2.5);
  t.equal(priceCandidate(cand(c), 0.5, 0), 2.5);
});

t.test('capped at maxCpmUsd', async (t) => {
  const c = campaign({ goal: { type: 'CPC', cpcUsd: 2 }, maxCpmUsd: 12 });
  t.equal(priceCandidate(cand(c), 0.05, 0), 12);
  t.equal(priceCandidate(cand(c), 0.05, 12), 12, 'at the floor bids');
  t.equal(priceCandidate(cand(c), 0.05, 12.0001), 0, 'cap below floor: no bid');
});

t.test('the imp floor governs open-auction bids', async (t) => {
  t.equal(priceCandidate(cand(), 0.01, 7.99), 8);
  t.equal(priceCandidate(cand(), 0.01, 8), 8);
  t.equal(priceCandidate(cand(), 0.01, 8.01), 0);
});

t.test('a deal bid answers to the deal floor alone; without one, to the imp floor', async (t) => {
  const c = cpm(2);
  t.equal(priceCandidate(deal(c, 1), 0, 3), 2, 'deal floor 1 under imp floor 3: bids (the old rule took the higher)');
  t.equal(priceCandidate(deal(c, 2.5), 0, 1), 0, 'deal floor above the value, imp floor below: no bid');
  t.equal(priceCandidate(deal(c, 0), 0, 3), 0, 'deal without a floor: the imp floor 3 governs');
  t.equal(priceCandidate(deal(c, 0), 0, 1.5), 2);
  t.equal(priceCandidate(deal(c, 1.84, 0.92), 0, 5), 2, 'deal floor in EUR, compared in EUR: 2 USD = 1.84 EUR');
  t.equal(priceCandidate(deal(c, 1.8401, 0.92), 0, 0), 0);
});

t.test('fixed-price deal (at = 3): the bid is exactly the deal floor, if the value reaches it', async (t) => {
  const c = cpm(4, 6);
  t.equal(priceCandidate(deal(c, 3.5, 1, true), 0, 9), 3.5, 'exactly the floor, whatever the imp floor');
  t.equal(priceCandidate(deal(c, 0.500014, 1, true), 0, 0), 0.500014, 'exactly, even past 4 decimals');
  t.equal(priceCandidate(deal(c, 4.5, 1, true), 0, 0), 0, 'value 4 does not reach 4.5');
  t.equal(priceCandidate(deal(cpm(6, 6), 6.5, 1, true), 0, 0), 0, 'maxCpm 6 does not reach 6.5');
  t.equal(priceCandidate(deal(c, 3.22, 0.92, true), 0, 0, 1, 0.92), 3.22, 'floor currency = bid currency: verbatim');
  t.equal(priceCandidate(deal(c, 3.22, 0.92, true), 0, 0, 1, 1), 3.5, 'EUR price sent in USD: 3.22 / 0.92');
  t.equal(priceCandidate(deal(c, 0, 1, true), 0, 1), 0, 'no price agreed: no bid');
  const cpcDeal = deal(cpc, 5, 1, true);
  t.equal(priceCandidate(cpcDeal, 0.01, 0), 5, 'CPC value 8 reaches 5: bids 5');
  t.equal(priceCandidate(cpcDeal, 0.005, 0), 0, 'CPC value 4 does not');
});

t.test('currency: never below the floor in the floor\'s currency after conversion and rounding', async (t) => {
  const c = cpm(0.5435);
  // 0.5435 USD = 0.50002 EUR: above the 0.500014 EUR floor, but to the nearest 4 decimals 0.5.
  t.equal(priceCandidate(cand(c), 0, 0.500014, 0.92, 0.92), 0.5001, 'EUR floor, EUR bid: rounded up, above the floor');
  t.equal(priceCandidate(cand(c), 0, 0.500014, 0.92, 1), 0.5435, 'EUR floor, USD bid');
  t.equal(priceCandidate(cand(c), 0, 0.5001, 0.92, 0.92), 0, 'value 0.50002 EUR below a 0.5001 EUR floor: no bid');
  t.equal(priceCandidate(cand(cpm(2)), 0, 0, 1, 0.91234), 1.8247, 'converted to the bid currency');
  t.equal(priceCandidate(cand(cpm(1.1)), 0, 0, 1, 1), 1.1, 'an exact tick is not rounded up by binary noise');
  t.equal(priceCandidate(cand(cpm(0.00003)), 0, 0), 0.0001, 'a sub-tick value rounds up to the smallest price');
});

t.test('ceil4', async (t) => {
  t.equal(ceil4(1.23451), 1.2346);
  t.equal(ceil4(1.2345), 1.2345);
  t.equal(ceil4(1.1 * 0.92 / 0.92), 1.1);
  t.equal(ceil4(0.50002), 0.5001);
});

t.test('property: a bid is never below its floor nor more than a step above the cap', async (t) => {
  const rate = fc.constantFrom(1, 0.92, 0.79, 0.91234, 1.37, 149.7, 5.05);
  const money = fc.double({ min: 0.0001, max: 200, noNaN: true });
  fc.assert(
    fc.property(money, money, money, rate, rate, fc.boolean(), (cpmUsd, maxCpmUsd, floor, floorRate, bidRate, asDeal) => {
      const c = cpm(Math.min(cpmUsd, maxCpmUsd), maxCpmUsd);
      const cd = asDeal ? deal(c, floor, floorRate) : cand(c);
      const price = asDeal ? priceCandidate(cd, 0, 0, 1, bidRate) : priceCandidate(cd, 0, floor, floorRate, bidRate);
      const value = Math.min(cpmUsd, maxCpmUsd);
      if (price === 0) {
        // Only a value below the floor goes without a bid (up to the binary noise of one product).
        return value * floorRate < floor * (1 + 1e-12);
      }
      const inFloorCur = floorRate === bidRate ? price : (price * floorRate) / bidRate;
      return inFloorCur >= floor * (1 - 1e-15) && price <= maxCpmUsd * bidRate + 0.0001 + 1e-9 && price === ceil4(price);
    }),
    { numRuns: 2000 },
  );
  t.pass('held for 2000 random campaigns, floors and rates');
});

t.test('a value exactly at the floor in decimals bids, whatever the binary noise of the conversion', async (t) => {
  // Floors set to the agreed CPM are common (deal floors): 0.0006 USD against 0.0903 at
  // 150.5 is a tie in decimals, and 0.0006 * 150.5 is 0.09029999... in binary.
  let ties = 0;
  for (const [rate, digits] of [[0.92, 2], [0.79, 2], [1.1, 1], [150.5, 1]] as const) {
    const scale = 10 ** digits;
    for (let ticks = 1; ticks <= 5000; ticks++) {
      const value = ticks / 10000;
      // The floor as a decimal: ticks x rate x scale, divided back, so no binary product is involved.
      const floor = Number(`${ticks * Math.round(rate * scale)}e-${4 + digits}`);
      const c = cpm(value, 10);
      for (const cd of [cand(c), deal(c, floor, rate)]) {
        const price = cd.dealFloor !== undefined ? priceCandidate(cd, 0, 0, 1, 1) : priceCandidate(cd, 0, floor, rate, 1);
        if (price === 0) t.fail(`value ${value} USD at floor ${floor} (rate ${rate}) got no bid`);
        else ties++;
        // Never under the floor: at the tie, the price is the value itself.
        if (price !== 0 && price * rate < floor * (1 - 1e-12)) t.fail(`price ${price} under floor ${floor} at ${rate}`);
      }
    }
  }
  t.equal(ties, 40_000, 'every tie bid');
});

t.test('floorCurrencyUnsupported: the imp floor, or every deal floor, lacks a rate', async (t) => {
  const cfg = { fxRates: { EUR: 0.9 } };
  const check = (imp: ReturnType<typeof bannerImp>) => floorCurrencyUnsupported(imp, ctxOf(request({ imp: [imp] }), cfg));
  t.equal(check(bannerImp({ bidfloor: 1, bidfloorcur: 'RUB' })), true);
  t.equal(check(bannerImp({ bidfloor: 0, bidfloorcur: 'RUB' })), false, 'a zero floor needs no rate');
  t.equal(check(bannerImp({ bidfloor: 1, bidfloorcur: 'EUR' })), false);
  t.equal(check(bannerImp({ pmp: { deals: [{ id: 'd', bidfloor: 2, bidfloorcur: 'RUB' }] } })), true, 'the only deal');
  t.equal(check(bannerImp({ pmp: { deals: [{ id: 'd', bidfloor: 2, bidfloorcur: 'RUB' }, { id: 'e', bidfloor: 2 }] } })), false, 'another deal is priceable');
  t.equal(check(bannerImp({ pmp: { deals: [{ id: 'd', bidfloorcur: 'RUB' }] } })), false, 'a deal without a floor');
});

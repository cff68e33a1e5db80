import t from 'tap';
import fc from 'fast-check';
import { CandidateCap, canReachFloor, kthLargest, priceUpperBound } from '../../src/decisioning/candidate-cap';
import type { Campaign, Candidate } from '../../src/decisioning/campaign-types';
import { priceCandidate } from '../../src/decisioning/pricing';
import { campaign } from './fixtures/builders';

const cpm = (cpmUsd: number, maxCpmUsd = 100): Campaign => campaign({ goal: { type: 'CPM', cpmUsd }, maxCpmUsd });
const cpc = (cpcUsd: number, maxCpmUsd: number): Campaign => campaign({ goal: { type: 'CPC', cpcUsd }, maxCpmUsd });
const cand = (c: Campaign, deal: Partial<Pick<Candidate, 'dealFloor' | 'dealFloorRate' | 'fixedPrice'>> = {}): Candidate => ({
  campaign: c,
  creative: c.creatives[0],
  ...deal,
});

/** What the cap kept, as [imp, campaign id] in order. */
function kept(cap: CandidateCap): [number, string][] {
  const n = cap.finish();
  const out: [number, string][] = [];
  for (let i = 0; i < n; i++) out.push([cap.impAt(i), cap.candidateAt(i).campaign.id]);
  return out;
}

t.test('priceUpperBound: the flat CPM for CPM goals, maxCpmUsd for CPC, a fixed-price deal its floor', async (t) => {
  t.equal(priceUpperBound(cand(cpm(2.5, 5))), 2.5);
  t.equal(priceUpperBound(cand(cpm(8, 5))), 5, 'CPM above the campaign cap');
  t.equal(priceUpperBound(cand(cpc(0.5, 12))), 12, 'CPC: the cap, whatever the CTR');
  t.equal(priceUpperBound(cand(cpm(8, 10), { dealFloor: 4.5, dealFloorRate: 0.9, fixedPrice: true })), 5, 'EUR 4.50 at 0.9 is USD 5');
});

t.test('against priceCandidate, for any CTR: the bound is never below the price, and a dropped candidate never bids', async (t) => {
  const rate = fc.constantFrom(1, 1, 0.92, 150);
  // Amounts in cents (fc.double is uniform over bit patterns: almost all tiny or huge).
  const usd = fc.integer({ min: 0, max: 5_000 }).map((x) => x / 100);
  fc.assert(
    fc.property(
      fc.record({
        isCpc: fc.boolean(),
        value: usd,
        max: usd,
        deal: fc.option(fc.record({ dealFloor: fc.constantFrom(0, 0.5, 2, 7.25, 300), dealFloorRate: rate, fixedPrice: fc.boolean() })),
        impFloor: fc.constantFrom(0, 0, 0.5, 2, 3.3333, 40, 500),
        impFloorRate: rate,
        usdToBidCur: rate,
        ctr: fc.integer({ min: 0, max: 10_000 }).map((x) => x / 10_000),
      }),
      (r) => {
        const c = cand(r.isCpc ? cpc(r.value, r.max) : cpm(r.value, r.max), r.deal ?? {});
        const price = priceCandidate(c, r.ctr, r.impFloor, r.impFloorRate, r.usdToBidCur);
        if (price === 0) return true;
        // A price is rounded up to 4 decimals in the bid currency: within a tick of the bound.
        return canReachFloor(c, r.impFloor, r.impFloorRate) && price <= priceUpperBound(c) * r.usdToBidCur + 0.0001 + 1e-9;
      },
    ),
    { numRuns: 2000 },
  );
  t.pass('held for 2000 generated candidates');
});

t.test('per impression: keeps the maxPerImp highest bounds, in their order, ties to the earlier', async (t) => {
  const cap = new CandidateCap(3, 100);
  const cs = [cpm(1), cpm(5), cpm(2), cpm(5), cpm(2), cpm(0.5)].map((c) => cand(c));
  cap.begin();
  cap.offer(0, 0, 1, cs, cs.length);
  t.same(kept(cap), [
    [0, cs[1].campaign.id],
    [0, cs[2].campaign.id],
    [0, cs[3].campaign.id],
  ], '5, 2 (the first of the two), 5 in offer order');
  t.same(cap.drops, { belowFloor: 0, impCap: 3, requestCap: 0 });
});

t.test('a candidate that could never reach its floor is dropped before any cap', async (t) => {
  const cap = new CandidateCap(3, 100);
  const atFloor = cand(cpm(2));
  const below = cand(cpm(1.99));
  const cpcBelow = cand(cpc(100, 1.5)); // a high CPC cannot pass its 1.5 cap
  const dealBelow = cand(cpm(3), { dealFloor: 3.5 }); // a deal's own floor governs it
  const dealUnder = cand(cpm(1), { dealFloor: 0.5 }); // ... also when lower than the imp's
  const fixedNoPrice = cand(cpm(9), { fixedPrice: true }); // fixed price without a floor
  const zero = cand(cpm(0));
  const above = cand(cpm(2.5));
  const cs = [below, cpcBelow, dealBelow, atFloor, zero, fixedNoPrice, dealUnder, above];
  cap.begin();
  cap.offer(0, 2, 1, cs, cs.length);
  t.same(kept(cap), [
    [0, atFloor.campaign.id],
    [0, dealUnder.campaign.id],
    [0, above.campaign.id],
  ], 'only those that can bid; at the floor bids');
  t.same(cap.drops, { belowFloor: 5, impCap: 0, requestCap: 0 }, 'counted as below_floor, not as capped');
  t.equal(cap.floorAt(0), 2, 'the imp floor travels with the entry');
  t.equal(cap.floorRateAt(0), 1);

  cap.begin();
  cap.offer(0, 2.2, 1.1, [atFloor, below], 2);
  t.same(kept(cap), [[0, atFloor.campaign.id]], 'EUR 2.20 is USD 2: compared in the floor currency');

  cap.begin();
  cap.offer(0, 0, 1, [zero], 1);
  t.equal(cap.finish(), 0, 'a zero price never bids even without a floor');
});

t.test('per request: the best over all impressions, each impression still contiguous and in order', async (t) => {
  const cap = new CandidateCap(2, 3);
  const a = [cpm(1), cpm(9)].map((c) => cand(c));
  const b = [cpm(3), cpm(2)].map((c) => cand(c));
  const c = [cpm(8), cpm(0.5)].map((x) => cand(x));
  cap.begin();
  cap.offer(0, 0, 1, a, 2);
  cap.offer(1, 0, 1, b, 2);
  cap.offer(4, 0, 1, c, 2);
  t.same(kept(cap), [
    [0, a[1].campaign.id],
    [1, b[0].campaign.id],
    [4, c[0].campaign.id],
  ]);
  t.same(cap.drops, { belowFloor: 0, impCap: 0, requestCap: 3 });
  cap.begin();
  t.equal(cap.finish(), 0, 'begin() starts empty');
  t.same(cap.drops, { belowFloor: 0, impCap: 0, requestCap: 0 }, 'and resets the counts');
});

/** The reference: sort-based selection, per imp then per request, ties to the earlier. */
function reference(imps: { floor: number; bounds: number[] }[], perImp: number, perRequest: number): [number, number][] {
  const staged: { imp: number; k: number; bound: number; pos: number }[] = [];
  imps.forEach((imp, j) => {
    const ok = imp.bounds.map((bound, k) => ({ imp: j, k, bound, pos: 0 })).filter((e) => e.bound > 0 && e.bound >= imp.floor);
    const top = new Set([...ok].sort((x, y) => y.bound - x.bound || x.k - y.k).slice(0, perImp));
    for (const e of ok) if (top.has(e)) staged.push(e);
  });
  staged.forEach((e, i) => (e.pos = i));
  const top = new Set([...staged].sort((x, y) => y.bound - x.bound || x.pos - y.pos).slice(0, perRequest));
  return staged.filter((e) => top.has(e)).map((e) => [e.imp, e.k]);
}

t.test('keeps exactly what a full sort would, whatever the sizes (early cuts included)', async (t) => {
  // Few distinct bounds: ties are the common case with real campaign files.
  const bound = fc.constantFrom(0, 0.5, 1, 1, 2, 2, 2, 3.25, 5, 8);
  const imp = fc.record({ floor: fc.constantFrom(0, 0, 1, 2.5), bounds: fc.array(bound, { maxLength: 90 }) });
  fc.assert(
    fc.property(fc.array(imp, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 40 }), (imps, perImp, perRequest) => {
      const cap = new CandidateCap(perImp, perRequest);
      cap.begin();
      let staged = 0;
      const byId = new Map<string, [number, number]>();
      imps.forEach((spec, j) => {
        const cs = spec.bounds.map((b, k) => {
          // One campaign per (imp, k) so the result can be mapped back to its position.
          const c = cpm(b);
          byId.set(c.id, [j, k]);
          return cand(c);
        });
        cap.offer(j, spec.floor, 1, cs, cs.length);
        staged += cs.length;
      });
      const got = kept(cap).map(([, id]) => byId.get(id)!);
      const want = reference(imps, perImp, perRequest);
      const d = cap.drops;
      return JSON.stringify(got) === JSON.stringify(want) && d.belowFloor + d.impCap + d.requestCap + got.length === staged;
    }),
    { numRuns: 300 },
  );
  t.pass('300 generated requests matched the reference');
});

t.test('100 imps x many candidates: staging stays bounded and the result is capped', async (t) => {
  const cap = new CandidateCap(32, 256);
  const cs = Array.from({ length: 500 }, (_, i) => cand(cpm(1 + (i % 17))));
  cap.begin();
  for (let j = 0; j < 100; j++) cap.offer(j, 0, 1, cs, cs.length);
  t.equal(cap.finish(), 256);
  t.same(cap.drops, { belowFloor: 0, impCap: 100 * (500 - 32), requestCap: 100 * 32 - 256 });
  // Every kept bound is at least every dropped one: the 256 best of 3200 imp-capped, all 17s
  // (each imp's 32 best are its 29 or 30 candidates of bound 17 and a few of 16).
  let min = Infinity;
  for (let i = 0; i < 256; i++) min = Math.min(min, priceUpperBound(cap.candidateAt(i)));
  t.equal(min, 17, 'only the highest bound survives');
});

t.test('kthLargest agrees with a sort', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 200 }), fc.nat(), (xs, r) => {
      const k = 1 + (r % xs.length);
      const a = Float64Array.from(xs);
      const want = [...xs].sort((x, y) => y - x)[k - 1];
      return kthLargest(a, a.length, k) === want;
    }),
    { numRuns: 500 },
  );
  t.pass('500 generated arrays matched');
});

t.test('caps below 1 are refused at construction', async (t) => {
  t.throws(() => new CandidateCap(0, 10), RangeError);
  t.throws(() => new CandidateCap(10, 0), RangeError);
});

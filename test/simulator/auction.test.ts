/**
 * The exchange's auction arithmetic: first and second price, the floor, and the minimum
 * bid to win reported on the configured share of losses.
 */
import t from 'tap';
import { ceilUnits4, formatUnits4, kLossBelowFloor, kLossHigherBid, runAuction, toUnits4 } from '../../bench/simulator/auction';
import { buildWorld, defaultCampaigns, defaultSegments } from '../../bench/simulator/world';

t.test('first price: win iff the bid beats the competing bid; pay the bid', async (t) => {
  t.same(runAuction(1, toUnits4(2.5), 2.4999, 0.5, true), { won: true, paid4: 25_000 });
  t.same(runAuction(1, toUnits4(2.5), 1.0, 0.5, true), { won: true, paid4: 25_000 }, 'pays its own bid, however low the competition');
  t.same(runAuction(1, toUnits4(2.5), 2.5, 0.5, true), { won: false, reason: kLossHigherBid, minToWin4: 25_000 }, 'a tie is not a win');
  t.same(runAuction(1, toUnits4(2.5), 3.14159, 0.5, true), { won: false, reason: kLossHigherBid, minToWin4: 31_416 }, 'min to win rounded up to 0.0001');
  t.same(runAuction(1, toUnits4(2.5), 3.14159, 0.5, false), { won: false, reason: kLossHigherBid, minToWin4: null }, 'or withheld');
});

t.test('second price: pay max(competing, floor), rounded up, never above the bid', async (t) => {
  t.same(runAuction(2, toUnits4(2.5), 1.23451, 0.5, true), { won: true, paid4: 12_346 });
  t.same(runAuction(2, toUnits4(2.5), 0.2, 0.5, true), { won: true, paid4: 5_000 }, 'the floor when the competition is under it');
  t.same(runAuction(2, toUnits4(2.5), 2.49999, 0.5, true), { won: true, paid4: 25_000 }, 'rounding up never passes the bid');
  t.same(runAuction(2, toUnits4(2.5), 2.6, 0.5, true), { won: false, reason: kLossHigherBid, minToWin4: 26_000 });
});

t.test('a bid under the floor loses with reason 100', async (t) => {
  for (const at of [1, 2] as const) {
    t.same(runAuction(at, toUnits4(0.4999), 0.1, 0.5, true), { won: false, reason: kLossBelowFloor, minToWin4: 5_000 });
    t.same(runAuction(at, toUnits4(0.5), 0.1, 0.5, false).won, true, 'a bid at the floor is taken');
  }
});

t.test('prices in 1/10,000 units, free of binary noise', async (t) => {
  t.equal(ceilUnits4(1.2), 12_000, '1.2 * 10000 is 12000.000000000002 in binary');
  t.equal(ceilUnits4(1.20001), 12_001);
  t.equal(toUnits4(0.1 + 0.2), 3_000);
  t.equal(formatUnits4(12_345), '1.2345');
  t.equal(formatUnits4(5), '0.0005');
  t.equal(formatUnits4(20_000), '2.0000');
});

t.test('min-to-win is given on the configured share of losses', async (t) => {
  const w = buildWorld({ seed: 3, users: 100, requests: 6_000, segments: defaultSegments(), campaigns: defaultCampaigns(), minToWinShare: 0.25 });
  let losses = 0;
  let given = 0;
  let under = 0;
  for (const d of w.draws) {
    const o = runAuction(1, toUnits4(w.segments[d.segment].competition.median), d.competing, w.segments[d.segment].floor, d.withMinToWin);
    if (o.won) continue;
    losses++;
    if (o.minToWin4 !== null) {
      given++;
      if (o.minToWin4 / 10_000 < d.competing) under++;
    }
  }
  t.equal(under, 0, 'min to win always reaches the competing bid');
  t.ok(losses > 2_000, `${losses} losses at the median`);
  const share = given / losses;
  t.ok(Math.abs(share - 0.25) < 4 * Math.sqrt((0.25 * 0.75) / losses), `min-to-win on ${share.toFixed(3)} of losses`);
});

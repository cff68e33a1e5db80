import t from 'tap';
import { comparedRates, computeRatios, halfPeakRate, isSaturated, p99RatioAt, ratesFor, referenceRate, twinPoints } from '../../bench/lib/analysis';
import { bidShare } from '../../bench/lib/measure';
import type { ClosedLoopResult, OpenLoopResult, ScenarioResult } from '../../bench/lib/results';
import { rssVerdict } from '../../bench/soak';

const lat = (p99: number, p999 = p99 * 2) => ({ p50: p99 / 4, p90: p99 / 2, p99, p999, max: p999 * 2, mean: p99 / 4 });

function closed(server: string, rps: number, cpu: number): ClosedLoopResult {
  return { server, connections: 64, durationS: 5, generator: 'wrk', requests: rps * 5, rps, latencyUs: lat(1000), non2xx: 0, errors: 0, cpuMsPer1000: cpu, rssMb: 100 };
}

function open(server: string, offeredRate: number, p99: number, achievedRate = offeredRate): OpenLoopResult {
  return { server, offeredRate, achievedRate, durationS: 5, sent: 1, completed: 1, errors: 0, status: { 200: 1 }, bidShare: 1, latencyUs: lat(p99), curve: [], cpuMsPer1000: 1, rssMb: 1 };
}

t.test('reference rate is half the slowest non-ceiling peak', async (t) => {
  t.equal(referenceRate({ bidder: 30000, ceiling: 5000, inline: 9000, fastify: 6120 }), 3100);
  t.equal(halfPeakRate(30123), 15100);
});

const sweep = { open: 'sweep' as const, goalRates: [] };
const referenceOnly = { open: 'reference' as const, goalRates: [] };

t.test('the sweep stops a little beyond each peer peak and always holds the reference', async (t) => {
  const peaks = { bidder: 30000, inline: 9000 };
  const bidder = ratesFor('bidder', peaks, sweep, 4500);
  t.same(bidder, [3000, 4500, 7500, 15000, 22500, 27000, 30000, 36000]);
  const inline = ratesFor('inline', peaks, sweep, 4500);
  t.ok(inline.every((r) => r <= 9000 * 1.3 || r === 15000), `inline rates ${inline}`);
  t.ok(inline.includes(9900), 'one point beyond its own peak');
  t.same(ratesFor('inline', peaks, referenceOnly, 4500), [4500]);
});

t.test('the twin is offered every rate the bidder is, the goal rates and its own ladder to 80% of its peak', async (t) => {
  const peaks = { bidder: 30000, twin: 40000, inline: 9000 };
  const plan = { open: 'sweep' as const, goalRates: [5000, 10000, 20000] };
  const bidder = ratesFor('bidder', peaks, plan, 4500);
  const twin = ratesFor('twin', peaks, plan, 4500);
  t.same(twin, bidder, 'the same rates, so every bidder point has a twin point beside it');
  for (const r of [4500, 5000, 10000, 20000, 3000, 36000]) t.ok(bidder.includes(r), `${r} offered`);
  for (const r of [8000, 16000, 24000, 32000]) t.ok(bidder.includes(r), `twin ladder ${r} offered`);
  t.notOk(ratesFor('inline', peaks, plan, 4500).includes(5000), 'goal rates are for the bidder and the twin only');
  t.same(comparedRates(peaks, { open: 'reference', goalRates: [2500, 5000] }, 4500), [2500, 4500, 5000], 'without a sweep: the reference and the goal rates');
  // A peers-only run (no bidder): the ladder is cut from the twin's peak, never NaN.
  const peersOnly = ratesFor('twin', { twin: 40000, ceiling: 100000 }, sweep, 20000);
  t.ok(peersOnly.length > 4 && peersOnly.every(Number.isFinite), `rates ${peersOnly}`);
  t.ok(ratesFor('ceiling', { twin: 40000, ceiling: 100000 }, sweep, 20000).every(Number.isFinite));
});

t.test('ratios are bidder over peer, tails at the reference rate', async (t) => {
  const s: ScenarioResult = {
    name: 'banner-small',
    description: '',
    referenceRate: 4000,
    closed: [closed('bidder', 30000, 40), closed('inline', 10000, 100), closed('fastify', 6000, 120)],
    open: [open('bidder', 4000, 800), open('inline', 4000, 1600), open('fastify', 4000, 400), open('bidder', 15000, 900)],
  };
  const r = computeRatios(s);
  t.same(r.map((x) => [x.peer, x.throughput, x.cpuPerRequest, x.p99]), [
    ['inline', 3, 0.4, 0.5],
    ['fastify', 5, 0.33, 2],
  ]);
  t.equal(p99RatioAt(s, 'inline', 4000), 0.5);
  t.equal(p99RatioAt(s, 'inline', 15000), null, 'inline was not offered 15000');
  t.equal(p99RatioAt(s, 'inline', null), null);
});

t.test('twin points pair the bidder and the twin at each rate both ran', async (t) => {
  const s: ScenarioResult = {
    name: 'banner-small',
    description: '',
    referenceRate: 4000,
    closed: [],
    open: [open('twin', 10000, 500), open('bidder', 10000, 1000), open('bidder', 5000, 400), open('twin', 5000, 400), open('bidder', 20000, 900), open('inline', 20000, 1)],
  };
  t.same(twinPoints(s).map((p) => [p.rate, p.p99Ratio]), [
    [5000, 1],
    [10000, 2],
  ]);
});

t.test('saturation and bid share', async (t) => {
  t.ok(isSaturated(open('b', 1000, 1, 900)));
  t.notOk(isSaturated(open('b', 1000, 1, 990)));
  t.equal(bidShare({ 200: 30, 204: 70, 400: 5 }), 0.3);
  t.equal(bidShare({ 204: 10 }), 0);
  t.equal(bidShare({ 500: 3 }), null);
});

t.test('soak RSS verdict: later peaks within 5% of earlier ones after the warm-up', async (t) => {
  // A sawtooth after a 60 s warm-up: the same peaks again and again is flat.
  const tooth = [200, 210, 220, 230, 205, 215, 225, 230, 201, 212, 224, 229];
  const samples = [{ atS: 0, rssMb: 100 }, ...tooth.map((rssMb, i) => ({ atS: 60 + i * 10, rssMb }))];
  const v = rssVerdict(samples, 60);
  t.equal(v.firstPeakMb, 230);
  t.equal(v.lastPeakMb, 229);
  t.equal(v.minMb, 200);
  t.ok(v.flat, 'a repeating sawtooth is flat, wherever the first sample falls');
  // A leak lifts the later teeth.
  const leak = samples.map((s, i) => ({ ...s, rssMb: s.rssMb + (s.atS >= 60 ? i * 2 : 0) }));
  const lv = rssVerdict(leak, 60);
  t.notOk(lv.flat, `peaks ${lv.firstPeakMb} then ${lv.lastPeakMb} MB`);
  t.throws(() => rssVerdict(samples, 1000), /not enough/);
});

/**
 * The simulator's world is deterministic for a seed: the same users, requests, competing
 * bids and clicks every time; a shorter run is a prefix of a longer one; the draws follow
 * the distributions the truth states; what it sends and the campaigns it writes are valid
 * for the bidder.
 */
import t from 'tap';
import { parseCampaigns } from '../../src/decisioning/campaign-loader';
import { validateBidRequest } from '../../src/openrtb/validate';
import { competingCdf } from '../../bench/simulator/predict';
import { bidRequest, buildWorld, campaignFile, defaultCampaigns, defaultSegments } from '../../bench/simulator/world';

const base = { seed: 7, users: 300, requests: 4_000, segments: defaultSegments(), campaigns: defaultCampaigns(), minToWinShare: 0.3 };

t.test('the same seed gives the same world, byte for byte; another seed another', async (t) => {
  const a = buildWorld(base);
  const b = buildWorld(base);
  t.same(a.users, b.users, 'users');
  t.same(a.draws, b.draws, 'draws');
  const bodies = (w: typeof a) => w.draws.slice(0, 50).map((d) => bidRequest(w, d, 1, 250));
  t.same(bodies(a), bodies(b), 'request bytes');
  const c = buildWorld({ ...base, seed: 8 });
  t.not(c.users[0].id, a.users[0].id, 'another seed, other users');
  t.notSame(c.draws.slice(0, 20), a.draws.slice(0, 20), 'another seed, other draws');
});

t.test('a shorter run is a prefix of a longer one; other segments keep the competing uniforms', async (t) => {
  const long = buildWorld(base);
  const short = buildWorld({ ...base, requests: 500 });
  t.same(short.draws, long.draws.slice(0, 500));
  t.same(short.users, long.users);
  // Common random numbers: the same request meets the same quantile of its competition.
  const shifted = buildWorld({ ...base, segments: base.segments.map((s) => ({ ...s, competition: { ...s.competition, median: s.competition.median * 2 } })) });
  const ratios = new Set(shifted.draws.slice(0, 500).map((d, i) => Math.round((d.competing / long.draws[i].competing) * 1e9) / 1e9));
  t.same([...ratios], [2], 'twice the median, twice every competing bid');
});

t.test('users return, segments follow their weights, min-to-win follows its share', async (t) => {
  const w = buildWorld(base);
  const seen = new Set(w.draws.map((d) => d.user));
  t.ok(seen.size <= base.users && seen.size > base.users * 0.9, `${seen.size} distinct users of ${base.users} over ${base.requests} requests`);
  t.equal(new Set(w.users.map((u) => u.id)).size, base.users, 'user ids are unique');
  const total = base.segments.reduce((s, g) => s + g.weight, 0);
  const n = base.requests;
  base.segments.forEach((s, i) => {
    const share = w.draws.filter((d) => d.segment === i).length / n;
    const p = s.weight / total;
    t.ok(Math.abs(share - p) < 4 * Math.sqrt((p * (1 - p)) / n), `${s.id}: ${share.toFixed(3)} of requests, weight share ${p.toFixed(3)}`);
  });
  const mtw = w.draws.filter((d) => d.withMinToWin).length / n;
  t.ok(Math.abs(mtw - 0.3) < 4 * Math.sqrt((0.3 * 0.7) / n), `min-to-win on ${mtw.toFixed(3)} of requests`);
});

t.test('competing bids follow the stated log-normal', async (t) => {
  const w = buildWorld({ ...base, requests: 20_000 });
  // The probability integral transform: F(c) is uniform when c ~ F. Check its deciles.
  const u = w.draws.map((d) => competingCdf(d.competing, w.segments[d.segment].competition));
  const n = u.length;
  for (let q = 0.1; q < 0.95; q += 0.1) {
    const share = u.filter((x) => x < q).length / n;
    t.ok(Math.abs(share - q) < 4 * Math.sqrt((q * (1 - q)) / n), `P(F(c) < ${q.toFixed(1)}) = ${share.toFixed(4)}`);
  }
  const clicks = w.draws.filter((d) => d.clickU < 0.01).length / n;
  t.ok(Math.abs(clicks - 0.01) < 4 * Math.sqrt(0.0099 / n), `click draws: ${clicks} under a ctr of 1%`);
});

t.test('requests pass the bidder\'s validation; the campaign file passes its loader', async (t) => {
  const w = buildWorld({ ...base, requests: 300 });
  for (const at of [1, 2] as const) {
    const errors = w.draws.map((d) => validateBidRequest(JSON.parse(bidRequest(w, d, at, 250)))).filter((e) => e !== null);
    t.same(errors, [], `at = ${at}: every request valid`);
  }
  const req = JSON.parse(bidRequest(w, w.draws[0], 2, 180));
  const seg = w.segments[w.draws[0].segment];
  t.equal(req.at, 2);
  t.equal(req.tmax, 180);
  t.same(req.imp[0].banner.format, [{ w: seg.w, h: seg.h }]);
  t.equal(req.imp[0].bidfloor, seg.floor);
  t.equal(req.site.publisher.id, seg.publisherId);
  t.equal(req.user.id, w.users[w.draws[0].user].id);
  const file = campaignFile(defaultCampaigns(), defaultSegments(), { 'sim-cpc-a': { dailyUsd: 5, pacing: 'asap' } });
  const parsed = parseCampaigns(file);
  t.ok(parsed.ok, parsed.ok ? 'the campaign file loads' : parsed.errors.join('; '));
  const a = (file as { campaigns: Record<string, unknown>[] }).campaigns[0];
  t.same(a.budget, { dailyUsd: 5 });
  t.equal(a.pacing, 'asap');
  t.equal((a.creatives as unknown[]).length, 3, 'a creative per size');
});

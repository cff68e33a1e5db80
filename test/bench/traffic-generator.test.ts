/**
 * The benchmark traffic generator: deterministic, production-sized, valid, varied, and
 * answered by the real bidder with a realistic share of bids (never a 400).
 */
import t from 'tap';
import { generateRequests, kMaxBytes, kMaxImpsInSizeBand, kMinBytes } from '../../bench/traffic/generator';
import { checkResponseForRequest } from '../../src/openrtb/response-check';
import type { BidRequest } from '../../src/openrtb/types';
import { validateBidRequest } from '../../src/openrtb/validate';
import { postMany, sampleValue, scrape, startTestBidder, type TestBidder } from '../helpers/test-bidder';

t.setTimeout(120_000);

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function parseAll(bufs: Buffer[]): Obj[] {
  return bufs.map((b) => JSON.parse(b.toString('utf8')) as Obj);
}

t.test('options are checked', async (t) => {
  t.throws(() => generateRequests({ seed: 1.5, count: 1 }), /seed must be an integer/);
  t.throws(() => generateRequests({ seed: 1, count: -1 }), /count must be a non-negative integer/);
  t.throws(() => generateRequests({ seed: 1, count: 1, imps: 0 }), /imps must be/);
  t.throws(() => generateRequests({ seed: 1, count: 1, imps: 101 }), /imps must be/);
  t.throws(() => generateRequests({ seed: 1, count: 1, imps: [3, 2] }), /imps must be/);
  t.same(generateRequests({ seed: 1, count: 0 }), [], 'count 0: no requests');
});

t.test('deterministic', async (t) => {
  const a = generateRequests({ seed: 42, count: 300 });
  const b = generateRequests({ seed: 42, count: 300 });
  t.equal(a.length, 300);
  t.ok(a.every((x, i) => x.equals(b[i])), 'same options, same bytes');
  const prefix = generateRequests({ seed: 42, count: 50 });
  t.ok(prefix.every((x, i) => x.equals(a[i])), 'a shorter count is a prefix of a longer one');
  const c = generateRequests({ seed: 43, count: 300 });
  t.ok(c.every((x, i) => !x.equals(a[i])), 'another seed, other requests');
  const ids = new Set(parseAll(a.concat(c)).map((r) => r.id));
  t.equal(ids.size, 600, 'request ids are unique across seeds');
});

t.test('sizes are production-like: 1-4 KB for 1 to 5 impressions', async (t) => {
  t.equal(kMaxImpsInSizeBand, 5);
  for (const imps of [1, 2, 3, 4, 5, [1, 5]] as (number | [number, number])[]) {
    const sizes = generateRequests({ seed: 7, count: 1000, imps }).map((b) => b.length);
    const min = Math.min(...sizes);
    const max = Math.max(...sizes);
    t.ok(min >= kMinBytes && max <= kMaxBytes, `imps ${JSON.stringify(imps)}: ${min}..${max} bytes within [${kMinBytes}, ${kMaxBytes}]`);
  }
});

t.test('impression counts are honoured', async (t) => {
  for (const n of [1, 3, 5, 8]) {
    const reqs = parseAll(generateRequests({ seed: n, count: 100, imps: n }));
    t.ok(reqs.every((r) => r.imp.length === n), `fixed ${n}`);
  }
  const ranged = parseAll(generateRequests({ seed: 9, count: 300, imps: [2, 4] })).map((r) => r.imp.length as number);
  t.ok(ranged.every((n) => n >= 2 && n <= 4), 'range [2, 4] stays in range');
  t.same([...new Set(ranged)].sort(), [2, 3, 4], 'and every count in it occurs');
  const dflt = new Set(parseAll(generateRequests({ seed: 9, count: 300 })).map((r) => r.imp.length as number));
  t.same([...dflt].sort(), [1, 2, 3, 4, 5], 'default is 1 to 5');
});

t.test('every request is a valid, complete OpenRTB 2.6 request', async (t) => {
  const bufs = generateRequests({ seed: 2024, count: 1000 });
  let problems = 0;
  const fail = (i: number, what: string): void => {
    if (problems++ < 10) t.fail(`request ${i}: ${what}\n${bufs[i].toString('utf8')}`);
  };
  for (let i = 0; i < bufs.length; i++) {
    let r: Obj;
    try {
      r = JSON.parse(bufs[i].toString('utf8')) as Obj;
    } catch (e) {
      fail(i, `not JSON: ${String(e)}`);
      continue;
    }
    const err = validateBidRequest(structuredClone(r));
    if (err !== null) fail(i, `invalid: ${JSON.stringify(err)}`);
    if ((r.site === undefined) === (r.app === undefined)) fail(i, 'must have exactly one of site and app');
    const impIds = r.imp.map((x: Obj) => x.id);
    if (new Set(impIds).size !== impIds.length) fail(i, `duplicate imp ids ${impIds}`);
    if (![1, 2].includes(r.at) || !(r.tmax >= 80 && r.tmax <= 300)) fail(i, `at ${r.at} / tmax ${r.tmax}`);
    if (!r.cur.includes('USD')) fail(i, `cur ${r.cur}`);
    if (typeof r.source?.tid !== 'string' || r.regs?.coppa !== 0) fail(i, 'source.tid and regs.coppa');

    const d = r.device;
    for (const k of ['ua', 'ip', 'os', 'osv', 'make', 'model', 'language']) if (typeof d[k] !== 'string' || d[k] === '') fail(i, `device.${k}`);
    if (!Number.isInteger(d.devicetype) || !Number.isInteger(d.connectiontype)) fail(i, 'device.devicetype/connectiontype');
    const g = d.geo;
    if (!/^[A-Z]{3}$/.test(g.country) || !g.region || !g.city || typeof g.lat !== 'number' || typeof g.lon !== 'number' || !g.type) {
      fail(i, `device.geo ${JSON.stringify(g)}`);
    }
    if (r.app !== undefined) {
      if (!UUID.test(d.ifa)) fail(i, `app traffic needs a UUID ifa, got ${d.ifa}`);
      for (const k of ['bundle', 'storeurl']) if (typeof r.app[k] !== 'string') fail(i, `app.${k}`);
      if (!r.app.publisher?.id || !Array.isArray(r.app.cat)) fail(i, 'app.publisher/cat');
    } else {
      for (const k of ['domain', 'page']) if (typeof r.site[k] !== 'string') fail(i, `site.${k}`);
      if (!r.site.publisher?.id || !Array.isArray(r.site.cat)) fail(i, 'site.publisher/cat');
    }
    if (typeof r.user.id !== 'string' || typeof r.user.buyeruid !== 'string') fail(i, 'user.id/buyeruid');
    if (!Array.isArray(r.user.data) || r.user.data.length === 0) fail(i, 'user.data');
    for (const data of r.user.data ?? []) {
      if (!data.segment.length || !data.segment.every((s: Obj) => typeof s.id === 'string')) fail(i, 'user.data segments need ids');
    }
    for (const imp of r.imp as Obj[]) {
      if (!imp.banner && !imp.video && !imp.native) fail(i, `imp ${imp.id} has no media`);
      if (imp.secure !== 1 || typeof imp.tagid !== 'string' || !(imp.bidfloor > 0)) fail(i, `imp ${imp.id} secure/tagid/bidfloor`);
      if (!['USD', 'EUR'].includes(imp.bidfloorcur)) fail(i, `imp ${imp.id} bidfloorcur ${imp.bidfloorcur}`);
      if (imp.native && typeof imp.native.request === 'string') JSON.parse(imp.native.request);
      for (const deal of imp.pmp?.deals ?? []) if (typeof deal.id !== 'string' || !(deal.bidfloor > 0)) fail(i, 'deal id/bidfloor');
    }
  }
  t.equal(problems, 0, 'no problems in 1000 requests');
});

t.test('the traffic is varied the way production traffic is', async (t) => {
  const reqs = parseAll(generateRequests({ seed: 5, count: 2000 }));
  const imps = reqs.flatMap((r) => r.imp as Obj[]);
  const share = (n: number, of: number): number => n / of;
  const count = <T>(xs: T[], p: (x: T) => boolean): number => xs.reduce((n, x) => n + (p(x) ? 1 : 0), 0);
  const within = (what: string, x: number, lo: number, hi: number): void => {
    t.ok(x >= lo && x <= hi, `${what}: ${(100 * x).toFixed(1)}% in [${100 * lo}%, ${100 * hi}%]`);
  };
  within('app requests', share(count(reqs, (r) => r.app !== undefined), reqs.length), 0.2, 0.5);
  within('banner imps', share(count(imps, (i) => i.banner !== undefined), imps.length), 0.6, 0.9);
  within('video imps', share(count(imps, (i) => i.video !== undefined), imps.length), 0.08, 0.3);
  within('native imps', share(count(imps, (i) => i.native !== undefined), imps.length), 0.03, 0.15);
  within('interstitials', share(count(imps, (i) => i.instl === 1), imps.length), 0.03, 0.3);
  within('banners with format[]', share(count(imps, (i) => i.banner?.format !== undefined), imps.length), 0.1, 0.5);
  within('imps with deals', share(count(imps, (i) => i.pmp !== undefined), imps.length), 0.15, 0.45);
  within('private auctions', share(count(imps, (i) => i.pmp?.private_auction === 1), imps.length), 0.1, 0.35);
  within('EUR floors', share(count(imps, (i) => i.bidfloorcur === 'EUR'), imps.length), 0.02, 0.12);
  within('bcat', share(count(reqs, (r) => r.bcat !== undefined), reqs.length), 0.3, 0.6);
  within('badv', share(count(reqs, (r) => r.badv !== undefined), reqs.length), 0.1, 0.4);
  within('top-level ext', share(count(reqs, (r) => r.ext !== undefined), reqs.length), 0.2, 0.6);
  within('at=2', share(count(reqs, (r) => r.at === 2), reqs.length), 0.15, 0.45);
  t.ok(reqs.every((r) => r.user.data?.length > 0), 'every user carries data segments');
  const uas = reqs.map((r) => r.device.ua as string);
  for (const [name, re] of [
    ['iOS', /iPhone|iPad/],
    ['Android', /Android/],
    ['desktop Chrome', /Windows NT.*Chrome\/|Macintosh.*Chrome\//],
    ['desktop Safari', /Macintosh.*Version\/.*Safari/],
    ['Firefox', /Firefox\//],
    ['CTV', /Roku|SMART-TV|Web0S|AFT/],
  ] as const) {
    t.ok(count(uas, (u) => re.test(u)) >= 20, `${name} user agents occur`);
  }
  const sizes = new Set(imps.filter((i) => i.banner?.w).map((i) => `${i.banner.w}x${i.banner.h}`));
  for (const s of ['300x250', '728x90', '320x50', '160x600', '300x600', '970x250', '320x480']) t.ok(sizes.has(s), `banner ${s} occurs`);
  t.ok(new Set(reqs.map((r) => r.device.geo.country)).size >= 20, 'many countries');
});

t.test('the real bidder answers every request, and a realistic share bids', async (t) => {
  let b: TestBidder | undefined;
  t.teardown(() => b?.close());
  // The model the generated benchmark scenarios run (bench/scenarios.ts).
  b = await startTestBidder({ testHooks: false, model: { name: 'ctr-mlp' } });

  const check = async (name: string, imps: number | [number, number], seed: number, lo: number, hi: number): Promise<void> => {
    const bodies = generateRequests({ seed, count: 200, imps });
    const before = await scrape(b!.opsPort);
    // Low concurrency: the share must not depend on how busy the machine is.
    const answers = await postMany(b!.port, bodies, 4);
    const after = await scrape(b!.opsPort);
    const statuses: Record<number, number> = {};
    let bad = 0;
    let bids = 0;
    for (let i = 0; i < answers.length; i++) {
      const a = answers[i];
      statuses[a.status] = (statuses[a.status] ?? 0) + 1;
      if (a.status === 200) {
        bids++;
        const problems = checkResponseForRequest(JSON.parse(bodies[i].toString('utf8')) as BidRequest, JSON.parse(a.body));
        if (problems.length > 0 && bad++ < 5) t.fail(`${name} #${i}: response does not fit the request: ${problems.join('; ')}`);
      } else if (a.status !== 204 && bad++ < 5) {
        t.fail(`${name} #${i}: status ${a.status}: ${a.body}\nrequest: ${bodies[i].toString('utf8')}`);
      }
    }
    t.equal(bad, 0, `${name}: every answer is 200 or 204 (${JSON.stringify(statuses)})`);
    // Requests shed for time are not the traffic's doing; leave them out of the share.
    const delta = (reason: string): number =>
      (sampleValue(after, 'bidder_requests_total', { outcome: 'no_bid', reason }) ?? 0) -
      (sampleValue(before, 'bidder_requests_total', { outcome: 'no_bid', reason }) ?? 0);
    const shed = delta('tmax_exceeded') + delta('overloaded');
    const share = bids / (answers.length - shed);
    t.comment(
      `${name}: ${bids} bids of ${answers.length} (${(100 * share).toFixed(1)}%, ${shed} shed for time); ` +
        `no_candidates ${delta('no_candidates')}, below_floor ${delta('below_floor')}, currency_unsupported ${delta('currency_unsupported')}`,
    );
    t.ok(shed < answers.length / 2, `${name}: most requests were decided, not shed (${shed})`);
    t.ok(share >= lo && share <= hi, `${name}: bid share ${(100 * share).toFixed(1)}% within [${100 * lo}%, ${100 * hi}%]`);
  };

  await check('1-5 imps', [1, 5], 20240601, 0.2, 0.6);
  await check('1 imp', 1, 1, 0.12, 0.5);
  await check('4 imps', 4, 4, 0.25, 0.75);
});

/**
 * The simulator's world: users, segments (publisher × banner size, each with its known
 * competition and click-through rate), campaigns, and the draws of every request. All of
 * it follows from the seed: the same options give the same users, the same requests in
 * the same order, the same competing bids and the same clicks, on every machine.
 *
 * Each quantity has its own mulberry32 stream (native-models/prng.ts, through the traffic
 * generator's Draw), seeded from the seed and the quantity's name, and takes exactly one
 * uniform per request: a shorter run is a prefix of a longer one, and two runs that differ
 * only in their bidder (an experiment arm, a model) meet the very same competing bids and
 * click draws (common random numbers).
 *
 * A competing bid is the log-normal quantile of its uniform (predict.ts), so the draws
 * follow exactly the distribution the predictions integrate.
 */
import { Draw, stableId, type Obj } from '../traffic/draw';
import { device, scene } from '../traffic/scene';
import { competingQuantile } from './predict';
import type { AuctionType, CampaignBudget, Segment, SimCampaign, SimulationOptions } from './types';

/** A user: a stable id (experiments bucket by it) and the device they always come from. */
export interface SimUser {
  id: string;
  device: Obj;
}

/** What the world decided for request `index` before the bidder saw it. */
export interface RequestDraw {
  index: number;
  user: number;
  segment: number;
  /** The highest competing bid, CPM USD. */
  competing: number;
  /** The impression is clicked iff this is under the segment's true ctr (and we won it). */
  clickU: number;
  /** A loss of this request reports ${AUCTION_MIN_TO_WIN}. */
  withMinToWin: boolean;
  /** Which article page of the site. */
  page: number;
}

export interface World {
  seed: number;
  users: SimUser[];
  segments: Segment[];
  campaigns: SimCampaign[];
  draws: RequestDraw[];
}

const kPublishers = [
  { id: 'pub-news', domain: 'news.sim.example', cat: ['IAB12'], price: 1.0, ctr: 1.0 },
  { id: 'pub-sports', domain: 'sports.sim.example', cat: ['IAB17'], price: 0.7, ctr: 1.4 },
  { id: 'pub-recipes', domain: 'recipes.sim.example', cat: ['IAB8'], price: 1.4, ctr: 0.7 },
] as const;

const kSizes = [
  { w: 300, h: 250, weight: 5, price: 1.0, ctr: 0.004 },
  { w: 728, h: 90, weight: 3, price: 0.6, ctr: 0.002 },
  { w: 320, h: 50, weight: 2, price: 0.4, ctr: 0.0025 },
] as const;

/** Median highest competing CPM of a 300x250 on the news site; the others scale from it. */
const kBaseMedianCpm = 4.0;
const kSigma = 0.6;
/** Floors are this share of the segment's median competing bid. */
const kFloorShare = 0.15;

/**
 * Three publishers × three banner sizes: the competition's median runs 1.12 to 5.6 CPM
 * (σ = 0.6 in log space), true CTRs 0.14% to 0.56%, floors at 15% of the median. With the
 * default campaigns an ideal bidder that bids its true value wins about 52% of requests in
 * first price, and its best shaded bids about 30% (predict.ts).
 */
export function defaultSegments(): Segment[] {
  const out: Segment[] = [];
  for (const p of kPublishers) {
    for (const s of kSizes) {
      const median = round4(kBaseMedianCpm * p.price * s.price);
      out.push({
        id: `${p.id}-${s.w}x${s.h}`,
        publisherId: p.id,
        domain: p.domain,
        cat: [...p.cat],
        w: s.w,
        h: s.h,
        weight: s.weight,
        floor: round4(median * kFloorShare),
        competition: { median, sigma: kSigma },
        ctr: round6(s.ctr * p.ctr),
      });
    }
  }
  return out;
}

/** Two CPC campaigns (so the model decides the price) and one flat CPM campaign. */
export function defaultCampaigns(): SimCampaign[] {
  return [
    { id: 'sim-cpc-a', goal: { type: 'CPC', cpcUsd: 1.0 }, maxCpmUsd: 10 },
    { id: 'sim-cpc-b', goal: { type: 'CPC', cpcUsd: 0.6 }, maxCpmUsd: 6, publisherIds: ['pub-sports', 'pub-recipes'] },
    { id: 'sim-cpm-c', goal: { type: 'CPM', cpmUsd: 1.5 }, maxCpmUsd: 1.5 },
  ];
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

function round6(x: number): number {
  return Math.round(x * 1_000_000) / 1_000_000;
}

/** The seed of one named stream. */
function streamSeed(seed: number, name: string): number {
  return stableId(`${seed}/${name}`);
}

type WorldOptions = Pick<SimulationOptions, 'seed' | 'users' | 'requests' | 'segments' | 'campaigns' | 'minToWinShare'>;

export function buildWorld(o: WorldOptions): World {
  const ud = new Draw(streamSeed(o.seed, 'users'));
  const users: SimUser[] = [];
  for (let i = 0; i < o.users; i++) {
    const s = scene(ud);
    // Site traffic only (the segments are sites): a CTV scene becomes a desktop one.
    if (s.platform === 'ctv') s.platform = 'desktop';
    s.app = false;
    users.push({ id: `sim-u${i}-${ud.hex(12)}`, device: device(ud, s) });
  }
  const cum: number[] = [];
  let total = 0;
  for (const s of o.segments) cum.push((total += s.weight));
  const pickUser = new Draw(streamSeed(o.seed, 'request.user'));
  const pickSegment = new Draw(streamSeed(o.seed, 'request.segment'));
  const competition = new Draw(streamSeed(o.seed, 'request.competing'));
  const click = new Draw(streamSeed(o.seed, 'request.click'));
  const minToWin = new Draw(streamSeed(o.seed, 'request.min-to-win'));
  const page = new Draw(streamSeed(o.seed, 'request.page'));
  const draws: RequestDraw[] = [];
  for (let i = 0; i < o.requests; i++) {
    const x = pickSegment.f() * total;
    let segment = 0;
    while (segment < cum.length - 1 && x >= cum[segment]) segment++;
    // The uniform is in [0, 1); its 0 would be a competing bid of 0.
    const u = Math.max(competition.f(), 1e-12);
    draws.push({
      index: i,
      user: Math.floor(pickUser.f() * o.users),
      segment,
      competing: competingQuantile(u, o.segments[segment].competition),
      clickU: click.f(),
      withMinToWin: minToWin.f() < o.minToWinShare,
      page: page.int(1, 500),
    });
  }
  return { seed: o.seed, users, segments: o.segments, campaigns: o.campaigns, draws };
}

/** The request's id, which is also the auction's (${AUCTION_ID}). */
export function requestId(w: World, d: RequestDraw): string {
  return `sim-${w.seed}-${d.index}`;
}

/** The OpenRTB 2.6 bid request of one draw: one banner imp with its segment's floor. */
export function bidRequest(w: World, d: RequestDraw, at: AuctionType, tmaxMs: number): string {
  const seg = w.segments[d.segment];
  return JSON.stringify({
    id: requestId(w, d),
    at,
    tmax: tmaxMs,
    cur: ['USD'],
    imp: [{ id: '1', banner: { w: seg.w, h: seg.h, format: [{ w: seg.w, h: seg.h }], pos: 1 }, bidfloor: seg.floor, bidfloorcur: 'USD' }],
    site: {
      id: `site-${seg.publisherId}`,
      domain: seg.domain,
      page: `https://${seg.domain}/article/${d.page}`,
      cat: seg.cat,
      publisher: { id: seg.publisherId, name: seg.domain },
    },
    device: w.users[d.user].device,
    user: { id: w.users[d.user].id },
  });
}

/** The sizes the world's segments ask for, each once, in first-seen order. */
function sizes(segments: readonly Segment[]): { w: number; h: number }[] {
  const seen = new Set<string>();
  const out: { w: number; h: number }[] = [];
  for (const s of segments) {
    const k = `${s.w}x${s.h}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push({ w: s.w, h: s.h });
    }
  }
  return out;
}

/** The campaign file (docs/campaigns.md) the bidder gets: each campaign with a creative in every size of the world. */
export function campaignFile(campaigns: readonly SimCampaign[], segments: readonly Segment[], budgets: Record<string, CampaignBudget & { pacing?: 'even' | 'asap' }> = {}): object {
  const all = sizes(segments);
  return {
    comment: 'Written by the exchange simulator (bench/simulator/): one banner creative per size of its world.',
    campaigns: campaigns.map((c) => {
      const { pacing: overPacing, ...overBudget } = budgets[c.id] ?? {};
      const budget = { ...c.budget, ...overBudget };
      const pacing = overPacing ?? c.pacing;
      const out: Obj = {
        id: c.id,
        name: `Simulator campaign ${c.id}`,
        advertiserDomain: `${c.id}.advertiser.example`,
        iabCategories: ['IAB19'],
        goal: c.goal,
        maxCpmUsd: c.maxCpmUsd,
        creatives: all.map((s) => ({
          id: `${c.id}-b${s.w}x${s.h}`,
          banner: { w: s.w, h: s.h, adm: `<img src="https://cdn.advertiser.example/${c.id}/${s.w}x${s.h}.png" width="${s.w}" height="${s.h}">` },
        })),
      };
      if (Object.keys(budget).length > 0) out.budget = budget;
      if (pacing !== undefined) out.pacing = pacing;
      if (c.publisherIds !== undefined) out.targeting = { publisherIds: c.publisherIds };
      return out;
    }),
  };
}

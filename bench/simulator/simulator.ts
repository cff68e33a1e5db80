/**
 * The exchange simulator: plays an ad exchange against the real bidder over HTTP on
 * 127.0.0.1, with a world whose truth it knows (world.ts), and keeps the books of what
 * each experiment arm really got (truth.ts).
 *
 * One run: build the world from the seed; start the bidder in this process with the
 * simulator's campaign (and experiments) file; `concurrency` lanes each take the next
 * request and play it (exchange.ts): POST it, run the auction for the bid against the
 * request's competing bid (auction.ts), fire the bid's notices as an exchange would (nurl
 * and burl on a win, lurl on a loss, macros substituted: macros.ts), draw the click with
 * the segment's true CTR and, if clicked, call GET /notice/click; then wait until the bidder's own counters
 * reach what was fired, read them from /metrics, and stop the bidder. Bounded by
 * `requests` and `maxDurationMs`; everything it calls is on the loopback interface.
 */
import { performance } from 'node:perf_hooks';
import { hostBidder, settleBidderFigures } from './bidder-host';
import { ExchangeClient } from './client';
import { Exchange } from './exchange';
import { TruthLedger } from './truth';
import type { SimulationOptions, SimulationResult } from './types';
import { buildWorld, campaignFile, defaultCampaigns, defaultSegments } from './world';

export { kClickPath } from './exchange';

export const kSimulatorErrors = {
  SIM_BAD_OPTIONS: 'the simulation options are invalid',
  SIM_BIDDER_FAILED: 'the bidder did not start',
} as const;
export type SimulatorErrorCode = keyof typeof kSimulatorErrors;

export class SimulatorError extends Error {
  constructor(readonly code: SimulatorErrorCode, readonly errors: string[]) {
    super(`${code}: ${kSimulatorErrors[code]}${errors.length > 0 ? ':\n  - ' + errors.join('\n  - ') : ''}`);
  }
}

export function defaultOptions(): SimulationOptions {
  return {
    seed: 1,
    users: 4_000,
    requests: 20_000,
    warmupRequests: 0,
    concurrency: 8,
    segments: defaultSegments(),
    auctionType: 1,
    minToWinShare: 0.5,
    tmaxMs: 250,
    campaigns: defaultCampaigns(),
    budgets: {},
    experiments: null,
    bidder: {},
    maxDurationMs: 120_000,
    clicks: true,
  };
}

/** The options with defaults filled in, checked as a whole: every problem listed at once. */
export function resolveOptions(partial: Partial<SimulationOptions> = {}): SimulationOptions {
  const o: SimulationOptions = { ...defaultOptions(), ...partial };
  const errors: string[] = [];
  const int = (name: keyof SimulationOptions, lo: number, hi: number): void => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) errors.push(`${name}: must be an integer in ${lo}..${hi}, got ${String(v)}`);
  };
  int('seed', 0, 0xffffffff);
  int('users', 1, 10_000_000);
  int('requests', 0, 10_000_000);
  int('warmupRequests', 0, 10_000_000);
  if (typeof o.warmupRequests === 'number' && typeof o.requests === 'number' && o.warmupRequests > o.requests) errors.push('warmupRequests: at most requests');
  int('concurrency', 1, 256);
  int('tmaxMs', 1, 10_000);
  int('maxDurationMs', 1, 24 * 3600 * 1000);
  if (o.auctionType !== 1 && o.auctionType !== 2) errors.push(`auctionType: must be 1 or 2, got ${String(o.auctionType)}`);
  if (!(o.minToWinShare >= 0 && o.minToWinShare <= 1)) errors.push(`minToWinShare: must be in [0, 1], got ${o.minToWinShare}`);
  if (!Array.isArray(o.segments) || o.segments.length === 0) errors.push('segments: at least one');
  else {
    const ids = new Set<string>();
    o.segments.forEach((s, i) => {
      const at = `segments[${i}]`;
      if (ids.has(s.id)) errors.push(`${at}.id: duplicate "${s.id}"`);
      ids.add(s.id);
      if (!(s.weight > 0)) errors.push(`${at}.weight: must be positive`);
      if (!(s.floor >= 0)) errors.push(`${at}.floor: must be at least 0`);
      if (!(s.competition?.median > 0)) errors.push(`${at}.competition.median: must be positive`);
      if (!(s.competition?.sigma > 0)) errors.push(`${at}.competition.sigma: must be positive`);
      if (!(s.ctr >= 0 && s.ctr <= 1)) errors.push(`${at}.ctr: must be in [0, 1]`);
      if (!(Number.isInteger(s.w) && s.w > 0 && Number.isInteger(s.h) && s.h > 0)) errors.push(`${at}: w and h must be positive integers`);
    });
  }
  if (!Array.isArray(o.campaigns) || o.campaigns.length === 0) errors.push('campaigns: at least one');
  else {
    const ids = new Set(o.campaigns.map((c) => c.id));
    if (ids.size !== o.campaigns.length) errors.push('campaigns: ids must be unique');
    o.campaigns.forEach((c, i) => {
      const v = c.goal.type === 'CPC' ? c.goal.cpcUsd : c.goal.cpmUsd;
      if (!(v > 0)) errors.push(`campaigns[${i}].goal: the price must be positive`);
      if (!(c.maxCpmUsd > 0)) errors.push(`campaigns[${i}].maxCpmUsd: must be positive`);
    });
    for (const id of Object.keys(o.budgets)) if (!ids.has(id)) errors.push(`budgets.${id}: no such campaign`);
  }
  if (o.experiments !== null && !Array.isArray(o.experiments?.experiments)) errors.push('experiments: must be null or { experiments: [...] }');
  if (errors.length > 0) throw new SimulatorError('SIM_BAD_OPTIONS', errors);
  return o;
}

export async function runSimulation(partial: Partial<SimulationOptions> = {}): Promise<SimulationResult> {
  const o = resolveOptions(partial);
  const startedAt = new Date();
  const t0 = performance.now();
  const world = buildWorld(o);
  let host;
  try {
    host = await hostBidder({ campaigns: campaignFile(o.campaigns, o.segments, o.budgets), experiments: o.experiments }, o.bidder);
  } catch (err) {
    throw new SimulatorError('SIM_BIDDER_FAILED', [(err as Error).message]);
  }
  const client = new ExchangeClient(o.concurrency * 2);
  const ledger = new TruthLedger(o.auctionType, o.experiments !== null);
  const exchange = new Exchange(world, { at: o.auctionType, tmaxMs: o.tmaxMs, clicks: o.clicks }, client, ledger, host.port);
  // Warm-up plays go through an exchange of their own whose books are thrown away.
  const warm = new Exchange(world, { at: o.auctionType, tmaxMs: o.tmaxMs, clicks: o.clicks }, client, new TruthLedger(o.auctionType, o.experiments !== null), host.port);
  let next = 0;
  let truncated = false;
  const tTraffic = performance.now();
  const deadline = tTraffic + o.maxDurationMs;
  const lane = async (): Promise<void> => {
    while (next < world.draws.length) {
      if (performance.now() >= deadline) {
        truncated = true;
        return;
      }
      const i = next++;
      await (i < o.warmupRequests ? warm : exchange).play(world.draws[i]);
    }
  };
  let bidderFigures;
  let trafficMs = 0;
  try {
    await Promise.all(Array.from({ length: Math.min(o.concurrency, Math.max(1, world.draws.length)) }, lane));
    trafficMs = performance.now() - tTraffic;
    const taken = { wins: exchange.taken.wins + warm.taken.wins, bills: exchange.taken.bills + warm.taken.bills, losses: exchange.taken.losses + warm.taken.losses };
    bidderFigures = await settleBidderFigures(client, host.opsPort, taken);
  } finally {
    client.close();
    await host.stop();
  }
  const books = ledger.finish();
  return {
    seed: o.seed,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    trafficMs: Math.round(trafficMs),
    truncated,
    options: o,
    ...exchange.counts,
    ...books,
    bidder: bidderFigures,
  };
}

/**
 * Pure arithmetic over measured results: the offered rates to sweep, the reference rate,
 * and the bidder's ratios to its peers (the goals are in goals.ts). No I/O, so it is
 * unit-tested.
 */
import type { OpenLoopResult, PeerRatios, ScenarioResult } from './results';
import { TWIN } from './servers';

/** Fractions of the bidder's closed-loop peak that the open-loop sweep offers. */
export const kSweepFractions = [0.1, 0.25, 0.5, 0.75, 0.9, 1.0, 1.2];
/**
 * Fractions of the twin's closed-loop peak offered to the bidder and the twin in a sweep:
 * the ladder up to the 80% of the twin's capacity that issue 9's p99 goal reaches.
 */
export const kTwinFractions = [0.2, 0.4, 0.6, 0.8];
/** A peer is not offered rates beyond this multiple of its own peak: it is saturated already. */
export const kBeyondPeak = 1.3;
/** An open-loop run that achieved less than this share of the offered rate is saturated. */
export const kSaturated = 0.95;

/** What a scenario asks of the open loop (bench/scenarios.ts). */
export interface OpenPlan {
  open: 'sweep' | 'reference';
  /** Rates the goals name: always offered to the bidder and the twin. */
  goalRates: readonly number[];
}

export function roundRate(rate: number): number {
  return Math.max(100, Math.round(rate / 100) * 100);
}

/** The rate at which every server of a scenario is compared: half the slowest one's peak. */
export function referenceRate(peaks: Record<string, number>): number {
  const slowest = Math.min(...Object.entries(peaks).filter(([name]) => name !== 'ceiling').map(([, rps]) => rps));
  return roundRate(slowest / 2);
}

/** The peak the sweep ladder is cut from: the bidder's, or the twin's (then any) when the bidder did not run. */
function ladderPeak(peaks: Record<string, number>): number {
  if (peaks.bidder !== undefined) return peaks.bidder;
  if (peaks[TWIN] !== undefined) return peaks[TWIN];
  return Math.max(...Object.values(peaks));
}

/**
 * The rates the bidder and the twin are both offered, so that every bidder point has a
 * twin point beside it: the reference and the goal rates and, in a sweep, the bidder's
 * ladder, its half-peak point and the twin's ladder. Neither is capped at its own peak: a
 * rate one of them cannot hold is a finding.
 */
export function comparedRates(peaks: Record<string, number>, plan: OpenPlan, reference: number): number[] {
  const rates = new Set<number>([reference, ...plan.goalRates]);
  if (plan.open === 'sweep') {
    const base = ladderPeak(peaks);
    for (const f of kSweepFractions) rates.add(roundRate(base * f));
    rates.add(halfPeakRate(base));
    const twinPeak = peaks[TWIN];
    if (twinPeak !== undefined) for (const f of kTwinFractions) rates.add(roundRate(twinPeak * f));
  }
  return [...rates].sort((a, b) => a - b);
}

/** The open-loop rates one server is offered, ascending and without duplicates. */
export function ratesFor(server: string, peaks: Record<string, number>, plan: OpenPlan, reference: number): number[] {
  if (server === 'bidder' || server === TWIN) return comparedRates(peaks, plan, reference);
  const rates = new Set<number>([reference]);
  if (plan.open === 'sweep') {
    const base = ladderPeak(peaks);
    for (const f of kSweepFractions) {
      const rate = roundRate(base * f);
      if (rate <= peaks[server] * kBeyondPeak) rates.add(rate);
    }
    // The bidder's half-peak point for the goal, and one beyond the peer's peak.
    rates.add(halfPeakRate(base));
    if (peaks[server] < base) rates.add(roundRate(peaks[server] * 1.1));
  }
  return [...rates].sort((a, b) => a - b);
}

export function halfPeakRate(bidderPeak: number): number {
  return roundRate(bidderPeak / 2);
}

export function isSaturated(r: OpenLoopResult): boolean {
  return r.achievedRate < kSaturated * r.offeredRate;
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

export function openAt(s: ScenarioResult, server: string, rate: number | null | undefined): OpenLoopResult | undefined {
  return rate === null || rate === undefined ? undefined : s.open.find((o) => o.server === server && o.offeredRate === rate);
}

/** bidder p99 / peer p99 at one offered rate, or null when either was not measured there. */
export function p99RatioAt(s: ScenarioResult, peer: string, rate: number | null | undefined): number | null {
  const b = openAt(s, 'bidder', rate);
  const p = openAt(s, peer, rate);
  return b && p && p.latencyUs.p99 > 0 ? round2(b.latencyUs.p99 / p.latencyUs.p99) : null;
}

export function computeRatios(s: ScenarioResult): PeerRatios[] {
  const bidder = s.closed.find((c) => c.server === 'bidder');
  if (!bidder) return [];
  const bidderOpen = openAt(s, 'bidder', s.referenceRate);
  return s.closed
    .filter((c) => c.server !== 'bidder')
    .map((peer) => {
      const peerOpen = openAt(s, peer.server, s.referenceRate);
      const tails = bidderOpen && peerOpen && peerOpen.latencyUs.p99 > 0;
      return {
        scenario: s.name,
        peer: peer.server,
        throughput: round2(bidder.rps / peer.rps),
        cpuPerRequest: round2(bidder.cpuMsPer1000 / peer.cpuMsPer1000),
        p99: tails ? round2(bidderOpen.latencyUs.p99 / peerOpen.latencyUs.p99) : null,
        p999: tails ? round2(bidderOpen.latencyUs.p999 / peerOpen.latencyUs.p999) : null,
      };
    });
}

/** The bidder and the twin at one offered rate that both were measured at. */
export interface TwinPoint {
  rate: number;
  bidder: OpenLoopResult;
  twin: OpenLoopResult;
  /** bidder p99 / twin p99; null when the twin's p99 is 0. */
  p99Ratio: number | null;
}

/** Every offered rate of a scenario at which both the bidder and the twin ran, ascending. */
export function twinPoints(s: ScenarioResult): TwinPoint[] {
  const points: TwinPoint[] = [];
  for (const b of s.open) {
    if (b.server !== 'bidder') continue;
    const twin = openAt(s, TWIN, b.offeredRate);
    if (twin === undefined) continue;
    points.push({ rate: b.offeredRate, bidder: b, twin, p99Ratio: twin.latencyUs.p99 > 0 ? round2(b.latencyUs.p99 / twin.latencyUs.p99) : null });
  }
  return points.sort((a, b) => a.rate - b.rate);
}

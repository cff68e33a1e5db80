/**
 * Pure arithmetic over measured results: the offered rates to sweep, the reference rate,
 * the bidder's ratios to its peers, and the goals. No I/O, so it is unit-tested.
 */
import type { GoalResult, OpenLoopResult, PeerRatios, ScenarioResult } from './results';

/** Fractions of the bidder's closed-loop peak that the open-loop sweep offers. */
export const kSweepFractions = [0.1, 0.25, 0.5, 0.75, 0.9, 1.0, 1.2];
/** A peer is not offered rates beyond this multiple of its own peak: it is saturated already. */
export const kBeyondPeak = 1.3;
/** An open-loop run that achieved less than this share of the offered rate is saturated. */
export const kSaturated = 0.95;

export function roundRate(rate: number): number {
  return Math.max(100, Math.round(rate / 100) * 100);
}

/** The rate at which every server of a scenario is compared: half the slowest one's peak. */
export function referenceRate(peaks: Record<string, number>): number {
  const slowest = Math.min(...Object.entries(peaks).filter(([name]) => name !== 'ceiling').map(([, rps]) => rps));
  return roundRate(slowest / 2);
}

/** The open-loop rates one server is offered, ascending and without duplicates. */
export function ratesFor(server: string, peaks: Record<string, number>, mode: 'sweep' | 'reference', reference: number): number[] {
  const rates = new Set<number>([reference]);
  if (mode === 'sweep') {
    const bidderPeak = peaks.bidder;
    for (const f of kSweepFractions) {
      const rate = roundRate(bidderPeak * f);
      if (rate <= peaks[server] * kBeyondPeak) rates.add(rate);
    }
    // Always include the bidder's half-peak point for the goal, and one beyond each peer's peak.
    rates.add(halfPeakRate(bidderPeak));
    if (server !== 'bidder' && peaks[server] < bidderPeak) rates.add(roundRate(peaks[server] * 1.1));
  }
  return [...rates].sort((a, b) => a - b);
}

export function halfPeakRate(bidderPeak: number): number {
  return roundRate(bidderPeak / 2);
}

export function isSaturated(r: OpenLoopResult): boolean {
  return r.achievedRate < kSaturated * r.offeredRate;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

export function openAt(s: ScenarioResult, server: string, rate: number | null): OpenLoopResult | undefined {
  return rate === null ? undefined : s.open.find((o) => o.server === server && o.offeredRate === rate);
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

function ratio(ratios: PeerRatios[], scenario: string, peer: string): PeerRatios | undefined {
  return ratios.find((r) => r.scenario === scenario && r.peer === peer);
}

/** The goals, as far as the given results measure them. */
export function evaluateGoals(scenarios: ScenarioResult[], ratios: PeerRatios[]): GoalResult[] {
  const goals: GoalResult[] = [];
  const small = scenarios.find((s) => s.name === 'banner-small');
  const naive = ratio(ratios, 'banner-small', 'fastify');
  const inline = ratio(ratios, 'banner-small', 'inline');
  if (naive) {
    goals.push({ goal: 'throughput >= 2.5x the naive peer (Fastify)', measured: `${naive.throughput}x`, met: naive.throughput >= 2.5 });
    goals.push({ goal: 'CPU per request <= 0.5x the naive peer', measured: `${naive.cpuPerRequest}x`, met: naive.cpuPerRequest <= 0.5 });
  }
  if (inline) goals.push({ goal: 'throughput >= 1.3x the inline server', measured: `${inline.throughput}x`, met: inline.throughput >= 1.3 });
  const bidderPeak = small?.closed.find((c) => c.server === 'bidder')?.rps;
  const half = small && bidderPeak ? openAt(small, 'bidder', halfPeakRate(bidderPeak)) : undefined;
  if (half) {
    const p99 = half.latencyUs.p99 / 1000;
    const p999 = half.latencyUs.p999 / 1000;
    goals.push({ goal: `open loop at half the peak (${half.offeredRate} req/s): p99 <= 1 ms`, measured: `${p99.toFixed(2)} ms`, met: p99 <= 1 });
    goals.push({ goal: `open loop at half the peak (${half.offeredRate} req/s): p99.9 <= 3 ms`, measured: `${p999.toFixed(2)} ms`, met: p999 <= 3 });
  }
  const realistic = ratio(ratios, 'banner-realistic', 'inline');
  if (inline && realistic) {
    goals.push({
      goal: "with the realistic model the pool's throughput advantage over inline grows",
      measured: `${realistic.throughput}x (realistic) against ${inline.throughput}x (small)`,
      met: realistic.throughput > inline.throughput,
    });
  }
  return goals;
}

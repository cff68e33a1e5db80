/**
 * The goals the suite checks, each from the issue that set it, evaluated from measured
 * results alone (no I/O, so it is unit-tested). A goal whose figures a run did not measure
 * gets no verdict, except the p99 rates issue 9 names: those are measured in every run
 * that has the bidder and the twin, so a missing one is reported as not met.
 */
import { halfPeakRate, isSaturated, openAt, round2, twinPoints, type TwinPoint } from './analysis';
import type { ClosedLoopResult, GoalResult, PeerRatios, ScenarioResult } from './results';
import { TWIN } from './servers';

/**
 * Issue 9, "The thread layout must earn its keep": the bidder with its defaults against
 * its twin measured in the same run, on the machine at hand.
 */
export const kIssue9 = {
  issue: 9,
  /** Closed-loop throughput, bidder / twin, with both models. */
  throughputVsTwin: 1.0,
  /** Open-loop p99, bidder / twin, at each rate below. */
  p99VsTwin: 1.25,
  /** CPU per request, bidder / twin and bidder / ceiling, banner-small. */
  cpuVsTwin: 1.0,
  cpuVsCeiling: 2.0,
  /** Closed-loop throughput, bidder / Fastify (raises issue 3's 2.5x). */
  throughputVsFastify: 5.0,
  /** With ctr-logreg, p99 from this rate up to kP99LadderTop of the twin's closed-loop peak. */
  p99LadderFrom: 5000,
  p99LadderTop: 0.8,
  /** The rates the issue's check names, by scenario: measured in every run (bench/scenarios.ts). */
  p99Rates: { 'banner-small': [5000, 10000, 20000], 'banner-realistic': [2500, 5000] } as Readonly<Record<string, readonly number[]>>,
  /** The scenarios of "with both models", with the model each runs. */
  models: { 'banner-small': 'ctr-logreg', 'banner-realistic': 'ctr-dnn' } as Readonly<Record<string, string>>,
} as const;

/** Issue 3, the benchmark suite's first goals (its 2.5x Fastify goal is raised by issue 9). */
export const kIssue3 = {
  issue: 3,
  cpuVsFastify: 0.5,
  throughputVsInline: 1.3,
  halfPeakP99Ms: 1,
  halfPeakP999Ms: 3,
} as const;

const msText = (us: number): string => (us / 1000).toFixed(2);
const rateText = (rate: number): string => rate.toLocaleString('en-US');

function ratio(ratios: PeerRatios[], scenario: string, peer: string): PeerRatios | undefined {
  return ratios.find((r) => r.scenario === scenario && r.peer === peer);
}

function closedOf(s: ScenarioResult | undefined, server: string): ClosedLoopResult | undefined {
  return s?.closed.find((c) => c.server === server);
}

/** "0.74x (33,519 / 45,578 req/s)": the ratio with the figures it was taken from. */
function ratioText(x: number, bidder: number, peer: number, unit: string): string {
  return `${x}x (${rateText(bidder)} / ${rateText(peer)} ${unit})`;
}

function saturationNote(p: TwinPoint): string {
  const b = isSaturated(p.bidder);
  const t = isSaturated(p.twin);
  if (b && t) return ' (both saturated)';
  if (b) return ` (bidder saturated: ${rateText(p.bidder.achievedRate)} achieved)`;
  if (t) return ` (twin saturated: ${rateText(p.twin.achievedRate)} achieved)`;
  return '';
}

/**
 * The open-loop rates issue 9's p99 goal covers in one scenario: the named rates, and with
 * ctr-logreg every measured rate from 5k to 80% of the twin's capacity. The capacity is
 * its closed-loop peak, except that a rate the twin itself could not hold open loop is
 * past its capacity in that run (on 2 cores the open-loop generator takes a core from the
 * server, and the twin saturates well below its closed-loop peak): such a rate is left
 * out of the ladder, where the ratio of two queueing delays would say nothing. The named
 * rates are always judged, saturated or not.
 */
export function p99GoalRates(s: ScenarioResult): number[] {
  const rates = new Set<number>(kIssue9.p99Rates[s.name] ?? []);
  const twinPeak = closedOf(s, TWIN)?.rps;
  if (s.name === 'banner-small' && twinPeak !== undefined) {
    for (const p of twinPoints(s)) {
      if (p.rate >= kIssue9.p99LadderFrom && p.rate <= kIssue9.p99LadderTop * twinPeak && !isSaturated(p.twin)) rates.add(p.rate);
    }
  }
  return [...rates].sort((a, b) => a - b);
}

function issue9Goals(scenarios: ScenarioResult[]): GoalResult[] {
  const { issue } = kIssue9;
  const goals: GoalResult[] = [];
  for (const [name, model] of Object.entries(kIssue9.models)) {
    const s = scenarios.find((x) => x.name === name);
    const bidder = closedOf(s, 'bidder');
    const twin = closedOf(s, TWIN);
    if (!s || !bidder || !twin) continue;
    const x = round2(bidder.rps / twin.rps);
    goals.push({
      issue,
      goal: `throughput >= ${kIssue9.throughputVsTwin.toFixed(1)}x the twin's (${name}, ${model})`,
      measured: ratioText(x, bidder.rps, twin.rps, 'req/s'),
      met: x >= kIssue9.throughputVsTwin,
    });
    const points = new Map(twinPoints(s).map((p) => [p.rate, p]));
    for (const rate of p99GoalRates(s)) {
      const goal = `p99 at ${rateText(rate)} req/s <= ${kIssue9.p99VsTwin}x the twin's (${name}, ${model})`;
      const p = points.get(rate);
      if (p === undefined) {
        goals.push({ issue, goal, measured: 'not measured', met: false });
        continue;
      }
      const met = p.bidder.latencyUs.p99 <= kIssue9.p99VsTwin * p.twin.latencyUs.p99;
      const shown = p.p99Ratio === null ? '' : ` = ${p.p99Ratio}x`;
      goals.push({ issue, goal, measured: `${msText(p.bidder.latencyUs.p99)} / ${msText(p.twin.latencyUs.p99)} ms${shown}${saturationNote(p)}`, met });
    }
  }
  const small = scenarios.find((x) => x.name === 'banner-small');
  const bidder = closedOf(small, 'bidder');
  const cpuPeer = (peer: string, limit: number, label: string): void => {
    const c = closedOf(small, peer);
    if (!bidder || !c || !(c.cpuMsPer1000 > 0)) return;
    const x = round2(bidder.cpuMsPer1000 / c.cpuMsPer1000);
    goals.push({
      issue,
      goal: `CPU per request <= ${limit.toFixed(1)}x ${label} (banner-small)`,
      measured: `${x}x (${bidder.cpuMsPer1000} / ${c.cpuMsPer1000} CPU ms per 1,000 requests)`,
      met: x <= limit,
    });
  };
  cpuPeer(TWIN, kIssue9.cpuVsTwin, "the twin's");
  cpuPeer('ceiling', kIssue9.cpuVsCeiling, "the ceiling's");
  const fastify = closedOf(small, 'fastify');
  if (bidder && fastify) {
    const x = round2(bidder.rps / fastify.rps);
    goals.push({ issue, goal: `throughput >= ${kIssue9.throughputVsFastify}x Fastify running the same engine (banner-small)`, measured: ratioText(x, bidder.rps, fastify.rps, 'req/s'), met: x >= kIssue9.throughputVsFastify });
  }
  return goals;
}

function issue3Goals(scenarios: ScenarioResult[], ratios: PeerRatios[]): GoalResult[] {
  const { issue } = kIssue3;
  const goals: GoalResult[] = [];
  const small = scenarios.find((s) => s.name === 'banner-small');
  const naive = ratio(ratios, 'banner-small', 'fastify');
  const inline = ratio(ratios, 'banner-small', 'inline');
  if (naive) goals.push({ issue, goal: `CPU per request <= ${kIssue3.cpuVsFastify}x the naive peer (Fastify)`, measured: `${naive.cpuPerRequest}x`, met: naive.cpuPerRequest <= kIssue3.cpuVsFastify });
  if (inline) goals.push({ issue, goal: `throughput >= ${kIssue3.throughputVsInline}x the inline server`, measured: `${inline.throughput}x`, met: inline.throughput >= kIssue3.throughputVsInline });
  const bidderPeak = closedOf(small, 'bidder')?.rps;
  const half = small && bidderPeak ? openAt(small, 'bidder', halfPeakRate(bidderPeak)) : undefined;
  if (half) {
    const p99 = half.latencyUs.p99 / 1000;
    const p999 = half.latencyUs.p999 / 1000;
    goals.push({ issue, goal: `open loop at half the peak (${half.offeredRate} req/s): p99 <= ${kIssue3.halfPeakP99Ms} ms`, measured: `${p99.toFixed(2)} ms`, met: p99 <= kIssue3.halfPeakP99Ms });
    goals.push({ issue, goal: `open loop at half the peak (${half.offeredRate} req/s): p99.9 <= ${kIssue3.halfPeakP999Ms} ms`, measured: `${p999.toFixed(2)} ms`, met: p999 <= kIssue3.halfPeakP999Ms });
  }
  const realistic = ratio(ratios, 'banner-realistic', 'inline');
  if (inline && realistic) {
    goals.push({
      issue,
      goal: "with the realistic model the pool's throughput advantage over inline grows",
      measured: `${realistic.throughput}x (realistic) against ${inline.throughput}x (small)`,
      met: realistic.throughput > inline.throughput,
    });
  }
  return goals;
}

/** The goals, as far as the given results measure them: issue 9's first, then issue 3's. */
export function evaluateGoals(scenarios: ScenarioResult[], ratios: PeerRatios[]): GoalResult[] {
  return [...issue9Goals(scenarios), ...issue3Goals(scenarios, ratios)];
}

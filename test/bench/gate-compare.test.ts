import t from 'tap';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CODE_PATHS, GATE_FIGURES, gateFigures, gateOpenRates, gateVerdict, limitGoals, runProblems, TWIN_LIMITS, twinFigures, twinRateFor } from '../../bench/gate';
import { checkLimits, compareToBaseline, formatGateReport, formatLimitReport, rebaseline, type Baseline } from '../../bench/gate/compare';
import { measureConfirmed } from '../../bench/gate/confirm';
import type { ClosedLoopResult, OpenLoopResult, PeerRatios, ScenarioResult } from '../../bench/lib/results';

const meta = { createdAt: '2026-11-22T00:00:00.000Z', command: 'npm run bench:baseline', machine: { cpus: 2, cpuModel: 'test', node: 'v20' } };

function baseline(): Baseline {
  return {
    ...meta,
    figures: {
      throughput_vs_inline: { value: 3.0, tolerance: 0.15, better: 'higher', description: 'x' },
      cpu_per_request_vs_inline: { value: 0.4, tolerance: 0.15, better: 'lower', description: 'y' },
    },
  };
}

t.test('within tolerance passes, both directions', async (t) => {
  const r = compareToBaseline({ throughput_vs_inline: 2.7, cpu_per_request_vs_inline: 0.45 }, baseline());
  t.ok(r.passed);
  t.same(r.rows.map((x) => x.verdict), ['ok', 'ok']);
  t.equal(Math.round(r.rows[0].change! * 1000), -100, 'a 10% throughput drop is -10%');
  t.equal(Math.round(r.rows[1].change! * 1000), -125, 'CPU 12.5% up is -12.5% (worse)');
});

t.test('a throughput drop beyond tolerance fails', async (t) => {
  const r = compareToBaseline({ throughput_vs_inline: 2.5, cpu_per_request_vs_inline: 0.4 }, baseline());
  t.notOk(r.passed);
  t.equal(r.rows[0].verdict, 'regressed');
  t.match(formatGateReport(r), /throughput_vs_inline.*REGRESSED/);
});

t.test('a CPU rise beyond tolerance fails; a drop is an improvement', async (t) => {
  t.equal(compareToBaseline({ throughput_vs_inline: 3, cpu_per_request_vs_inline: 0.47 }, baseline()).rows[1].verdict, 'regressed');
  const better = compareToBaseline({ throughput_vs_inline: 3.6, cpu_per_request_vs_inline: 0.3 }, baseline());
  t.ok(better.passed, 'improvements pass');
  t.same(better.rows.map((x) => x.verdict), ['improved', 'improved']);
});

t.test('a figure the run did not measure fails the gate', async (t) => {
  const r = compareToBaseline({ throughput_vs_inline: 3 }, baseline());
  t.notOk(r.passed);
  t.equal(r.rows[1].verdict, 'missing');
  t.notOk(compareToBaseline({ throughput_vs_inline: NaN, cpu_per_request_vs_inline: 0.4 }, baseline()).passed, 'NaN is missing');
});

t.test('a figure that could not be measured, with a reason, is skipped and does not fail', async (t) => {
  const r = compareToBaseline({ throughput_vs_inline: 3 }, baseline(), { cpu_per_request_vs_inline: 'commit abc is not in this clone' });
  t.ok(r.passed);
  t.equal(r.rows[1].verdict, 'skipped');
  t.match(formatGateReport(r), /cpu_per_request_vs_inline skipped: commit abc is not in this clone/);
  const regressed = compareToBaseline({ throughput_vs_inline: 2 }, baseline(), { cpu_per_request_vs_inline: 'no reference' });
  t.notOk(regressed.passed, 'a skipped figure does not excuse a regressed one');
});

t.test('the reference figures are the tight ones: a 20% slowdown against the reference fails', async (t) => {
  const b: Baseline = { ...meta, figures: { throughput_vs_reference: { ...GATE_FIGURES.throughput_vs_reference, value: 1 }, cpu_per_request_vs_reference: { ...GATE_FIGURES.cpu_per_request_vs_reference, value: 1 } } };
  t.ok(compareToBaseline({ throughput_vs_reference: 0.9, cpu_per_request_vs_reference: 1.1 }, b).passed, 'run-to-run noise of 10% passes');
  const slow = compareToBaseline({ throughput_vs_reference: 0.8, cpu_per_request_vs_reference: 1.25 }, b);
  t.same(slow.rows.map((x) => x.verdict), ['regressed', 'regressed']);
});

t.test('rebaseline keeps tolerances and refuses unmeasured figures', async (t) => {
  const template = { a: { better: 'higher' as const, tolerance: 0.2, description: 'a' } };
  const b = rebaseline({ a: 1.23456 }, template, meta);
  t.same(b.figures.a, { better: 'higher', tolerance: 0.2, description: 'a', value: 1.235 });
  t.throws(() => rebaseline({}, template, meta), /not measured/);
});

t.test('gate figures are medians over rounds of in-round ratios', async (t) => {
  const round = (thr: number, cpu: number, p99: number | null): PeerRatios[] => [
    { scenario: 's', peer: 'inline', throughput: thr, cpuPerRequest: cpu, p99, p999: null },
    { scenario: 's', peer: 'fastify', throughput: thr * 2, cpuPerRequest: cpu / 2, p99: null, p999: null },
    { scenario: 's', peer: 'ceiling', throughput: 0.3, cpuPerRequest: 5, p99: null, p999: null },
    { scenario: 's', peer: 'reference', throughput: thr / 3, cpuPerRequest: cpu * 2, p99: null, p999: null },
  ];
  const f = gateFigures([round(3, 0.4, 2), round(1, 0.9, null), round(3.2, 0.5, 4)]);
  t.equal(f.throughput_vs_inline, 3);
  t.equal(f.cpu_per_request_vs_inline, 0.5);
  t.equal(f.throughput_vs_fastify, 6);
  t.equal(f.p99_vs_inline, 3, 'median of the rounds that measured it');
  t.equal(f.throughput_vs_reference, 1);
  t.equal(f.cpu_per_request_vs_reference, 1);
  t.same(Object.keys(f).sort(), Object.keys(GATE_FIGURES).sort(), 'every gated figure is computed');
});

t.test('a run with errors is unsound whatever its ratios', async (t) => {
  const lat = { p50: 1, p90: 1, p99: 1, p999: 1, max: 1, mean: 1 };
  const r: ScenarioResult = {
    name: 'banner-small',
    description: 'round 1',
    referenceRate: 1000,
    closed: [{ server: 'bidder', connections: 64, durationS: 1, generator: 'wrk', requests: 10, rps: 10, latencyUs: lat, non2xx: 3, errors: 0, cpuMsPer1000: 1, rssMb: 1 }],
    open: [],
  };
  t.match(runProblems([r]), [/bidder closed loop had 0 errors and 3 non-2xx/]);
  r.closed[0].non2xx = 0;
  t.same(runProblems([r]), []);
});

// ---- the bidder against its twin: the gate's headline figures, held to fixed limits ----

const lat = (p99: number) => ({ p50: p99 / 4, p90: p99 / 2, p99, p999: p99 * 2, max: p99 * 4, mean: p99 / 4 });

function closedRun(server: string, rps: number, cpu: number): ClosedLoopResult {
  return { server, connections: 64, durationS: 4, generator: 'wrk', requests: rps * 4, rps, latencyUs: lat(1000), non2xx: 0, errors: 0, cpuMsPer1000: cpu, rssMb: 1 };
}

function openRun(server: string, offeredRate: number, p99: number): OpenLoopResult {
  return { server, offeredRate, achievedRate: offeredRate, durationS: 4, sent: 1, completed: 1, errors: 0, status: { 200: 1 }, bidShare: 1, latencyUs: lat(p99), curve: [], cpuMsPer1000: 1, rssMb: 1 };
}

/** One gate round: bidder and twin closed loop, and both open loop at the twin rate (16,000). */
function round(bidderRps: number, bidderCpu: number, bidderP99: number, n = 1): ScenarioResult {
  return {
    name: 'banner-small',
    description: `round ${n}`,
    referenceRate: 3000,
    twinRate: 16000,
    closed: [closedRun('bidder', bidderRps, bidderCpu), closedRun('twin', 40000, 20), closedRun('inline', 20000, 40)],
    open: [openRun('bidder', 3000, 500), openRun('inline', 3000, 500), openRun('bidder', 16000, bidderP99), openRun('twin', 16000, 1000)],
  };
}

t.test('twin figures are medians over rounds of in-round bidder/twin ratios, p99 at the twin rate', async (t) => {
  const f = twinFigures([round(40000, 20, 1200, 1), round(36000, 24, 3000, 2), round(44000, 21, 1300, 3)]);
  t.equal(f.throughput_vs_twin, 1, 'median of 1.0, 0.9, 1.1');
  t.equal(f.cpu_per_request_vs_twin, 1.05);
  t.equal(f.p99_vs_twin, 1.3, 'at 16,000, not at the reference rate');
  t.same(Object.keys(f).sort(), Object.keys(TWIN_LIMITS).sort(), 'every limited figure is computed');
  t.ok(Number.isNaN(twinFigures([{ ...round(1, 1, 1), closed: [closedRun('bidder', 1, 1)], open: [] }]).throughput_vs_twin), 'no twin: not measured');
});

t.test('the twin limits: a bidder at its goals passes, one clearly worse fails, one unmeasured fails', async (t) => {
  const atGoals = checkLimits({ throughput_vs_twin: 1, cpu_per_request_vs_twin: 1, p99_vs_twin: 1.25 }, TWIN_LIMITS);
  t.ok(atGoals.passed);
  t.ok(checkLimits({ throughput_vs_twin: 0.7, cpu_per_request_vs_twin: 1.4, p99_vs_twin: 4 }, TWIN_LIMITS).passed, 'exactly at the limits passes');
  const worse = checkLimits({ throughput_vs_twin: 0.69, cpu_per_request_vs_twin: 1.41, p99_vs_twin: 4.01 }, TWIN_LIMITS);
  t.notOk(worse.passed);
  t.same(worse.rows.map((r) => r.verdict), ['over-limit', 'over-limit', 'over-limit']);
  t.match(formatLimitReport(worse), /throughput_vs_twin\s+>= 1\.00\s+< 0\.70\s+0\.690\s+FAILED/);
  t.match(formatLimitReport(checkLimits({ throughput_vs_twin: 0.95, cpu_per_request_vs_twin: 1, p99_vs_twin: 1 }, TWIN_LIMITS)), /0\.950\s+ok, goal missed/, 'within the limit but short of the goal is said');
  const missing = checkLimits({ throughput_vs_twin: 1, cpu_per_request_vs_twin: NaN }, TWIN_LIMITS);
  t.same(missing.rows.map((r) => r.verdict), ['ok', 'missing', 'missing']);
  t.notOk(missing.passed);
});

t.test('the gate verdict fails on the twin limits even when the baseline figures pass', async (t) => {
  const good = gateVerdict([round(40000, 20, 1200)], null);
  t.ok(good.passed, 'no baseline (writing one): the twin limits alone');
  const slow = gateVerdict([round(26000, 20, 1200)], null);
  t.notOk(slow.passed);
  t.same(slow.limits.rows.filter((r) => r.verdict !== 'ok').map((r) => r.figure), ['throughput_vs_twin']);
  const b: Baseline = { ...meta, figures: { throughput_vs_inline: { value: 1.5, tolerance: 0.4, better: 'higher', description: 'x' } } };
  const v = gateVerdict([round(26000, 20, 1200)], b);
  t.ok(v.baseline?.passed, 'throughput_vs_inline 1.5 as in the baseline');
  t.notOk(v.passed, 'the twin figure fails the gate');
  t.same(limitGoals(v.limits).map((g) => [g.issue, g.met]), [[9, false], [9, true], [9, true]]);
});

t.test('a failing first verdict is re-measured and judged on all the rounds; a passing one is not', async (t) => {
  let calls = 0;
  // The first rounds land in a noisy minute (0.6x the twin); the confirming ones do not.
  const measure = async (): Promise<ScenarioResult[]> => {
    calls++;
    return calls === 1 ? [round(24000, 20, 1200, 1), round(24000, 20, 1200, 2), round(24000, 20, 1200, 3)] : [round(40000, 20, 1200, 4), round(40000, 20, 1200, 5), round(40000, 20, 1200, 6)];
  };
  const firsts: number[] = [];
  const c = await measureConfirmed(measure, (r) => gateVerdict(r, null), { confirm: true, onFirstFailure: (_v, n) => firsts.push(n) });
  t.equal(calls, 2);
  t.same(firsts, [3]);
  t.equal(c.rounds.length, 6);
  t.ok(c.remeasured);
  t.equal(c.verdict.twin.throughput_vs_twin, 0.8, 'median of six rounds: (0.6 + 1.0) / 2');
  t.ok(c.verdict.passed, 'noise in one half does not fail the gate');

  calls = 0;
  const slow = async (): Promise<ScenarioResult[]> => (calls++, [round(26000, 20, 1200), round(26000, 20, 1200), round(26000, 20, 1200)]);
  const s = await measureConfirmed(slow, (r) => gateVerdict(r, null), { confirm: true });
  t.equal(calls, 2);
  t.notOk(s.verdict.passed, 'slower twice fails');

  calls = 0;
  const p = await measureConfirmed(async () => (calls++, [round(40000, 20, 1200)]), (r) => gateVerdict(r, null), { confirm: true });
  t.same([calls, p.remeasured, p.verdict.passed], [1, false, true]);
  calls = 0;
  const n = await measureConfirmed(slow, (r) => gateVerdict(r, null), { confirm: false });
  t.same([calls, n.remeasured, n.verdict.passed], [1, false, false], '--no-confirm');
});

t.test('the twin rate is 40% of the twin peak; only gated figures get open-loop runs', async (t) => {
  t.equal(twinRateFor(45578), 18200);
  t.same(gateOpenRates('bidder', 3400, 18200), [3400, 18200]);
  t.same(gateOpenRates('bidder', 3400, 3400), [3400]);
  t.same(gateOpenRates('twin', 3400, 18200), [18200]);
  t.same(gateOpenRates('inline', 3400, 18200), [3400]);
  for (const name of ['ceiling', 'fastify', 'reference']) t.same(gateOpenRates(name, 3400, 18200), [], name);
});

t.test("every path the reference check watches exists (the engine moved from workers/ to src/engine/)", async (t) => {
  // From the sources: bench/scenarios.ts's REPO_ROOT is right only in dist/.
  const root = resolve(__dirname, '../..');
  for (const p of CODE_PATHS) t.ok(existsSync(join(root, p)), p);
  t.notOk((CODE_PATHS as readonly string[]).includes('workers'));
});

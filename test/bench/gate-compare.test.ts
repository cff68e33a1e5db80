import t from 'tap';
import { GATE_FIGURES, gateFigures, runProblems } from '../../bench/gate';
import { compareToBaseline, formatGateReport, rebaseline, type Baseline } from '../../bench/gate/compare';
import type { PeerRatios, ScenarioResult } from '../../bench/lib/results';

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

import t from 'tap';
import { writeFileSync } from 'node:fs';
import type { ClosedLoopResult, OpenLoopResult, PercentileCurve, SuiteResults } from '../../bench/lib/results';
import { isSaturated, renderHtmlReport } from '../../bench/report/html-report';
import { escapeHtml, hdrPoints, hdrX } from '../../bench/report/svg-chart';

const PEERS = ['ceiling', 'inline', 'fastify', 'twin'];
const ODD_SCENARIO = 'gen<1imp> & "quotes"';
const ODD_SERVER = `fast<ify>&'co'`;

/** An HDR-style curve: 5 ticks per halving distance to 100%, then the max. */
function curve(baseUs: number, tailUs: number): PercentileCurve {
  const out: PercentileCurve = [];
  for (let k = 0; k <= 75; k++) {
    const p = 100 * (1 - 0.5 ** (k / 5));
    const x = hdrX(p);
    out.push([p, Math.round(baseUs * (1 + 0.2 * x) + tailUs * (x / 5) ** 3)]);
  }
  out.push([100, out[out.length - 1][1] * 2]);
  return out;
}

function closed(server: string, rps: number, p50: number): ClosedLoopResult {
  return {
    server, connections: 64, durationS: 10, generator: 'wrk', requests: rps * 10, rps,
    latencyUs: { p50, p90: p50 * 1.5, p99: p50 * 3, p999: p50 * 6, max: p50 * 20, mean: p50 * 1.1 },
    non2xx: 0, errors: 0, cpuMsPer1000: 1e6 / rps, rssMb: 80,
  };
}

function open(server: string, offeredRate: number, achievedRate: number, baseUs: number, tailUs: number): OpenLoopResult {
  const c = curve(baseUs, tailUs);
  const at = (q: number) => c.find(([p]) => p >= q)![1];
  return {
    server, offeredRate, achievedRate, durationS: 10, sent: offeredRate * 10, completed: achievedRate * 10, errors: 0,
    status: { '200': achievedRate * 5, '204': achievedRate * 5 }, bidShare: server === 'bidder' ? 0.5 : null,
    latencyUs: { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: c[c.length - 1][1], mean: at(50) },
    cpuMsPer1000: 100, rssMb: 90, curve: c,
  };
}

const RATES = [2000, 4000, 8000, 16000];
const sweep: OpenLoopResult[] = [];
for (const [i, server] of ['bidder', ...PEERS].entries()) {
  for (const [j, rate] of RATES.entries()) {
    // fastify falls behind at the top rate: achieved 60% of offered, latency explodes.
    const saturated = server === 'fastify' && j === RATES.length - 1;
    sweep.push(open(server, rate, saturated ? rate * 0.6 : rate * 0.999, 300 + 100 * i + 50 * j, saturated ? 2e6 : 4000 * (j + 1)));
  }
}

const fixture: SuiteResults = {
  kind: 'suite',
  startedAt: '2026-11-22T02:00:00.000Z',
  finishedAt: '2026-11-22T02:20:30.000Z',
  command: 'node dist/bench/run.js --scenario banner-small --scenario "gen<1imp>"',
  machine: { cpus: 2, cpuModel: 'Test CPU @ 2.0GHz', node: 'v20.18.0', loadAvg: [0.5, 0.4, 0.3] },
  scenarios: [
    {
      name: 'banner-small',
      description: 'simple banner, small model',
      closed: [closed('bidder', 20000, 2500), ...PEERS.map((p, i) => closed(p, 15000 + 5000 * i, 3000))],
      open: sweep,
      referenceRate: 4000,
    },
    {
      name: ODD_SCENARIO,
      description: 'closed loop only',
      closed: [closed('bidder', 9000, 6000), closed(ODD_SERVER, 7000, 8000)],
      open: [],
      referenceRate: null,
    },
  ],
  ratios: [
    { scenario: 'banner-small', peer: 'inline', throughput: 1.2, cpuPerRequest: 0.8, p99: 1.5, p999: null },
    { scenario: ODD_SCENARIO, peer: ODD_SERVER, throughput: 0.9, cpuPerRequest: 1.1, p99: null, p999: null },
  ],
  goals: [
    { goal: 'throughput >= 1.1x inline', measured: '1.2x', met: true, issue: 3 },
    { goal: 'p99 < inline at 4k req/s', measured: '1.5x', met: false },
  ],
  servers: { bidder: 'the bidder', twin: 'twin (inline-batched): the same engine on one uWS loop; built from commit ab69f35' },
};

const html = renderHtmlReport(fixture);
if (process.env.REPORT_SAMPLE) writeFileSync(process.env.REPORT_SAMPLE, html);

const sections = html.split('<section class="scenario"').slice(1);
const twinPart = html.slice(html.indexOf('<h2 id="twin">'), html.indexOf('<h2>Bidder against peers</h2>'));
const svgs = (s: string) => s.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
const seriesGroup = (svg: string, server: string) => {
  const start = svg.indexOf(`<g class="series" data-server="${escapeHtml(server)}">`);
  return start < 0 ? '' : svg.slice(start, svg.indexOf('</g>', start));
};

t.test('a complete, self-contained HTML document', async (t) => {
  t.match(html, /^<!DOCTYPE html>\n<html lang="en">/);
  for (const tag of ['<head>', '</head>', '<body>', '</body>', '<meta charset="utf-8">', '<title>']) t.ok(html.includes(tag), tag);
  t.match(html, /<\/html>\s*$/);
  t.notMatch(html, /<script/i);
  t.notMatch(html, /<link/i);
  t.notMatch(html, /https?:\/\//i);
  t.notMatch(html, /url\(|@import|@font-face/i);
});

t.test('header, goals and ratios', async (t) => {
  t.ok(html.includes('2 CPUs, Test CPU @ 2.0GHz; Node v20.18.0'));
  t.ok(html.includes('2026-11-22 02:00:00 UTC'));
  t.ok(html.includes('--scenario &quot;gen&lt;1imp&gt;&quot;'), 'command escaped');
  t.ok(html.includes('1 of 2 goals met'));
  t.match(html, /<td class="good">✓<\/td>/);
  t.match(html, /<td class="bad">✗<\/td>/);
  t.match(html, /<td class="num good">1\.20×<\/td><td class="num good">0\.80×<\/td><td class="num bad">1\.50×<\/td><td class="num">—<\/td>/);
  t.match(html, /<td class="num bad">0\.90×<\/td><td class="num bad">1\.10×<\/td>/);
});

t.test('a scenario with open-loop data has both charts, one line per server', async (t) => {
  t.equal(sections.length, 2);
  const charts = svgs(sections[0]);
  t.equal(charts.length, 2, 'percentile chart and throughput-latency chart');
  for (const svg of charts) {
    for (const server of ['bidder', ...PEERS]) {
      t.match(seriesGroup(svg, server), /<path class="line" d="M[\d.]+ [\d.]+(L[\d.]+ [\d.]+)+"/, `${server} line`);
      t.ok(svg.includes(`<g class="legend-item" data-server="${server}">`), `${server} in legend`);
    }
    t.equal((svg.match(/<path class="line"/g) ?? []).length, 5);
  }
  const [percentiles, sweepChart] = charts;
  for (const label of ['0%', '90%', '99%', '99.9%', '99.99%']) t.ok(percentiles.includes(`>${label}</text>`), `tick ${label}`);
  t.ok(percentiles.includes('>latency (ms)</text>'), 'the reference-rate curves span <2 decades: linear y axis');
  t.ok(percentiles.includes('>0</text>'), 'linear y axis from 0');
  t.ok(sweepChart.includes('offered rate (req/s)'));
  t.ok(sweepChart.includes('>16,000</text>'), 'x ticks reach the top rate');
  // bidder colour is the same in both charts
  const colourOf = (svg: string) => /stroke="(#[0-9a-f]{6})"/.exec(seriesGroup(svg, 'bidder'))?.[1];
  t.equal(colourOf(percentiles), colourOf(sweepChart));
  t.not(colourOf(percentiles), /stroke="(#[0-9a-f]{6})"/.exec(seriesGroup(percentiles, 'inline'))?.[1]);
});

t.test('percentile curves spanning more than two decades get a log y axis', async (t) => {
  const wide: SuiteResults = { ...fixture, scenarios: [{ ...fixture.scenarios[0], referenceRate: 16000 }] };
  const [percentiles] = svgs(renderHtmlReport(wide).split('<section class="scenario"')[1]);
  t.ok(percentiles.includes('>latency (ms), log</text>'));
  t.ok(percentiles.includes('at 16,000 req/s offered'));
  t.match(percentiles, /data-server="fastify">(?:(?!<\/g>).)*>max [\d,.]+ ms, saturated</, 'max and saturation in the legend');
});

t.test('saturated points get the hollow marker, others a filled one', async (t) => {
  const sweepChart = svgs(sections[0])[1];
  t.equal(sweep.filter(isSaturated).length, 1);
  t.equal((seriesGroup(sweepChart, 'fastify').match(/class="marker hollow"/g) ?? []).length, 1);
  t.equal((seriesGroup(sweepChart, 'fastify').match(/class="marker"/g) ?? []).length, 3);
  t.notMatch(seriesGroup(sweepChart, 'bidder'), /hollow/);
  t.match(sections[0], /<td class="num bad"[^>]*>9,600 <span class="tag">saturated<\/span><\/td>/);
});

t.test('the bidder against the twin: throughput and CPU side by side per scenario', async (t) => {
  t.ok(twinPart.length > 0, 'a twin section between the goals and the peer ratios');
  t.ok(twinPart.includes('built from commit ab69f35'), "the twin's build, from the results");
  const bars = (twinPart.match(/<svg class="chart bars"[\s\S]*?<\/svg>/g) ?? []);
  t.equal(bars.length, 2, 'throughput and CPU per request');
  const [throughput, cpu] = bars;
  for (const server of ['bidder', 'twin']) {
    t.match(throughput, new RegExp(`<rect class="bar" data-server="${server}" data-category="banner-small"[^>]*height="[1-9]`), `${server} throughput bar`);
    t.match(cpu, new RegExp(`<rect class="bar" data-server="${server}" data-category="banner-small"`), `${server} CPU bar`);
    t.ok(throughput.includes(`<g class="legend-item" data-server="${server}">`), `${server} in the legend`);
  }
  t.notMatch(throughput, /data-category="gen/, 'a scenario without the twin has no pair');
  t.ok(throughput.includes('>0.67×</text>'), 'bidder ÷ twin above the pair: 20,000 / 30,000');
  t.ok(cpu.includes('>1.50×</text>'), 'CPU 50 / 33.3');
  t.ok(throughput.includes('<title>twin, banner-small: 30,000</title>'));
  const rowOf = /<tr><td>banner-small<\/td><td class="num">20,000<\/td><td class="num">30,000<\/td><td class="num bad">0\.67×<\/td><td class="num">50\.0<\/td><td class="num">33\.3<\/td><td class="num bad">1\.50×<\/td><\/tr>/;
  t.match(twinPart, rowOf, 'the table beside the charts');
});

t.test('the bidder against the twin: p99 against offered rate, both on one chart with the goal line', async (t) => {
  const curves = (twinPart.match(/<svg class="chart" [\s\S]*?<\/svg>/g) ?? []);
  t.equal(curves.length, 1, 'one chart for banner-small (the other scenario has no twin)');
  const [c] = curves;
  t.ok(c.includes('banner-small: p99 against offered rate, bidder and twin'));
  for (const server of ['bidder', 'twin']) {
    t.match(seriesGroup(c, server), /<path class="line" d="M[\d.]+ [\d.]+(L[\d.]+ [\d.]+){3}"/, `${server}: a line through the 4 rates`);
    t.equal((seriesGroup(c, server).match(/class="marker"/g) ?? []).length, 4);
  }
  t.match(seriesGroup(c, 'goal: 1.25 × twin'), /stroke-dasharray/, "issue 9's 1.25 × twin, dashed");
  t.notOk(c.includes('data-server="fastify"'), 'only the bidder and the twin');
  t.equal((twinPart.match(/<tr><td>banner-small<\/td><td class="num">[\d,]+<\/td><td class="num">[\d.]+<\/td><td class="num">[\d.]+<\/td><td class="num (good|bad)">/g) ?? []).length, 4, 'a p99 row per rate');
  // The twin peaks at 30,000: issue 9's p99 goal covers 8,000 and 16,000 (5k to 80%), not 2,000 or 4,000.
  t.match(twinPart, /<td class="num">8,000<\/td>(?:(?!<\/tr>).)*<td class="good">✓<\/td><\/tr>/);
  t.match(twinPart, /<td class="num">16,000<\/td>(?:(?!<\/tr>).)*<td class="good">✓<\/td><\/tr>/);
  t.match(twinPart, /<td class="num">2,000<\/td>(?:(?!<\/tr>).)*<td>—<\/td><\/tr>/);
});

t.test("the gate's rounds repeat a scenario: each pair is numbered", async (t) => {
  const gate: SuiteResults = { ...fixture, kind: 'gate', scenarios: [fixture.scenarios[0], fixture.scenarios[0]] };
  const page = renderHtmlReport(gate);
  for (const n of [1, 2]) t.ok(page.includes(`data-category="banner-small #${n}"`), `round ${n}`);
});

t.test('a run without the twin says so', async (t) => {
  const noTwin: SuiteResults = { ...fixture, scenarios: fixture.scenarios.map((s) => ({ ...s, closed: s.closed.filter((c) => c.server !== 'twin'), open: s.open.filter((o) => o.server !== 'twin') })) };
  t.ok(renderHtmlReport(noTwin).includes('The twin did not run beside the bidder.'));
});

t.test('goals name their issue; servers are described', async (t) => {
  t.match(html, /<tr><td>#3<\/td><td>throughput &gt;= 1\.1x inline<\/td>/);
  t.match(html, /<tr><td>—<\/td><td>p99 &lt; inline at 4k req\/s<\/td>/, 'an old result without an issue');
  t.match(html, /<dt><span class="swatch" style="background:#1a7f37"><\/span>twin<\/dt><dd>twin \(inline-batched\)/);
});

t.test('HTML special characters in names are escaped', async (t) => {
  t.notOk(html.includes(ODD_SCENARIO), 'raw scenario name absent');
  t.notOk(html.includes(ODD_SERVER), 'raw server name absent');
  t.ok(html.includes('gen&lt;1imp&gt; &amp; &quot;quotes&quot;'));
  t.ok(html.includes('fast&lt;ify&gt;&amp;&#39;co&#39;'));
});

t.test('a scenario without open-loop data renders its table but no charts', async (t) => {
  const s = sections[1];
  t.match(s, /<table>/);
  t.ok(s.includes('fast&lt;ify&gt;&amp;&#39;co&#39;</td>'));
  t.notOk(s.includes('<svg'));
  t.notOk(s.includes('Open loop'));
});

t.test('HDR percentile points clip at 99.99% and never plot the max', async (t) => {
  t.equal(hdrX(0), 0);
  t.ok(Math.abs(hdrX(99) - 2) < 1e-9);
  const pts = hdrPoints([[0, 1], [90, 2], [99.9, 3], [99.999, 5], [100, 9]]);
  t.same(pts.map((p) => Number(p.x.toFixed(6))), [0, 1, 3, 4]);
  t.ok(pts[3].y > 3 && pts[3].y < 5, 'interpolated onto the 99.99% edge');
  t.same(hdrPoints([[50, 1], [100, 9]]).length, 1);
});

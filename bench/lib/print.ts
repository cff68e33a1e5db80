/** Plain-text tables of suite results, for the terminal and CI logs. */
import { isSaturated, round2, twinPoints } from './analysis';
import type { GoalResult, PeerRatios, ScenarioResult } from './results';
import { TWIN } from './servers';

function ms(us: number): string {
  return (us / 1000).toFixed(2);
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

export function printClosed(s: ScenarioResult): void {
  out(`\n${s.name}: ${s.description}`);
  out(`closed loop, ${s.closed[0]?.connections ?? 0} connections, ${s.closed[0]?.durationS ?? 0} s, by ${s.closed[0]?.generator ?? '?'}`);
  out(
    table(
      ['server', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'non-2xx', 'errors', 'CPU ms/1k', 'RSS MB'],
      s.closed.map((c) => [c.server, c.rps, ms(c.latencyUs.p50), ms(c.latencyUs.p90), ms(c.latencyUs.p99), ms(c.latencyUs.p999), ms(c.latencyUs.max), c.non2xx, c.errors, c.cpuMsPer1000, c.rssMb]),
    ),
  );
}

export function printOpen(s: ScenarioResult): void {
  if (s.open.length === 0) return;
  out(`open loop (latency from intended send time), reference rate ${s.referenceRate} req/s`);
  out(
    table(
      ['server', 'offered', 'achieved', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors', 'non-2xx', 'bid share', 'CPU ms/1k'],
      s.open.map((o) => {
        const non2xx = Object.entries(o.status).reduce((n, [code, count]) => (code.startsWith('2') ? n : n + count), 0);
        return [
          o.server,
          o.offeredRate,
          `${o.achievedRate}${isSaturated(o) ? ' (sat)' : ''}`,
          ms(o.latencyUs.p50),
          ms(o.latencyUs.p90),
          ms(o.latencyUs.p99),
          ms(o.latencyUs.p999),
          ms(o.latencyUs.max),
          o.errors,
          non2xx,
          o.bidShare === null ? '-' : `${(o.bidShare * 100).toFixed(1)}%`,
          o.cpuMsPer1000,
        ];
      }),
    ),
  );
}

export function printRatios(ratios: PeerRatios[]): void {
  if (ratios.length === 0) return;
  out('\nthe bidder as ratios to its peers (throughput: higher is better; CPU/request, p99, p99.9 at the reference rate: lower is better)');
  out(
    table(
      ['scenario', 'peer', 'throughput x', 'CPU/req x', 'p99 x', 'p99.9 x'],
      ratios.map((r) => [r.scenario, r.peer, r.throughput, r.cpuPerRequest, r.p99 ?? '-', r.p999 ?? '-']),
    ),
  );
}

export function printGoals(goals: GoalResult[]): void {
  if (goals.length === 0) return;
  out('\ngoals');
  out(table(['issue', 'goal', 'measured', 'met'], goals.map((g) => [g.issue === undefined ? '-' : `#${g.issue}`, g.goal, g.measured, g.met ? 'yes' : 'NO'])));
}

const ratioCell = (x: number | null): string => (x === null ? '-' : `${x}x`);

/**
 * The bidder beside its twin (the same engine on one loop, bench/lib/servers.ts), each
 * figure from the same run: closed-loop throughput and CPU per request per scenario, then
 * the open-loop p99 at every rate both were offered.
 */
export function printTwin(scenarios: ScenarioResult[]): void {
  const pairs = scenarios
    .map((s) => ({ s, bidder: s.closed.find((c) => c.server === 'bidder'), twin: s.closed.find((c) => c.server === TWIN) }))
    .filter((p) => p.bidder !== undefined && p.twin !== undefined);
  if (pairs.length === 0) return;
  out('\nthe bidder against its twin (the same engine on one uWS loop, batched per loop turn), closed loop');
  out(
    table(
      ['scenario', 'bidder req/s', 'twin req/s', 'throughput x', 'bidder CPU ms/1k', 'twin CPU ms/1k', 'CPU/req x'],
      pairs.map(({ s, bidder, twin }) => [
        s.name,
        bidder!.rps,
        twin!.rps,
        ratioCell(round2(bidder!.rps / twin!.rps)),
        bidder!.cpuMsPer1000,
        twin!.cpuMsPer1000,
        ratioCell(twin!.cpuMsPer1000 > 0 ? round2(bidder!.cpuMsPer1000 / twin!.cpuMsPer1000) : null),
      ]),
    ),
  );
  for (const { s } of pairs) {
    const points = twinPoints(s);
    if (points.length === 0) continue;
    out(`${s.name}: open-loop p99, bidder against twin ((sat): achieved < 95% of offered)`);
    out(
      table(
        ['offered', 'bidder p99 ms', 'twin p99 ms', 'p99 x', 'bidder p99.9 ms', 'twin p99.9 ms'],
        points.map((p) => [
          p.rate,
          `${ms(p.bidder.latencyUs.p99)}${isSaturated(p.bidder) ? ' (sat)' : ''}`,
          `${ms(p.twin.latencyUs.p99)}${isSaturated(p.twin) ? ' (sat)' : ''}`,
          ratioCell(p.p99Ratio),
          ms(p.bidder.latencyUs.p999),
          ms(p.twin.latencyUs.p999),
        ]),
      ),
    );
  }
}

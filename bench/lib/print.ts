/** Plain-text tables of suite results, for the terminal and CI logs. */
import { isSaturated } from './analysis';
import type { GoalResult, PeerRatios, ScenarioResult } from './results';

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
  out(table(['goal', 'measured', 'met'], goals.map((g) => [g.goal, g.measured, g.met ? 'yes' : 'NO'])));
}

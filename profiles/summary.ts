/**
 * What a profiling run writes beside its flame graphs: summary.json (machine-readable) and
 * summary.txt (the same for people: load figures, commands, one self-time table per
 * thread, where the files are). Pure: builds the objects and the text, writes nothing.
 */
import type { LatencySummaryUs } from '../bench/lib/results';
import { formatSelfTimeTable, formatThreadHeadline, type SelfTimeReport, type WindowUs } from './cpu-profile';

export interface LoadFigures {
  mode: 'closed' | 'open';
  generator: 'wrk' | 'node';
  connections: number;
  durationS: number;
  offeredRate: number | null;
  requests: number;
  rps: number;
  latencyUs: LatencySummaryUs;
  non2xx: number;
  errors: number;
}

export interface ThreadReport {
  name: string;
  tid: number;
  /** How it was sampled: 0x's --prof ticks (main) or --cpu-prof (workers). */
  source: string;
  flameGraph: string;
  /** Profile files, relative to the run's folder. */
  data: string[];
  report: SelfTimeReport;
}

export interface RunSummary {
  scenario: string;
  description: string;
  createdAt: string;
  command: string;
  bidder: { env: Record<string, string>; commands: string[] };
  load: LoadFigures;
  /** The load window on process.hrtime's clock (µs), and on the main thread's V8 log's clock. */
  windowUs: WindowUs;
  mainLogWindowUs: WindowUs;
  threads: ThreadReport[];
}

export function describeLoad(l: LoadFigures): string {
  const how =
    l.mode === 'open'
      ? `open loop at ${l.offeredRate} req/s (node generator, ${l.connections} connections)`
      : `closed loop (${l.generator === 'wrk' ? 'wrk -t1' : 'node generator'}, ${l.connections} connections)`;
  const ms = (us: number): string => (us / 1000).toFixed(2);
  return (
    `${how}, ${l.durationS} s: ${l.rps.toLocaleString('en-US')} req/s, p50 ${ms(l.latencyUs.p50)} ms, ` +
    `p99 ${ms(l.latencyUs.p99)} ms, p99.9 ${ms(l.latencyUs.p999)} ms, non-2xx ${l.non2xx}, errors ${l.errors}`
  );
}

export function summaryJson(s: RunSummary, top: number): object {
  return {
    ...s,
    threads: s.threads.map(({ report, ...t }) => ({
      ...t,
      sampledMs: Math.round(report.totalUs / 1000),
      idleMs: Math.round(report.idleUs / 1000),
      gcMs: Math.round(report.gcUs / 1000),
      samples: report.samples,
      top: report.rows.slice(0, top).map((r) => ({ ...r, selfMs: Math.round(r.selfUs / 100) / 10 })),
    })),
  };
}

export function summaryText(s: RunSummary, top: number, outDir: string, repoRoot: string): string {
  return [
    `profile of scenario ${s.scenario} (${s.description}), ${s.createdAt}`,
    `command: ${s.command}`,
    `bidder:  ${Object.entries(s.bidder.env).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    ...s.bidder.commands.map((c) => `         ${c}`),
    `load:    ${describeLoad(s.load)}`,
    '         (under the profilers: compare these figures only with other profiled runs)',
    '',
    `self time per thread over the load window, top ${top} (thread%: of the thread's time; busy%: of its non-idle time;`,
    'idle counts waiting: epoll on the main thread, Atomics.wait in piscina\'s workers):',
    ...s.threads.flatMap((t) => ['', `== ${t.name} (thread ${t.tid}, ${t.source}): ${formatThreadHeadline(t.report)}`, formatSelfTimeTable(t.report, top, repoRoot)]),
    '',
    `outputs in ${outDir}/ (open the .html in a browser; .cpuprofile in Chrome DevTools or speedscope):`,
    ...s.threads.map((t) => `  ${t.flameGraph.padEnd(28)} ${t.name} flame graph, load window; data: ${t.data.join(', ')}`),
    '  threads/worker-<tid>.cpuprofile  whole runs, start-up included',
    '  summary.json, run.log',
    '',
  ].join('\n');
}

/**
 * The attack benchmark's plan and its arithmetic: which phases run with which attack at
 * which size (full or --quick), what each phase's honest traffic got, its p99 as a ratio
 * to the two undisturbed baselines, and the verdict (every honest request must be
 * answered with a bid). Pure: no sockets, no processes.
 */
import type { LoadResult } from '../load/open-loop';
import { table } from '../lib/print';
import type { AttackReport } from './attackers';

export type AttackSpec =
  | { kind: 'none' }
  | { kind: 'slow-senders'; connections: number; declaredBytes: number; trickleBytes: number; intervalMs: number }
  | { kind: 'idle-connections'; connections: number }
  | { kind: 'every-media'; concurrency: number; imps: number }
  | { kind: 'gzip-bomb'; concurrency: number; inflatedBytes: number }
  | { kind: 'ops-latency-storm'; concurrency: number };

export interface PhaseSpec {
  name: string;
  description: string;
  attack: AttackSpec;
}

export interface AttackPlan {
  quick: boolean;
  /** Honest traffic per phase, seconds. */
  phaseS: number;
  /** The attack runs this long before the honest traffic starts, so it is measured in full swing. */
  leadInMs: number;
  /** Pause between phases, so one attack's closing connections do not land in the next. */
  settleMs: number;
  /** Honest open-loop rate, requests per second, and its connections. */
  rate: number;
  connections: number;
  phases: PhaseSpec[];
}

const KiB = 1024;
const MiB = 1024 * KiB;

export interface PlanOptions {
  quick?: boolean;
  rate?: number;
  phaseS?: number;
}

export function attackPlan(o: PlanOptions = {}): AttackPlan {
  const quick = o.quick ?? false;
  const size = (full: number, small: number): number => (quick ? small : full);
  const slow = size(400, 40);
  const idle = size(2_000, 200);
  const heavy = size(16, 4);
  const bombs = size(8, 2);
  const storm = size(32, 4);
  const inflated = size(64 * MiB, 16 * MiB);
  return {
    quick,
    phaseS: o.phaseS ?? size(10, 2),
    leadInMs: size(1_000, 300),
    settleMs: size(1_000, 300),
    rate: o.rate ?? size(2_000, 1_000),
    connections: 64,
    phases: [
      { name: 'baseline', description: 'no attack', attack: { kind: 'none' } },
      {
        name: 'slow-senders',
        description: `${slow} connections declaring a 256 KiB body, trickling 4 bytes every 100 ms`,
        attack: { kind: 'slow-senders', connections: slow, declaredBytes: 256 * KiB, trickleBytes: 4, intervalMs: 100 },
      },
      { name: 'idle-connections', description: `${idle} connections open, nothing sent`, attack: { kind: 'idle-connections', connections: idle } },
      {
        name: 'every-media',
        description: `${heavy} concurrent requests of 100 imps x 4 media (banner+video+native+audio), repeated`,
        attack: { kind: 'every-media', concurrency: heavy, imps: 100 },
      },
      {
        name: 'gzip-bomb',
        description: `${bombs} concurrent gzip bodies inflating to ${inflated / MiB} MiB, repeated`,
        attack: { kind: 'gzip-bomb', concurrency: bombs, inflatedBytes: inflated },
      },
      {
        name: 'ops-latency-storm',
        description: `${storm} concurrent GET /debug/latency (text) on the ops port, repeated`,
        attack: { kind: 'ops-latency-storm', concurrency: storm },
      },
      { name: 'baseline-after', description: 'no attack, after the others', attack: { kind: 'none' } },
    ],
  };
}

/** Connections the plan may hold open at once (attacker side; the bidder holds as many). */
export function peakConnections(plan: AttackPlan): number {
  let peak = 0;
  for (const p of plan.phases) {
    const a = p.attack;
    const n = a.kind === 'slow-senders' || a.kind === 'idle-connections' ? a.connections : a.kind === 'none' ? 0 : a.concurrency;
    peak = Math.max(peak, n);
  }
  return peak + plan.connections;
}

export interface HonestSummary {
  /**
   * Requests the open loop was due to send (rate x duration). A request still waiting for
   * a free connection when the phase ended was never sent, and counts as not answered.
   */
  due: number;
  sent: number;
  completed: number;
  bids: number;
  /** Bids over requests due: 1 means every honest request was answered with a bid. */
  bidShare: number;
  /** Answers that were not 2xx, plus connection errors. */
  non2xx: number;
  /** Due and never answered (not sent, or sent and no answer). */
  unanswered: number;
  status: Record<string, number>;
  latencyMs: { p50: number; p99: number; p999: number; max: number };
  /** p99 over the mean p99 of the baselines; null until both baselines ran. */
  p99VsBaseline: number | null;
}

export interface PhaseResult {
  name: string;
  description: string;
  attack: AttackSpec;
  /** Why the phase did not run, when it did not. */
  skipped?: string;
  honest: HonestSummary | null;
  attacker: AttackReport | null;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export function summarizeHonest(r: LoadResult): HonestSummary {
  const bids = r.status['200'] ?? 0;
  let non2xx = r.errors;
  for (const [code, n] of Object.entries(r.status)) if (!code.startsWith('2')) non2xx += n;
  const due = Math.max(r.sent, Math.floor(r.offeredRate * r.durationS));
  return {
    due,
    sent: r.sent,
    completed: r.completed,
    bids,
    bidShare: due > 0 ? round3(bids / due) : 0,
    non2xx,
    unanswered: Math.max(0, due - r.completed - r.errors),
    status: r.status,
    latencyMs: { p50: r.latencyUs.p50 / 1000, p99: r.latencyUs.p99 / 1000, p999: r.latencyUs.p999 / 1000, max: r.latencyUs.max / 1000 },
    p99VsBaseline: null,
  };
}

/** The mean p99 of the phases without an attack, or null when one did not run. */
export function baselineP99(phases: PhaseResult[]): number | null {
  const base = phases.filter((p) => p.attack.kind === 'none');
  if (base.length === 0 || base.some((p) => p.honest === null)) return null;
  return base.reduce((s, p) => s + p.honest!.latencyMs.p99, 0) / base.length;
}

/** Fills in each phase's p99 ratio to the baselines; returns the baseline p99 (ms). */
export function applyBaselineRatios(phases: PhaseResult[]): number | null {
  const base = baselineP99(phases);
  for (const p of phases) {
    if (p.honest !== null) p.honest.p99VsBaseline = base !== null && base > 0 ? Math.round((p.honest.latencyMs.p99 / base) * 100) / 100 : null;
  }
  return base;
}

/** Every way the run failed: an honest request not answered with a bid, or a phase without honest traffic. */
export function verdict(phases: PhaseResult[]): string[] {
  const failures: string[] = [];
  for (const p of phases) {
    if (p.skipped !== undefined) continue;
    const h = p.honest;
    if (h === null || h.due === 0) {
      failures.push(`${p.name}: no honest traffic was measured`);
      continue;
    }
    if (h.bids < h.due) {
      const other = Object.entries(h.status)
        .filter(([code]) => code !== '200')
        .map(([code, n]) => `${n} x ${code}`);
      if (h.unanswered > 0) other.push(`${h.unanswered} unanswered`);
      if (h.non2xx > 0) other.push(`${h.non2xx} non-2xx or errors`);
      failures.push(`${p.name}: ${h.due - h.bids} of ${h.due} honest requests not answered with a bid (${other.join(', ')})`);
    }
  }
  return failures;
}

function fmt(ms: number): string {
  return ms.toFixed(2);
}

/** "408 x 380, 413 x 12; 800 conns, 12 closed by server". */
export function describeAttacker(a: AttackReport | null): string {
  if (a === null) return '-';
  const codes = Object.entries(a.status)
    .sort(([x], [y]) => Number(x) - Number(y))
    .map(([code, n]) => `${code} x ${n}`);
  const answers = codes.length > 0 ? codes.join(', ') : 'no answers';
  return `${answers}; ${a.requests} sent, ${a.connections} conns (peak ${a.peakOpen}), ${a.closedByServer} closed by server`;
}

export function phaseTable(phases: PhaseResult[]): string {
  return table(
    ['phase', 'honest', 'bid %', 'non-2xx', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'p99/base', 'attacker got'],
    phases.map((p) => {
      const h = p.honest;
      if (h === null) return [p.name, '-', '-', '-', '-', '-', '-', '-', '-', p.skipped ? `skipped: ${p.skipped}` : '-'];
      return [
        p.name,
        h.due,
        `${(h.bidShare * 100).toFixed(1)}%`,
        h.non2xx,
        fmt(h.latencyMs.p50),
        fmt(h.latencyMs.p99),
        fmt(h.latencyMs.p999),
        fmt(h.latencyMs.max),
        h.p99VsBaseline === null ? '-' : `${h.p99VsBaseline.toFixed(2)}x`,
        describeAttacker(p.attacker),
      ];
    }),
  );
}

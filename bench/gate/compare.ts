/**
 * The regression gate's verdict, as pure code: each figure is a ratio of the bidder to a
 * peer measured in the same run (so machine speed cancels out), compared against the
 * committed bench/baseline.json within that figure's tolerance. One peer is the bidder
 * itself as built from the baseline's commit (bench/gate/reference.ts). The figures
 * against the twin are held to fixed limits instead (checkLimits).
 */

export type Better = 'higher' | 'lower';

export interface BaselineFigure {
  value: number;
  /** Allowed relative move in the bad direction, e.g. 0.15 = 15% worse before it fails. */
  tolerance: number;
  better: Better;
  /** What the figure is, for the table. */
  description: string;
}

export interface Baseline {
  createdAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; node: string };
  /** The commit whose bidder was measured: the gate builds it as the reference peer. */
  reference?: { commit: string };
  figures: Record<string, BaselineFigure>;
}

export type Verdict = 'ok' | 'improved' | 'regressed' | 'missing' | 'skipped';

export interface GateRow {
  figure: string;
  description: string;
  baseline: number;
  measured: number | null;
  /** Relative change, signed so that positive is better. */
  change: number | null;
  tolerance: number;
  verdict: Verdict;
  /** Why a skipped figure could not be measured. */
  reason?: string;
}

export interface GateReport {
  rows: GateRow[];
  passed: boolean;
}

/**
 * Compares measured figures with the baseline. A figure regresses when it moved in its
 * bad direction by more than its tolerance; it improved when it moved as far the other
 * way (a hint to re-baseline deliberately); a baseline figure that was not measured fails,
 * unless `unavailable` gives the reason it could not be (it is then reported as skipped).
 */
export function compareToBaseline(measured: Record<string, number>, baseline: Baseline, unavailable: Readonly<Record<string, string>> = {}): GateReport {
  const rows: GateRow[] = Object.entries(baseline.figures).map(([figure, b]) => {
    const reason = unavailable[figure];
    if (reason !== undefined) {
      return { figure, description: b.description, baseline: b.value, measured: null, change: null, tolerance: b.tolerance, verdict: 'skipped', reason };
    }
    const m = measured[figure];
    if (m === undefined || !Number.isFinite(m)) {
      return { figure, description: b.description, baseline: b.value, measured: null, change: null, tolerance: b.tolerance, verdict: 'missing' };
    }
    const raw = (m - b.value) / b.value;
    const change = b.better === 'higher' ? raw : -raw;
    const verdict: Verdict = change < -b.tolerance ? 'regressed' : change > b.tolerance ? 'improved' : 'ok';
    return { figure, description: b.description, baseline: b.value, measured: m, change, tolerance: b.tolerance, verdict };
  });
  return { rows, passed: rows.every((r) => r.verdict === 'ok' || r.verdict === 'improved' || r.verdict === 'skipped') };
}

/** A new baseline from measured figures, keeping each figure's tolerance and direction. */
export function rebaseline(measured: Record<string, number>, template: Record<string, Omit<BaselineFigure, 'value'>>, meta: Omit<Baseline, 'figures'>): Baseline {
  const figures: Record<string, BaselineFigure> = {};
  for (const [name, spec] of Object.entries(template)) {
    const value = measured[name];
    if (value === undefined || !Number.isFinite(value)) throw new Error(`cannot baseline ${name}: it was not measured`);
    figures[name] = { ...spec, value: Math.round(value * 1000) / 1000 };
  }
  return { ...meta, figures };
}

export function formatGateReport(report: GateReport): string {
  const headers = ['figure', 'baseline', 'measured', 'change', 'tolerance', 'verdict'];
  const rows = report.rows.map((r) => [
    r.figure,
    r.baseline.toFixed(3),
    r.measured === null ? '-' : r.measured.toFixed(3),
    r.change === null ? '-' : `${r.change >= 0 ? '+' : ''}${(r.change * 100).toFixed(1)}%`,
    `${(r.tolerance * 100).toFixed(0)}%`,
    r.verdict === 'regressed' ? 'REGRESSED' : r.verdict === 'missing' ? 'MISSING' : r.verdict,
  ]);
  const cells = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const body = [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  for (const r of report.rows) if (r.verdict === 'skipped') body.push(`${r.figure} skipped: ${r.reason}`);
  body.push('', '(change: positive is better; a figure fails when it is worse than its tolerance)');
  return body.join('\n');
}

/**
 * A figure held to a fixed limit rather than to the baseline: the bidder against its
 * twin (issue 9), whose goal is a ratio in itself, whatever the bidder measured before.
 */
export interface Limit {
  better: Better;
  /** Fails when the figure is beyond this (below it when higher is better). */
  limit: number;
  /** The goal for the figure, for the table. */
  goal: number;
  description: string;
}

export interface LimitRow {
  figure: string;
  description: string;
  goal: number;
  limit: number;
  better: Better;
  measured: number | null;
  verdict: 'ok' | 'over-limit' | 'missing';
}

export interface LimitReport {
  rows: LimitRow[];
  passed: boolean;
}

/** Checks each limited figure; one the run did not measure fails (the twin always runs). */
export function checkLimits(measured: Record<string, number>, limits: Record<string, Limit>): LimitReport {
  const rows: LimitRow[] = Object.entries(limits).map(([figure, l]) => {
    const m = measured[figure];
    const base = { figure, description: l.description, goal: l.goal, limit: l.limit, better: l.better };
    if (m === undefined || !Number.isFinite(m)) return { ...base, measured: null, verdict: 'missing' };
    const over = l.better === 'higher' ? m < l.limit : m > l.limit;
    return { ...base, measured: m, verdict: over ? 'over-limit' : 'ok' };
  });
  return { rows, passed: rows.every((r) => r.verdict === 'ok') };
}

export function formatLimitReport(report: LimitReport): string {
  const headers = ['figure', 'goal', 'fails if', 'measured', 'verdict'];
  const rows = report.rows.map((r) => [
    r.figure,
    `${r.better === 'higher' ? '>=' : '<='} ${r.goal.toFixed(2)}`,
    `${r.better === 'higher' ? '<' : '>'} ${r.limit.toFixed(2)}`,
    r.measured === null ? '-' : r.measured.toFixed(3),
    r.verdict === 'over-limit' ? 'FAILED' : r.verdict === 'missing' ? 'MISSING' : r.measured !== null && meetsGoal(r) ? 'ok, goal met' : 'ok, goal missed',
  ]);
  const cells = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function meetsGoal(r: LimitRow): boolean {
  return r.measured !== null && (r.better === 'higher' ? r.measured >= r.goal : r.measured <= r.goal);
}

/**
 * The experiment report (experiment-report.ts) as text for a terminal: per experiment its
 * control and sample-ratio verdict, a table of the arms' figures, and each arm's lifts over
 * the control with their 95% intervals (`*`: the interval excludes 0). Ids come from the
 * log (config, exchanges): control characters in them are escaped, never printed raw.
 */
import type { ArmReport, ExperimentReport, ReportCounts } from './experiment-report';
import { kSrmThreshold, type Lift, type SrmResult } from './experiment-stats';

/** `s` with C0/C1 control characters as \u escapes (a log's ids must not drive the terminal). */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function formatPercent(x: number | null, digits = 2): string {
  return x === null ? '-' : `${(x * 100).toFixed(digits)}%`;
}

export function formatSignedPercent(x: number, digits = 2): string {
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(digits)}%`;
}

export function formatPValue(p: number): string {
  return p >= 1e-4 ? p.toFixed(4) : p.toExponential(2);
}

export function formatLift(l: Lift | null): string {
  if (l === null) return 'n/a';
  return `${formatSignedPercent(l.lift)} [${formatSignedPercent(l.low)}, ${formatSignedPercent(l.high)}]${l.significant ? ' *' : ''}`;
}

/** One line: the sample-ratio verdict. */
export function srmVerdict(srm: SrmResult | null): string {
  if (srm === null) return 'sample ratio: not checked (needs two or more arms with exposure records and their weights)';
  const figures = `chi2 ${srm.chi2.toFixed(3)}, df ${srm.df}, p = ${formatPValue(srm.pValue)}`;
  return srm.mismatch
    ? `SAMPLE RATIO MISMATCH (${figures} < ${kSrmThreshold}): the split does not follow the weights; do not trust the lifts`
    : `sample ratio OK (${figures})`;
}

function money(x: number | null, digits = 4): string {
  return x === null ? '-' : x.toFixed(digits);
}

function surplusText(a: ArmReport): string {
  return a.surplus.length === 0 ? '-' : a.surplus.map((s) => `${s.amount.toFixed(4)} ${printable(s.currency)}`).join(' ');
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => '  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
}

export function formatExperiment(e: ExperimentReport): string[] {
  const lines: string[] = [];
  const control = e.controlArmId === null ? 'no control arm' : `control ${printable(e.controlArmId)} (${e.controlSource === 'option' ? '--control' : 'exposure records'})`;
  lines.push(`experiment ${printable(e.experimentId)}: ${control}`);
  lines.push(`  ${srmVerdict(e.srm)}`);
  const head = ['arm', 'weight', 'requests', 'bids', 'bid rate', 'wins', 'win rate', 'bills', 'spend USD', 'eCPM USD', 'spend/req USD'];
  if (e.hasClicks) head.push('clicks', 'CTR');
  head.push('surplus');
  const rows = [head];
  for (const a of e.arms) {
    const row = [
      printable(a.armId) + (a.control ? ' (control)' : ''), a.weight > 0 ? String(a.weight) : '-', String(a.requests), String(a.bids),
      formatPercent(a.bidRate), String(a.wins), formatPercent(a.winRate), String(a.bills), money(a.spendUsd), money(a.ecpmUsd),
      money(a.spendPerRequestUsd, 6),
    ];
    if (e.hasClicks) row.push(String(a.clicks), formatPercent(a.ctr));
    row.push(surplusText(a));
    rows.push(row);
  }
  lines.push(...table(rows));
  const treated = e.arms.filter((a) => a.lift !== null);
  if (treated.length > 0) {
    lines.push(`  lift over control ${printable(e.controlArmId ?? '')}, 95% CI (* excludes 0):`);
    const liftRows = [['arm', 'bid rate', 'win rate', ...(e.hasClicks ? ['CTR'] : []), 'spend/request']];
    for (const a of treated) {
      const l = a.lift!;
      liftRows.push([printable(a.armId), formatLift(l.bidRate), formatLift(l.winRate), ...(e.hasClicks ? [formatLift(l.ctr)] : []), formatLift(l.spendPerRequest)]);
    }
    lines.push(...table(liftRows));
  }
  return lines;
}

export function formatReport(experiments: readonly ExperimentReport[], counts: ReportCounts): string[] {
  const lines: string[] = [];
  if (experiments.length === 0) lines.push('no experiment records');
  for (const e of experiments) {
    lines.push(...formatExperiment(e), '');
  }
  lines.push(`${counts.records} records read, ${counts.testRecords} test records left out` +
    (counts.malformedArms > 0 ? `, ${counts.malformedArms} malformed arm pairs left out` : ''));
  lines.push('surplus: sum of (unshaded value - clearing price) / 1000 per billed impression, in the bid currency; the value is the model\'s estimate');
  return lines;
}

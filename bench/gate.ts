/**
 * The CI gate: a short run of the goals scenario (banner-small) with the bidder and its
 * peers alternated over a few rounds, reduced to ratios of the bidder to each peer
 * (median over rounds, each ratio taken within one round). Its headline figures are the
 * bidder against its twin (the same engine on one uWS loop, issue 9): throughput, CPU per
 * request and p99 at the twin rate, held to fixed limits (TWIN_LIMITS). Beside them, the
 * regression figures compared against the committed bench/baseline.json, the tight ones
 * against the reference: the bidder built from the commit the baseline was measured on
 * (bench/gate/reference.ts). Exits 1 when either fails (after a confirming re-measure),
 * printing what moved.
 *
 *   npm run bench:gate                       compare against bench/baseline.json
 *   npm run bench:baseline                   measure and rewrite bench/baseline.json (commit it deliberately)
 *   node dist/bench/gate.js [--rounds N] [--baseline FILE] [--write-baseline] [--no-confirm]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  checkLimits,
  compareToBaseline,
  formatGateReport,
  formatLimitReport,
  rebaseline,
  type Baseline,
  type BaselineFigure,
  type GateReport,
  type Limit,
  type LimitReport,
} from './gate/compare';
import { measureConfirmed } from './gate/confirm';
import { buildReference, headCommit } from './gate/reference';
import { computeRatios, p99RatioAt, referenceRate, roundRate } from './lib/analysis';
import { measureClosed, measureOpen, closedLoopGenerator, type ClosedLoopPlan } from './lib/measure';
import { startServer } from './lib/proc';
import { printClosed, printOpen, printRatios, printTwin } from './lib/print';
import type { ClosedLoopResult, GoalResult, OpenLoopResult, PeerRatios, ScenarioResult, SuiteResults } from './lib/results';
import { SERVER_DESCRIPTIONS, serverLaunch, TWIN, type ServerName } from './lib/servers';
import { writeResults } from './lib/write-results';
import { writeRequestSet } from './load/request-set';
import { machineInfo } from './run';
import { findScenario, REPO_ROOT, scenarioBodies, unavailableReason } from './scenarios';

const kScenario = 'banner-small';
/** The twin right after the bidder: the headline ratio is taken between neighbours in time. */
const kServers: ServerName[] = ['bidder', TWIN, 'ceiling', 'inline', 'fastify'];
const kPlan: ClosedLoopPlan = { connections: 64, warmupS: 1, durationS: 4 };
const kOpenDurationS = 4;
const kDefaultRounds = 3;
const BASELINE_FILE = resolve(REPO_ROOT, 'bench/baseline.json');
/**
 * What the reference commit must hold unchanged for the working tree to be that commit's
 * bidder. The engine is under src/ (src/engine/) since the workers/ folder went.
 */
export const CODE_PATHS = ['src', 'native-models', 'campaigns', 'package.json', 'package-lock.json', 'tsconfig.json'] as const;

/**
 * The open-loop rate of the bidder-vs-twin p99 figure, as a share of the twin's
 * closed-loop peak in round 1. A share rather than a fixed rate, so both run at the same
 * load on any host (a fixed 10k req/s is a light load on one CI machine and near the knee
 * on a slower one); 0.4 because on 2 cores the open-loop generator shares the CPUs: the
 * twin measured p99 1.6 ms at 20k req/s (44% of its closed-loop 45.6k) and 8 ms at 24.9k
 * (55%, issue 9), so at 40% the tail is the server's, not queueing at the knee. It lies
 * inside the range of issue 9's goal (5k req/s to 80% of the twin's capacity).
 */
export const kTwinRateShare = 0.4;

export function twinRateFor(twinPeak: number): number {
  return roundRate(twinPeak * kTwinRateShare);
}

/**
 * The figures the gate checks against the baseline, with how far each may move the wrong
 * way. Ratios to the reference are the regression detectors (the same code measures 1.0
 * on any machine); ratios to the other peers also move with the machine (measured: -39%
 * throughput and +77% CPU against inline between two 2-core hosts, same code), so their
 * tolerances only catch what no host explains.
 */
export const GATE_FIGURES: Record<string, Omit<BaselineFigure, 'value'>> = {
  throughput_vs_reference: { better: 'higher', tolerance: 0.15, description: 'bidder req/s / reference bidder req/s (closed loop)' },
  cpu_per_request_vs_reference: { better: 'lower', tolerance: 0.15, description: 'bidder CPU per request / reference bidder (closed loop)' },
  throughput_vs_ceiling: { better: 'higher', tolerance: 0.4, description: 'bidder req/s / ceiling req/s (closed loop)' },
  throughput_vs_inline: { better: 'higher', tolerance: 0.4, description: 'bidder req/s / inline req/s (closed loop)' },
  throughput_vs_fastify: { better: 'higher', tolerance: 0.4, description: 'bidder req/s / Fastify req/s (closed loop)' },
  cpu_per_request_vs_inline: { better: 'lower', tolerance: 0.4, description: 'bidder CPU per request / inline (closed loop)' },
  cpu_per_request_vs_fastify: { better: 'lower', tolerance: 0.4, description: 'bidder CPU per request / Fastify (closed loop)' },
  p99_vs_inline: { better: 'lower', tolerance: 1.5, description: 'bidder p99 / inline p99 (open loop, reference rate)' },
};
const REFERENCE_FIGURES = ['throughput_vs_reference', 'cpu_per_request_vs_reference'] as const;

/**
 * The headline: the bidder against its twin in the same rounds, held to fixed limits.
 * The goals (issue 9) are 1.0x throughput, 1.0x CPU per request and 1.25x p99, and the
 * report says how far each is from its goal. The limits are tripwires for gross layout
 * regressions, not the goals: the layout that closed issue 9 measured medians of 0.91-0.93x,
 * 1.12-1.13x and 1.06-1.15x against the twin with the Node generator, and 0.79x, 1.29x and
 * 1.77x with wrk (6-round gates, 2026-12-02, the same commit; its extra CPU over the twin
 * is the front end's metrics and bookkeeping, README "The thread layout against its
 * twin"), and a build against itself moves by 10-15% in throughput and CPU and by a third
 * in its tail; the tail ratio itself ran 1.1x, 3.1x and 2.6x in three rounds of one gate.
 * Hence 0.70, 1.40 and 4.0: a layout that hands batches across threads where cores are
 * scarce again (1.53x CPU, and up to 4.9x p99, where issue 9 began) fails; the p99 limit
 * catches only a tail that noise cannot explain. Finer regressions are the reference
 * figures' to catch (15%, against this layout's baseline).
 */
export const TWIN_LIMITS: Record<string, Limit> = {
  throughput_vs_twin: { better: 'higher', goal: 1.0, limit: 0.7, description: 'bidder req/s / twin req/s (closed loop)' },
  cpu_per_request_vs_twin: { better: 'lower', goal: 1.0, limit: 1.4, description: 'bidder CPU per request / twin (closed loop)' },
  p99_vs_twin: { better: 'lower', goal: 1.25, limit: 4.0, description: `bidder p99 / twin p99 (open loop at ${kTwinRateShare * 100}% of the twin's peak)` },
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function medianOf(xs: (number | null | undefined)[]): number {
  const measured = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return measured.length > 0 ? median(measured) : NaN;
}

/** The gate's figures from the per-round ratios: the median of each over the rounds. */
export function gateFigures(rounds: PeerRatios[][]): Record<string, number> {
  const pick = (peer: string, f: (r: PeerRatios) => number | null): number => medianOf(rounds.map((round) => round.find((r) => r.peer === peer)).map((r) => (r ? f(r) : null)));
  return {
    throughput_vs_reference: pick('reference', (r) => r.throughput),
    cpu_per_request_vs_reference: pick('reference', (r) => r.cpuPerRequest),
    throughput_vs_ceiling: pick('ceiling', (r) => r.throughput),
    throughput_vs_inline: pick('inline', (r) => r.throughput),
    throughput_vs_fastify: pick('fastify', (r) => r.throughput),
    cpu_per_request_vs_inline: pick('inline', (r) => r.cpuPerRequest),
    cpu_per_request_vs_fastify: pick('fastify', (r) => r.cpuPerRequest),
    p99_vs_inline: pick('inline', (r) => r.p99),
  };
}

/** The headline figures: bidder against twin, each taken within a round, median over rounds. */
export function twinFigures(perRound: ScenarioResult[]): Record<string, number> {
  const closed = (r: ScenarioResult, server: string) => r.closed.find((c) => c.server === server);
  const within = (f: (bidder: ClosedLoopResult, twin: ClosedLoopResult) => number) =>
    medianOf(
      perRound.map((r) => {
        const b = closed(r, 'bidder');
        const t = closed(r, TWIN);
        return b && t ? f(b, t) : null;
      }),
    );
  return {
    throughput_vs_twin: within((b, t) => b.rps / t.rps),
    cpu_per_request_vs_twin: within((b, t) => b.cpuMsPer1000 / t.cpuMsPer1000),
    p99_vs_twin: medianOf(perRound.map((r) => p99RatioAt(r, TWIN, r.twinRate))),
  };
}

/**
 * The open-loop rates one server is measured at in a round: only what a figure reads, so
 * the twin fits into the rounds without making them longer (the ceiling, Fastify and the
 * reference are gated on their closed loop alone).
 */
export function gateOpenRates(name: string, reference: number, twinRate: number): number[] {
  if (name === 'bidder') return [...new Set([reference, twinRate])];
  if (name === TWIN) return [twinRate];
  if (name === 'inline') return [reference];
  return [];
}

export interface GateVerdict {
  figures: Record<string, number>;
  twin: Record<string, number>;
  /** Null when writing a baseline. */
  baseline: GateReport | null;
  limits: LimitReport;
  passed: boolean;
}

/** The verdict on measured rounds: the twin limits, and the baseline's figures when there is one. */
export function gateVerdict(perRound: ScenarioResult[], baseline: Baseline | null, unavailable: Readonly<Record<string, string>> = {}): GateVerdict {
  const figures = gateFigures(perRound.map(computeRatios));
  const twin = twinFigures(perRound);
  const report = baseline === null ? null : compareToBaseline(figures, baseline, unavailable);
  const limits = checkLimits(twin, TWIN_LIMITS);
  return { figures, twin, baseline: report, limits, passed: (report?.passed ?? true) && limits.passed };
}

/** The twin limits as goals, for the results file and the HTML report. */
export function limitGoals(limits: LimitReport): GoalResult[] {
  return limits.rows.map((r) => ({
    issue: 9,
    goal: `gate: ${r.figure} ${r.better === 'higher' ? '>=' : '<='} ${r.limit} (goal ${r.goal}): ${r.description}`,
    measured: r.measured === null ? 'not measured' : `${r.measured.toFixed(2)}x`,
    met: r.verdict === 'ok',
  }));
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

interface GateServer {
  name: string;
  root: string;
  launch: ServerName;
}

/** The servers of a round: the bidder, the twin, the reference (when built), then the peers. */
function gateServers(referenceRoot: string | null): GateServer[] {
  const list: GateServer[] = kServers.map((name) => ({ name, root: REPO_ROOT, launch: name }));
  if (referenceRoot !== null) list.splice(2, 0, { name: 'reference', root: referenceRoot, launch: 'bidder' });
  return list;
}

async function measureRounds(rounds: number, referenceRoot: string | null): Promise<ScenarioResult[]> {
  const s = findScenario(kScenario);
  const why = unavailableReason(s);
  if (why) throw new Error(`the gate cannot run: ${why}`);
  const dir = mkdtempSync(join(tmpdir(), 'bidder-gate-'));
  const set = writeRequestSet(dir, s.name, scenarioBodies(s), s.gzip);
  const perRound: ScenarioResult[] = [];
  let rates: { reference: number; twin: number } | null = null;
  const servers = gateServers(referenceRoot);
  const start = (g: GateServer) => startServer(g.root, { ...serverLaunch(g.launch, s.env), name: g.name });
  const measureOpenAt = async (server: Awaited<ReturnType<typeof start>>, list: number[], round: number, open: OpenLoopResult[]): Promise<void> => {
    for (const rate of list) {
      const o = await measureOpen(server, set, rate, kOpenDurationS, kPlan.connections);
      open.push(o);
      log(`  round ${round} ${server.name} at ${rate} req/s: p99 ${(o.latencyUs.p99 / 1000).toFixed(2)} ms`);
    }
  };
  try {
    for (let round = 1; round <= rounds; round++) {
      const closed: ClosedLoopResult[] = [];
      const open: OpenLoopResult[] = [];
      // Round 1 finds every server's peak before any open-loop run, to set the rates; later
      // rounds measure each server's closed and open loop in one start.
      for (const g of servers) {
        const server = await start(g);
        try {
          const c = await measureClosed(server, set, kPlan);
          closed.push(c);
          log(`  round ${round} ${g.name}: ${c.rps} req/s, ${c.cpuMsPer1000} CPU ms/1k`);
          if (rates !== null) await measureOpenAt(server, gateOpenRates(g.name, rates.reference, rates.twin), round, open);
        } finally {
          await server.stop();
        }
      }
      if (rates === null) {
        const peaks = Object.fromEntries(closed.map((c) => [c.server, c.rps]));
        rates = { reference: referenceRate(peaks), twin: twinRateFor(peaks[TWIN]) };
        for (const g of servers) {
          const list = gateOpenRates(g.name, rates.reference, rates.twin);
          if (list.length === 0) continue;
          const server = await start(g);
          try {
            // A short run, discarded, to warm the JIT after the restart.
            await measureOpen(server, set, list[0], 1, kPlan.connections);
            await measureOpenAt(server, list, round, open);
          } finally {
            await server.stop();
          }
        }
      }
      perRound.push({ name: s.name, description: `${s.description} (gate round ${round})`, closed, open, referenceRate: rates.reference, twinRate: rates.twin });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return perRound;
}

/** Checks the run itself is sound: a bidder that errors is a failure whatever the ratios say. */
export function runProblems(perRound: ScenarioResult[]): string[] {
  const problems: string[] = [];
  for (const r of perRound) {
    for (const c of r.closed) if (c.errors > 0 || c.non2xx > 0) problems.push(`${r.description}: ${c.server} closed loop had ${c.errors} errors and ${c.non2xx} non-2xx`);
    for (const o of r.open) if (o.errors > 0) problems.push(`${r.description}: ${o.server} open loop had ${o.errors} errors`);
  }
  return problems;
}

interface GateArgs {
  rounds: number;
  baselineFile: string;
  write: boolean;
  confirm: boolean;
}

function parseGateArgs(argv: string[]): GateArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: { rounds: { type: 'string' }, baseline: { type: 'string' }, 'write-baseline': { type: 'boolean' }, 'no-confirm': { type: 'boolean' } },
  });
  const rounds = values.rounds === undefined ? kDefaultRounds : Number(values.rounds);
  if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a whole number of at least 1, got ${values.rounds}`);
  return { rounds, baselineFile: values.baseline === undefined ? BASELINE_FILE : resolve(values.baseline), write: values['write-baseline'] === true, confirm: values['no-confirm'] !== true };
}

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { rounds, baselineFile, write, confirm } = parseGateArgs(argv);
  const startedAt = new Date().toISOString();
  // A baseline names the commit it measured; the gate measures that commit's bidder beside this one.
  let baselineCommit: string | null = null;
  if (write) {
    const head = headCommit(REPO_ROOT, CODE_PATHS);
    if (!head.ok) throw new Error(`cannot write a baseline: ${head.reason}`);
    baselineCommit = head.commit;
  } else if (!existsSync(baselineFile)) {
    throw new Error(`no baseline at ${baselineFile}: run npm run bench:baseline and commit it`);
  }
  const baseline = write ? null : (JSON.parse(readFileSync(baselineFile, 'utf8')) as Baseline);
  const unavailable: Record<string, string> = {};
  let referenceRoot: string | null = null;
  let cleanupReference = (): void => {};
  if (baseline !== null) {
    const commit = baseline.reference?.commit;
    const built = commit === undefined ? { ok: false as const, reason: 'the baseline names no reference commit' } : buildReference(REPO_ROOT, commit);
    if (built.ok) {
      referenceRoot = built.root;
      cleanupReference = built.cleanup;
      log(`gate: reference bidder built from ${built.commit}`);
    } else {
      log(`gate: no reference bidder: ${built.reason}`);
      for (const f of REFERENCE_FIGURES) unavailable[f] = built.reason.split('\n')[0];
    }
  }
  const names = gateServers(referenceRoot).map((g) => g.name);
  log(`gate: ${rounds} rounds of ${kScenario}, servers ${names.join(', ')}, closed loop by ${closedLoopGenerator()}`);
  let perRound: ScenarioResult[];
  let verdict: GateVerdict;
  try {
    // Writing a baseline is not a verdict: no second look.
    ({ rounds: perRound, verdict } = await measureConfirmed(() => measureRounds(rounds, referenceRoot), (r) => gateVerdict(r, baseline, unavailable), {
      confirm: confirm && baseline !== null,
      onFirstFailure: (first, n) => {
        if (first.baseline !== null) out(formatGateReport(first.baseline));
        out(`\n${formatLimitReport(first.limits)}\n\ngate: failed on ${n} rounds; measuring ${n} more to confirm`);
      },
    }));
  } finally {
    cleanupReference();
  }
  const machine = machineInfo();
  const ratios = perRound.flatMap(computeRatios);
  const results: SuiteResults = {
    kind: 'gate',
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `node dist/bench/gate.js ${argv.join(' ')}`.trim(),
    machine,
    scenarios: perRound,
    ratios,
    goals: limitGoals(verdict.limits),
    servers: Object.fromEntries(names.map((n) => [n, n === 'reference' ? `the bidder built from the baseline's commit ${baseline?.reference?.commit ?? ''}`.trim() : SERVER_DESCRIPTIONS[n as ServerName]])),
  };
  for (const r of perRound) {
    printClosed(r);
    printOpen(r);
  }
  printRatios(ratios);
  printTwin(perRound);
  const written = writeResults('gate', results);
  out(`\nresults: ${written.json}`);
  const problems = runProblems(perRound);
  out(`\ngate: the bidder against its twin, median of ${perRound.length} rounds (p99 at ${perRound.map((r) => r.twinRate).filter((x, i, a) => a.indexOf(x) === i).join(' and ')} req/s)`);
  out(formatLimitReport(verdict.limits));
  if (verdict.baseline === null) {
    if (problems.length > 0) throw new Error(`not writing a baseline from an unsound run:\n${problems.join('\n')}`);
    // The reference is this very code, so its ratios are 1 by definition.
    const next = rebaseline({ ...verdict.figures, ...Object.fromEntries(REFERENCE_FIGURES.map((f) => [f, 1])) }, GATE_FIGURES, {
      createdAt: startedAt,
      command: 'npm run bench:baseline',
      machine: { cpus: machine.cpus, cpuModel: machine.cpuModel, node: machine.node },
      reference: { commit: baselineCommit! },
    });
    writeFileSync(baselineFile, `${JSON.stringify(next, null, 2)}\n`);
    out(`\nbaseline written to ${baselineFile} (reference commit ${baselineCommit}); review and commit it.`);
    return;
  }
  out(`\ngate: the bidder's ratios to its peers against ${baselineFile} (baseline of ${baseline!.createdAt})`);
  out(formatGateReport(verdict.baseline));
  for (const p of problems) out(`gate: ${p}`);
  const passed = verdict.passed && problems.length === 0;
  out(`\ngate: ${passed ? 'PASSED' : 'FAILED'}`);
  process.exitCode = passed ? 0 : 1;
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`gate: ${(err as Error).stack}\n`);
    process.exit(2);
  });
}

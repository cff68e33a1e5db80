/**
 * The CI gate: a short run of the goals scenario (banner-small) with the bidder and its
 * peers alternated over a few rounds, reduced to ratios of the bidder to each peer
 * (median over rounds, each ratio taken within one round), compared against the
 * committed bench/baseline.json. Exits 1 on a regression, printing what moved.
 * The peers are the ceiling, inline and Fastify, and the reference: the bidder built from
 * the commit the baseline was measured on (bench/gate/reference.ts).
 *
 *   npm run bench:gate                       compare against bench/baseline.json
 *   npm run bench:baseline                   measure and rewrite bench/baseline.json (commit it deliberately)
 *   node dist/bench/gate.js [--rounds N] [--baseline FILE] [--write-baseline] [--no-confirm]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compareToBaseline, formatGateReport, rebaseline, type Baseline, type BaselineFigure } from './gate/compare';
import { buildReference, headCommit } from './gate/reference';
import { computeRatios, referenceRate } from './lib/analysis';
import { measureClosed, measureOpen, closedLoopGenerator, type ClosedLoopPlan } from './lib/measure';
import { startServer } from './lib/proc';
import { printClosed, printOpen, printRatios } from './lib/print';
import type { ClosedLoopResult, OpenLoopResult, PeerRatios, ScenarioResult, SuiteResults } from './lib/results';
import { serverLaunch, type ServerName } from './lib/servers';
import { writeResults } from './lib/write-results';
import { writeRequestSet } from './load/request-set';
import { machineInfo } from './run';
import { findScenario, REPO_ROOT, scenarioBodies, unavailableReason } from './scenarios';

const kScenario = 'banner-small';
const kServers: ServerName[] = ['bidder', 'ceiling', 'inline', 'fastify'];
const kPlan: ClosedLoopPlan = { connections: 64, warmupS: 1, durationS: 4 };
const kOpenDurationS = 4;
const kDefaultRounds = 3;
const BASELINE_FILE = resolve(REPO_ROOT, 'bench/baseline.json');
/** What the reference commit must hold unchanged for the working tree to be that commit's bidder. */
const CODE_PATHS = ['src', 'workers', 'native-models', 'campaigns', 'package.json', 'package-lock.json', 'tsconfig.json'] as const;

/**
 * The figures the gate watches, with how far each may move the wrong way. Ratios to the
 * reference are the regression detectors (the same code measures 1.0 on any machine);
 * ratios to the other peers also move with the machine (measured: -39% throughput and
 * +77% CPU against inline between two 2-core hosts, same code), so their tolerances
 * only catch what no host explains.
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The gate's figures from the per-round ratios: the median of each over the rounds. */
export function gateFigures(rounds: PeerRatios[][]): Record<string, number> {
  const pick = (peer: string, f: (r: PeerRatios) => number | null): number => {
    const xs = rounds.map((round) => round.find((r) => r.peer === peer)).map((r) => (r ? f(r) : null)).filter((x): x is number => x !== null);
    return xs.length > 0 ? median(xs) : NaN;
  };
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

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

interface GateServer {
  name: string;
  root: string;
  launch: ServerName;
}

/** The servers of a round: the bidder, then its reference (when built) beside it, then the peers. */
function gateServers(referenceRoot: string | null): GateServer[] {
  const list: GateServer[] = kServers.map((name) => ({ name, root: REPO_ROOT, launch: name }));
  if (referenceRoot !== null) list.splice(1, 0, { name: 'reference', root: referenceRoot, launch: 'bidder' });
  return list;
}

async function measureRounds(rounds: number, referenceRoot: string | null): Promise<{ perRound: ScenarioResult[] }> {
  const s = findScenario(kScenario);
  const why = unavailableReason(s);
  if (why) throw new Error(`the gate cannot run: ${why}`);
  const dir = mkdtempSync(join(tmpdir(), 'bidder-gate-'));
  const set = writeRequestSet(dir, s.name, scenarioBodies(s), s.gzip);
  const perRound: ScenarioResult[] = [];
  let reference: number | null = null;
  const servers = gateServers(referenceRoot);
  const start = (g: GateServer) => startServer(g.root, { ...serverLaunch(g.launch, s.env), name: g.name });
  try {
    for (let round = 1; round <= rounds; round++) {
      const closed: ClosedLoopResult[] = [];
      const open: OpenLoopResult[] = [];
      // Round 1 finds every server's peak before any open-loop run, to set the reference
      // rate; later rounds measure each server's closed and open loop in one start.
      for (const g of servers) {
        const name = g.name;
        const server = await start(g);
        try {
          const c = await measureClosed(server, set, kPlan);
          closed.push(c);
          log(`  round ${round} ${name}: ${c.rps} req/s, ${c.cpuMsPer1000} CPU ms/1k`);
          if (reference !== null) {
            const o = await measureOpen(server, set, reference, kOpenDurationS, kPlan.connections);
            open.push(o);
            log(`  round ${round} ${name} at ${reference} req/s: p99 ${(o.latencyUs.p99 / 1000).toFixed(2)} ms`);
          }
        } finally {
          await server.stop();
        }
      }
      if (reference === null) {
        reference = referenceRate(Object.fromEntries(closed.map((c) => [c.server, c.rps])));
        for (const g of servers) {
          const name = g.name;
          const server = await start(g);
          try {
            await measureOpen(server, set, reference, 1, kPlan.connections);
            const o = await measureOpen(server, set, reference, kOpenDurationS, kPlan.connections);
            open.push(o);
            log(`  round ${round} ${name} at ${reference} req/s: p99 ${(o.latencyUs.p99 / 1000).toFixed(2)} ms`);
          } finally {
            await server.stop();
          }
        }
      }
      perRound.push({ name: s.name, description: `${s.description} (gate round ${round})`, closed, open, referenceRate: reference });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { perRound };
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

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let rounds = kDefaultRounds;
  let baselineFile = BASELINE_FILE;
  let write = false;
  let noConfirm = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rounds') rounds = Number(argv[++i]);
    else if (argv[i] === '--baseline') baselineFile = resolve(argv[++i]);
    else if (argv[i] === '--write-baseline') write = true;
    else if (argv[i] === '--no-confirm') noConfirm = true;
    else throw new Error(`unknown argument ${argv[i]} (see the header of bench/gate.ts)`);
  }
  if (!(rounds >= 1)) throw new Error('--rounds must be at least 1');
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
  let ratiosPerRound: PeerRatios[][];
  let figures: Record<string, number>;
  try {
    perRound = (await measureRounds(rounds, referenceRoot)).perRound;
    ratiosPerRound = perRound.map(computeRatios);
    figures = gateFigures(ratiosPerRound);
    if (baseline !== null && !noConfirm) {
      const first = compareToBaseline(figures, baseline, unavailable);
      if (!first.passed) {
        process.stdout.write(`${formatGateReport(first)}\n\ngate: failed on ${rounds} rounds; measuring ${rounds} more to confirm\n`);
        perRound.push(...(await measureRounds(rounds, referenceRoot)).perRound);
        ratiosPerRound = perRound.map(computeRatios);
        figures = gateFigures(ratiosPerRound);
      }
    }
  } finally {
    cleanupReference();
  }
  const machine = machineInfo();
  const results: SuiteResults = {
    kind: 'gate',
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `node dist/bench/gate.js ${argv.join(' ')}`.trim(),
    machine,
    scenarios: perRound,
    ratios: ratiosPerRound.flat(),
    goals: [],
  };
  for (const r of perRound) {
    printClosed(r);
    printOpen(r);
  }
  printRatios(ratiosPerRound.flat());
  const written = writeResults('gate', results);
  process.stdout.write(`\nresults: ${written.json}\n`);
  const problems = runProblems(perRound);
  if (baseline === null) {
    if (problems.length > 0) throw new Error(`not writing a baseline from an unsound run:\n${problems.join('\n')}`);
    // The reference is this very code, so its ratios are 1 by definition.
    const next = rebaseline({ ...figures, ...Object.fromEntries(REFERENCE_FIGURES.map((f) => [f, 1])) }, GATE_FIGURES, {
      createdAt: startedAt,
      command: 'npm run bench:baseline',
      machine: { cpus: machine.cpus, cpuModel: machine.cpuModel, node: machine.node },
      reference: { commit: baselineCommit! },
    });
    writeFileSync(baselineFile, `${JSON.stringify(next, null, 2)}\n`);
    process.stdout.write(`\nbaseline written to ${baselineFile} (reference commit ${baselineCommit}); review and commit it.\n`);
    return;
  }
  const report = compareToBaseline(figures, baseline, unavailable);
  process.stdout.write(`\ngate: the bidder's ratios to its peers against ${baselineFile} (baseline of ${baseline.createdAt})\n`);
  process.stdout.write(`${formatGateReport(report)}\n`);
  for (const p of problems) process.stdout.write(`gate: ${p}\n`);
  const passed = report.passed && problems.length === 0;
  process.stdout.write(`\ngate: ${passed ? 'PASSED' : 'FAILED'}\n`);
  process.exitCode = passed ? 0 : 1;
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`gate: ${(err as Error).stack}\n`);
    process.exit(2);
  });
}

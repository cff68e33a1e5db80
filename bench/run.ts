/**
 * The benchmark suite: every scenario of bench/scenarios.ts, the bidder and its peers back
 * to back under the same load. Closed loop (64 connections) gives each server's peak;
 * open loop at fixed rates (HDR, from intended send times) gives the tails, at a
 * reference rate every server sustains and, in sweep scenarios, along a ladder of rates
 * up to saturation. Prints tables, writes bench/results/suite-<time>.json (and
 * latest.json) and the HTML report bench/results/latest.html.
 *
 *   npm run bench [-- --scenario NAME]... [--quick] [--duration S] [--open-duration S]
 *                    [--server NAME]... [--env KEY=VALUE]...
 *
 * --server limits the run to the named servers (bidder, ceiling, inline, inline-batched,
 * fastify); --env sets a BIDDER_* variable for every server, to measure a setting.
 *
 * Needs wrk for the closed loop where installed (apt-get install wrk); falls back to the
 * project's Node generator otherwise (and says so in the results).
 */
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeRequestSet, type RequestSetFile } from './load/request-set';
import { computeRatios, evaluateGoals, ratesFor, referenceRate } from './lib/analysis';
import { closedLoopGenerator, measureClosed, measureOpen, type ClosedLoopPlan } from './lib/measure';
import { startServer } from './lib/proc';
import { printClosed, printGoals, printOpen, printRatios } from './lib/print';
import { writeResults } from './lib/write-results';
import type { ClosedLoopResult, OpenLoopResult, ScenarioResult, SuiteResults } from './lib/results';
import { serverLaunch, type ServerName } from './lib/servers';
import { findScenario, REPO_ROOT, SCENARIOS, scenarioBodies, unavailableReason, type Scenario } from './scenarios';

export interface SuitePlan {
  closed: ClosedLoopPlan;
  openDurationS: number;
  openConnections: number;
}

const kFullPlan: SuitePlan = { closed: { connections: 64, warmupS: 2, durationS: 8 }, openDurationS: 5, openConnections: 64 };
const kQuickPlan: SuitePlan = { closed: { connections: 64, warmupS: 1, durationS: 3 }, openDurationS: 3, openConnections: 64 };

export function machineInfo(): SuiteResults['machine'] {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, loadAvg: loadavg().map((x) => Math.round(x * 100) / 100) };
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Measures one scenario: every server closed loop, then open loop at the rates that follows. */
export async function runScenario(s: Scenario, plan: SuitePlan, set: RequestSetFile, servers: ServerName[] = ['bidder', ...s.peers]): Promise<ScenarioResult> {
  const closed: ClosedLoopResult[] = [];
  for (const name of servers) {
    const server = await startServer(REPO_ROOT, serverLaunch(name, s.env));
    try {
      const r = await measureClosed(server, set, plan.closed);
      log(`  ${s.name} ${name} closed: ${r.rps} req/s, p99 ${(r.latencyUs.p99 / 1000).toFixed(2)} ms, ${r.cpuMsPer1000} CPU ms/1k`);
      closed.push(r);
    } finally {
      await server.stop();
    }
  }
  const peaks = Object.fromEntries(closed.map((c) => [c.server, c.rps]));
  const reference = referenceRate(peaks);
  const open: OpenLoopResult[] = [];
  for (const name of servers) {
    const rates = ratesFor(name, peaks, s.open, reference);
    const server = await startServer(REPO_ROOT, serverLaunch(name, s.env));
    try {
      // A short run at the reference rate first, discarded, to warm the JIT after the restart.
      await measureOpen(server, set, reference, 1, plan.openConnections);
      for (const rate of rates) {
        const r = await measureOpen(server, set, rate, plan.openDurationS, plan.openConnections);
        log(`  ${s.name} ${name} open ${rate} req/s: achieved ${r.achievedRate}, p99 ${(r.latencyUs.p99 / 1000).toFixed(2)} ms, p99.9 ${(r.latencyUs.p999 / 1000).toFixed(2)} ms`);
        open.push(r);
      }
    } finally {
      await server.stop();
    }
  }
  return { name: s.name, description: s.description, closed, open, referenceRate: reference };
}

interface SuiteArgs {
  scenarios: Scenario[];
  plan: SuitePlan;
  servers: ServerName[] | null;
  env: Record<string, string>;
}

function parseArgs(argv: string[]): SuiteArgs {
  const names: string[] = [];
  const servers: ServerName[] = [];
  const env: Record<string, string> = {};
  let plan = { ...kFullPlan, closed: { ...kFullPlan.closed } };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--scenario') names.push(v), i++;
    else if (a === '--quick') plan = { ...kQuickPlan, closed: { ...kQuickPlan.closed } };
    else if (a === '--duration') plan.closed.durationS = Number(v), i++;
    else if (a === '--open-duration') plan.openDurationS = Number(v), i++;
    else if (a === '--server') servers.push(v as ServerName), i++;
    else if (a === '--env') {
      const at = v.indexOf('=');
      if (at < 1 || !v.startsWith('BIDDER_')) throw new Error(`--env wants BIDDER_NAME=value, got ${v}`);
      env[v.slice(0, at)] = v.slice(at + 1);
      i++;
    } else throw new Error(`unknown argument ${a} (see the header of bench/run.ts)`);
  }
  const scenarios = (names.length > 0 ? names.map(findScenario) : SCENARIOS).map((s) => ({ ...s, env: { ...s.env, ...env } }));
  return { scenarios, plan, servers: servers.length > 0 ? servers : null, env };
}

async function main(): Promise<void> {
  const { scenarios, plan, servers } = parseArgs(process.argv.slice(2));
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  log(`bench: ${scenarios.length} scenarios, closed loop by ${closedLoopGenerator()}, ${machine.cpus} cpus (${machine.cpuModel})`);
  const dir = mkdtempSync(join(tmpdir(), 'bidder-bench-'));
  const results: ScenarioResult[] = [];
  try {
    for (const s of scenarios) {
      const why = unavailableReason(s);
      if (why) {
        log(`bench: skipping ${s.name}: ${why}`);
        continue;
      }
      log(`bench: ${s.name}: ${s.description}`);
      const set = writeRequestSet(dir, s.name, scenarioBodies(s), s.gzip);
      const names = servers ?? ['bidder', ...s.peers];
      results.push(await runScenario(s, plan, set, names));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ratios = results.flatMap(computeRatios);
  const suite: SuiteResults = {
    kind: 'suite',
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    scenarios: results,
    ratios,
    goals: evaluateGoals(results, ratios),
  };
  for (const s of results) {
    printClosed(s);
    printOpen(s);
  }
  printRatios(ratios);
  printGoals(suite.goals);
  const written = writeResults('suite', suite);
  process.stdout.write(`\nresults: ${written.json}\nreport:  ${written.html}\n`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`bench: ${(err as Error).stack}\n`);
    process.exit(1);
  });
}

/**
 * The benchmark suite: every scenario of bench/scenarios.ts, the bidder and its peers back
 * to back under the same load, the twin (the same engine on one uWS loop) in every one.
 * Closed loop (64 connections) gives each server's peak; open loop at fixed rates (HDR,
 * from intended send times) gives the tails: at a reference rate every server sustains,
 * at the rates the goals name, and in sweep scenarios along a ladder of rates up to
 * saturation, the twin at every rate the bidder is offered. Prints tables and the goals,
 * writes bench/results/suite-<time>.json (and latest.json) and the HTML report
 * bench/results/latest.html.
 *
 *   npm run bench [-- --scenario NAME]... [--quick] [--duration S] [--open-duration S]
 *                    [--server NAME]... [--env KEY=VALUE]... [--twin-commit REF]
 *
 * --server limits the run to the named servers (bidder, ceiling, inline, twin, fastify;
 * inline-batched is the twin's old name); --env sets a BIDDER_* variable for every server,
 * to measure a setting; --twin-commit runs the twin built from another commit (issue 9's
 * check: "beside the twin built from commit ab69f35"), the bidder from this checkout.
 *
 * Needs wrk for the closed loop where installed (apt-get install wrk); falls back to the
 * project's Node generator otherwise (and says so in the results).
 */
import { cpus, loadavg, tmpdir } from 'node:os';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs as parseCommandLine } from 'node:util';
import { writeRequestSet, type RequestSetFile } from './load/request-set';
import { buildReference, resolveCommit } from './gate/reference';
import { computeRatios, ratesFor, referenceRate } from './lib/analysis';
import { evaluateGoals } from './lib/goals';
import { closedLoopGenerator, measureClosed, measureOpen, type ClosedLoopPlan } from './lib/measure';
import { startServer } from './lib/proc';
import { printClosed, printGoals, printOpen, printRatios, printTwin } from './lib/print';
import { writeResults } from './lib/write-results';
import type { ClosedLoopResult, OpenLoopResult, ScenarioResult, SuiteResults } from './lib/results';
import { parseServerName, SERVER_DESCRIPTIONS, serverLaunch, TWIN, type ServerName } from './lib/servers';
import { findScenario, REPO_ROOT, SCENARIOS, scenarioBodies, unavailableReason, type Scenario } from './scenarios';

export interface SuitePlan {
  closed: ClosedLoopPlan;
  openDurationS: number;
  openConnections: number;
}

const kFullPlan: SuitePlan = { closed: { connections: 64, warmupS: 2, durationS: 8 }, openDurationS: 5, openConnections: 64 };
const kQuickPlan: SuitePlan = { closed: { connections: 64, warmupS: 1, durationS: 3 }, openDurationS: 3, openConnections: 64 };

/** The folder each server starts from, when not this checkout (the twin of --twin-commit). */
export type ServerRoots = Partial<Record<ServerName, string>>;

export function machineInfo(): SuiteResults['machine'] {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, loadAvg: loadavg().map((x) => Math.round(x * 100) / 100) };
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Measures one scenario: every server closed loop, then open loop at the rates that follows. */
export async function runScenario(s: Scenario, plan: SuitePlan, set: RequestSetFile, servers: ServerName[] = ['bidder', ...s.peers], roots: ServerRoots = {}): Promise<ScenarioResult> {
  const start = (name: ServerName) => startServer(roots[name] ?? REPO_ROOT, serverLaunch(name, s.env));
  const closed: ClosedLoopResult[] = [];
  for (const name of servers) {
    const server = await start(name);
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
    const rates = ratesFor(name, peaks, s, reference);
    const server = await start(name);
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

export interface SuiteArgs {
  scenarios: Scenario[];
  plan: SuitePlan;
  servers: ServerName[] | null;
  twinCommit: string | null;
}

function positiveSeconds(flag: string, v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new Error(`${flag} wants a number of seconds above 0, got ${v}`);
  return n;
}

export function parseSuiteArgs(argv: string[]): SuiteArgs {
  const { values } = parseCommandLine({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      scenario: { type: 'string', multiple: true },
      quick: { type: 'boolean' },
      duration: { type: 'string' },
      'open-duration': { type: 'string' },
      server: { type: 'string', multiple: true },
      env: { type: 'string', multiple: true },
      'twin-commit': { type: 'string' },
    },
  });
  const base = values.quick ? kQuickPlan : kFullPlan;
  const plan: SuitePlan = { ...base, closed: { ...base.closed } };
  if (values.duration !== undefined) plan.closed.durationS = positiveSeconds('--duration', values.duration);
  if (values['open-duration'] !== undefined) plan.openDurationS = positiveSeconds('--open-duration', values['open-duration']);
  const env: Record<string, string> = {};
  for (const v of values.env ?? []) {
    const at = v.indexOf('=');
    if (at < 1 || !v.startsWith('BIDDER_')) throw new Error(`--env wants BIDDER_NAME=value, got ${v}`);
    env[v.slice(0, at)] = v.slice(at + 1);
  }
  const names = values.scenario ?? [];
  const scenarios = (names.length > 0 ? names.map(findScenario) : SCENARIOS).map((s) => ({ ...s, env: { ...s.env, ...env } }));
  const servers = (values.server ?? []).map(parseServerName);
  return { scenarios, plan, servers: servers.length > 0 ? [...new Set(servers)] : null, twinCommit: values['twin-commit'] ?? null };
}

/** The twin of --twin-commit: that commit built into a temporary folder, or an error saying why not. */
function buildTwin(name: string): { root: string; commit: string; cleanup: () => void } {
  const resolved = resolveCommit(REPO_ROOT, name);
  if (!resolved.ok) throw new Error(`--twin-commit: ${resolved.reason}`);
  log(`bench: building the twin from ${resolved.commit}`);
  const built = buildReference(REPO_ROOT, resolved.commit);
  if (!built.ok) throw new Error(`--twin-commit: ${built.reason}`);
  const launch = serverLaunch(TWIN, {});
  if (!existsSync(join(built.root, launch.script))) {
    built.cleanup();
    throw new Error(`--twin-commit: commit ${resolved.commit} has no ${launch.script.replace(/^dist\//, '').replace(/\.js$/, '.ts')}`);
  }
  return built;
}

async function main(): Promise<void> {
  const { scenarios, plan, servers, twinCommit } = parseSuiteArgs(process.argv.slice(2));
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const twin = twinCommit === null ? null : buildTwin(twinCommit);
  const roots: ServerRoots = twin === null ? {} : { [TWIN]: twin.root };
  const descriptions: Record<string, string> = { ...SERVER_DESCRIPTIONS };
  descriptions[TWIN] = `${SERVER_DESCRIPTIONS[TWIN]}; built from ${twin === null ? 'this checkout' : `commit ${twin.commit}`}`;
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
      results.push(await runScenario(s, plan, set, names, roots));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    twin?.cleanup();
  }
  const ratios = results.flatMap(computeRatios);
  const ran = new Set(results.flatMap((s) => s.closed.map((c) => c.server)));
  const suite: SuiteResults = {
    kind: 'suite',
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    scenarios: results,
    ratios,
    goals: evaluateGoals(results, ratios),
    servers: Object.fromEntries(Object.entries(descriptions).filter(([name]) => ran.has(name))),
  };
  for (const s of results) {
    printClosed(s);
    printOpen(s);
  }
  printRatios(ratios);
  printTwin(results);
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

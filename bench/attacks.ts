/**
 * The attack benchmark: the bidder (dist/src/main.js, 127.0.0.1 only) under one attack
 * at a time while an honest client sends the 2.6 simple-banner sample open loop at a
 * fixed rate (latency from each request's due time, HDR). Phases: baseline, slow senders,
 * idle connections, 100-imp x 4-media requests, a gzip bomb, a /debug/latency storm on the
 * ops port, baseline again (bench/attack/phases.ts). Each is bounded in time and stops by
 * itself. Prints a table, writes bench/results/attacks-<time>.json, and exits 1 when any
 * honest request was not answered with a bid.
 *
 *   npm run bench:attacks [-- --quick] [--rate N] [--phase-s S] [--ops-port N] [--env KEY=VALUE]...
 *
 * --quick: 2 s phases and smaller attacks, a smoke test. --ops-port: the ops listener's
 * port (default: a free port, passed as BIDDER_OPS_PORT); the storm phase is skipped, with
 * the reason, when nothing answers there.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoadInChild } from './load/load-child';
import { writeRequestSet } from './load/request-set';
import { freePort, startServer, type RunningServer } from './lib/proc';
import { serverLaunch } from './lib/servers';
import { RESULTS_DIR, timestamp } from './lib/write-results';
import { attackPlan, peakConnections, phaseTable, verdict, type AttackPlan, type PhaseResult } from './attack/phases';
import { runPhases } from './attack/run-phases';
import { CORPUS_DIR, REPO_ROOT } from './scenarios';

const SIMPLE_BANNER = join(CORPUS_DIR, 'spec-examples/bid-request/2.6/simple-banner.json');
/** File descriptors beyond the plan's connections: the bidder's own files, pipes, workers. */
const kFdHeadroom = 512;

export interface AttackResults {
  kind: 'attacks';
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; node: string; loadAvg: number[] };
  plan: AttackPlan;
  bidder: { port: number; opsPort: number; env: Record<string, string>; fdLimit: number };
  phases: PhaseResult[];
  baselineP99Ms: number | null;
  failures: string[];
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The open-file limit this process and its children run under, as a shell reports it. */
function fdLimit(): number {
  const text = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  return text === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(text);
}

/**
 * Node raises its own soft RLIMIT_NOFILE to the hard limit at start, and the bidder and
 * load generator it spawns (Node too) do the same, so the limit that counts is the hard
 * one; no unprivileged process can go past it. Refuse a plan that needs more rather
 * than let connections fail with EMFILE and call that a result.
 */
function fdLimitProblem(limit: number, needed: number): string | null {
  if (limit >= needed) return null;
  return `the plan needs ${needed} open files per process and the limit is ${limit}: raise the hard limit (ulimit -Hn) or run with --quick`;
}

interface Args {
  quick: boolean;
  rate?: number;
  phaseS?: number;
  opsPort?: number;
  env: Record<string, string>;
}

function parseCli(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      rate: { type: 'string' },
      'phase-s': { type: 'string' },
      'ops-port': { type: 'string' },
      env: { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  });
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!(n > 0)) throw new Error(`--${name} must be a positive number, got ${v}`);
    return n;
  };
  const env: Record<string, string> = {};
  for (const kv of values.env ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0 || !kv.startsWith('BIDDER_')) throw new Error(`--env takes BIDDER_KEY=VALUE, got ${kv}`);
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return { quick: values.quick ?? false, rate: num('rate', values.rate), phaseS: num('phase-s', values['phase-s']), opsPort: num('ops-port', values['ops-port']), env };
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseCli(process.argv.slice(2));
  } catch (err) {
    log(`${(err as Error).message}\nusage: npm run bench:attacks [-- --quick] [--rate N] [--phase-s S] [--ops-port N] [--env BIDDER_KEY=VALUE]...`);
    return 2;
  }
  const plan = attackPlan({ quick: args.quick, rate: args.rate, phaseS: args.phaseS });
  const limit = fdLimit();
  const fdProblem = fdLimitProblem(limit, peakConnections(plan) + kFdHeadroom);
  if (fdProblem !== null) {
    log(fdProblem);
    return 2;
  }

  let banner: Buffer;
  try {
    banner = readFileSync(SIMPLE_BANNER);
  } catch {
    log(`the honest request ${SIMPLE_BANNER} is absent: the attack benchmark needs the shared corpus`);
    return 2;
  }
  const startedAt = new Date().toISOString();
  const opsPort = args.opsPort ?? (await freePort());
  const env = { BIDDER_OPS_HOST: '127.0.0.1', BIDDER_OPS_PORT: String(opsPort), ...args.env };
  const dir = mkdtempSync(join(tmpdir(), 'attacks-'));
  let server: RunningServer | null = null;
  try {
    const set = writeRequestSet(dir, 'simple-banner', [banner], false);
    server = await startServer(REPO_ROOT, serverLaunch('bidder', env));
    const first = await fetch(`http://127.0.0.1:${server.port}/openrtb2/bid`, { method: 'POST', body: banner, headers: { 'content-type': 'application/json' } });
    await first.arrayBuffer();
    if (first.status !== 200) {
      log(`the simple banner got ${first.status}, not a bid, before any attack: nothing to measure`);
      return 1;
    }
    log(`bidder on 127.0.0.1:${server.port} (ops ${opsPort}); ${plan.phases.length} phases of ${plan.phaseS} s at ${plan.rate} req/s${plan.quick ? ' (quick)' : ''}`);
    const port = server.port;
    const { phases, baselineP99Ms } = await runPhases(
      { port, opsPort },
      plan,
      (durationS) => runLoadInChild({ port, set, rate: plan.rate, durationS, connections: plan.connections }),
      log,
    );
    const failures = verdict(phases);
    if (server.child.exitCode !== null || server.child.signalCode !== null) failures.push(`the bidder exited (${server.child.exitCode ?? server.child.signalCode}) during the run`);
    const results: AttackResults = {
      kind: 'attacks',
      startedAt,
      finishedAt: new Date().toISOString(),
      command: `npm run bench:attacks -- ${process.argv.slice(2).join(' ')}`.trim(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, loadAvg: loadavg().map((x) => Math.round(x * 100) / 100) },
      plan,
      bidder: { port, opsPort, env, fdLimit: limit },
      phases,
      baselineP99Ms,
      failures,
    };
    process.stdout.write(`\nattacks: honest ${plan.rate} req/s open loop, simple banner, ${plan.phaseS} s per phase; latency from due time\n`);
    process.stdout.write(`${phaseTable(phases)}\n`);
    if (baselineP99Ms !== null) process.stdout.write(`baseline p99 (mean of the two baselines): ${baselineP99Ms.toFixed(2)} ms\n`);
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, `attacks-${timestamp(startedAt)}.json`);
    writeFileSync(file, JSON.stringify(results, null, 1));
    process.stdout.write(`results: ${file}\n`);
    for (const f of failures) process.stdout.write(`FAIL ${f}\n`);
    return failures.length === 0 ? 0 : 1;
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: Error) => {
      log(err.stack ?? err.message);
      process.exitCode = 2;
    },
  );
}

/**
 * Profiles the bidder under one benchmark scenario's load (bench/scenarios.ts): the front
 * end (main thread) with 0x, the scoring workers with node's own --cpu-prof (one sampler
 * per thread: see bidder-preload.ts). Writes everything under profiles/<scenario>-<time>/:
 *
 *   summary.txt, summary.json          load figures, commands, top self time per thread
 *   run.log                            0x's and the bidder's output
 *   main/flamegraph.html               0x flame graph of the main thread, from the load's start
 *   main/isolate-…-v8.log, .log.json   its V8 log and 0x's ticks (`0x --visualize-only main`
 *                                      re-renders; `node --prof-process` reads the log)
 *   threads/worker-<tid>.cpuprofile    each worker's whole run, as node wrote it
 *   threads/worker-<tid>.load.cpuprofile  cut down to the load window
 *   threads/worker-<tid>.load.html     its flame graph (0x --visualize-cpu-profile)
 *
 *   npm run profile -- <scenario> [--duration S] [--rate R] [--threads N]
 *
 * Closed loop by default (wrk -t1 -c64, or the Node generator without wrk); --rate R runs
 * the Node generator open loop at R req/s. --threads overrides BIDDER_POOL_THREADS.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runLoadInChild } from '../bench/load/load-child';
import { writeRequestSet, type RequestSetFile } from '../bench/load/request-set';
import { runWrk, wrkAvailable } from '../bench/load/wrk';
import { freePort } from '../bench/lib/proc';
import { findScenario, REPO_ROOT, SCENARIOS, scenarioBodies, unavailableReason, type Scenario } from '../bench/scenarios';
import { kClockMarkFileEnv, kWorkersCpuProfDirEnv, type ClockMark } from './bidder-preload';
import { selfTime, trimProfile, type CpuProfile, type Frame, type WindowUs } from './cpu-profile';
import { describeLoad, summaryJson, summaryText, type LoadFigures, type RunSummary, type ThreadReport } from './summary';
import { ticksSelfTime, type PreprocessedTicks } from './v8-ticks';
import { arrangeMainIsolateLog, firstTickUs, scriptCompiledAtUs, startCollecting, visualizeCpuProfile, visualizeFolder, type Collecting } from './zero-x';

const kDefaultDurationS = 15;
const kMaxDurationS = 120;
const kConnections = 64;
const kTopN = 15;
/** 0x slows the start, and every worker loads the model. */
const kReadyTimeoutMs = 90_000;
/** After SIGINT: the bidder exits, then 0x preprocesses the main thread's log. */
const kCollectTimeoutMs = 300_000;
const kBidderScript = 'dist/src/main.js';
const kPreloadScript = 'dist/profiles/bidder-preload.js';
/** piscina's idle worker blocks in Atomics.wait inside this function: its self time is waiting, not work. */
const isPiscinaWait = (f: Frame): boolean => f.functionName === 'atomicsWaitLoop' && f.url.includes('/piscina/');

interface ProfileOptions {
  scenario: Scenario;
  durationS: number;
  /** Open-loop rate in req/s; null for closed loop. */
  rate: number | null;
  /** BIDDER_POOL_THREADS override; null keeps the scenario's. */
  threads: number | null;
}

/** The folders and files of one run. */
interface RunPaths {
  out: string;
  main: string;
  /** Where node writes every thread's isolate log; emptied and removed after the run. */
  isolateLogs: string;
  threads: string;
  runLog: string;
  clockMark: string;
}

const kUsage = `usage: npm run profile -- <scenario> [--duration S] [--rate R] [--threads N]\nscenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`;

function log(line: string): void {
  process.stderr.write(`profile: ${line}\n`);
}

function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function rel(path: string): string {
  return relative(REPO_ROOT, path);
}

/** Every problem with the arguments at once, or the options. */
export function parseArgs(argv: string[]): { ok: true; options: ProfileOptions } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const positional: string[] = [];
  const numbers: Record<'duration' | 'rate' | 'threads', number | null> = { duration: null, rate: null, threads: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const flag = /^--(duration|rate|threads)$/.exec(a);
    if (flag) {
      const name = flag[1] as keyof typeof numbers;
      const value = Number(argv[++i]);
      if (!Number.isFinite(value) || value <= 0) errors.push(`--${name} needs a positive number, got ${argv[i] ?? 'nothing'}`);
      else numbers[name] = value;
    } else if (a.startsWith('-')) {
      errors.push(`unknown option ${a}`);
    } else {
      positional.push(a);
    }
  }
  let scenario: Scenario | null = null;
  if (positional.length !== 1) {
    errors.push(`name exactly one scenario (got ${positional.length})`);
  } else {
    try {
      scenario = findScenario(positional[0]);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  if (numbers.duration !== null && numbers.duration > kMaxDurationS) errors.push(`--duration is at most ${kMaxDurationS} s`);
  if (numbers.threads !== null && !Number.isInteger(numbers.threads)) errors.push('--threads must be a whole number');
  if (errors.length > 0 || !scenario) return { ok: false, errors };
  return { ok: true, options: { scenario, durationS: numbers.duration ?? kDefaultDurationS, rate: numbers.rate, threads: numbers.threads } };
}

async function waitReady(port: number, c: Collecting, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void c.exited.then(
    () => (exited = true),
    () => (exited = true),
  );
  while (Date.now() < deadline) {
    if (exited) throw new Error('0x or the bidder exited before the bidder was ready');
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the bidder was not ready within ${timeoutMs} ms`);
}

async function driveLoad(port: number, set: RequestSetFile, o: ProfileOptions): Promise<LoadFigures> {
  const base = { connections: kConnections, durationS: o.durationS, offeredRate: o.rate };
  if (o.rate === null && wrkAvailable()) {
    const r = await runWrk(port, set, kConnections, o.durationS);
    return { ...base, mode: 'closed', generator: 'wrk', requests: r.requests, rps: r.rps, latencyUs: r.latencyUs, non2xx: r.non2xx, errors: r.errors };
  }
  const r = await runLoadInChild({ port, set, rate: o.rate ?? 0, durationS: o.durationS, connections: kConnections, closed: o.rate === null });
  const non2xx = Object.entries(r.status).reduce((n, [code, count]) => (code.startsWith('2') ? n : n + count), 0);
  return { ...base, mode: o.rate === null ? 'closed' : 'open', generator: 'node', requests: r.completed, rps: r.achievedRate, latencyUs: r.latencyUs, non2xx, errors: r.errors };
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => {
      onTimeout();
      rej(new Error(`gave up after ${ms} ms`));
    }, ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Starts the bidder under 0x, loads it, stops it; returns the load figures and window once 0x has collected. */
async function runUnderLoad(o: ProfileOptions, paths: RunPaths, env: Record<string, string>, title: string): Promise<{ load: LoadFigures; window: WindowUs }> {
  const setDir = mkdtempSync(join(tmpdir(), 'bidder-profile-'));
  try {
    const s = o.scenario;
    const set = writeRequestSet(setDir, s.name, scenarioBodies(s), s.gzip);
    const port = await freePort();
    // A free operations port too: the default (9090) may be taken (two runs, a Prometheus).
    const opsPort = await freePort();
    const startedUs = nowUs();
    const c = startCollecting({
      cwd: paths.out,
      outputDir: paths.main,
      logDir: paths.isolateLogs,
      title,
      // 0x asks node for --print-opt-source (it marks inlined frames with it); printing every
      // optimised function's source took most of the main thread while the JIT warmed.
      nodeFlags: ['--no-print-opt-source', '-r', join(REPO_ROOT, kPreloadScript)],
      script: join(REPO_ROOT, kBidderScript),
      env: {
        ...process.env,
        ...env,
        BIDDER_PORT: String(port),
        BIDDER_HOST: '127.0.0.1',
        BIDDER_OPS_PORT: String(opsPort),
        BIDDER_OPS_HOST: '127.0.0.1',
        [kWorkersCpuProfDirEnv]: paths.threads,
        [kClockMarkFileEnv]: paths.clockMark,
      },
      logFile: paths.runLog,
    });
    let load: LoadFigures;
    let window: WindowUs;
    try {
      await waitReady(port, c, kReadyTimeoutMs);
      log(`bidder ready on port ${port} after ${((nowUs() - startedUs) / 1e6).toFixed(1)} s; load for ${o.durationS} s`);
      const startUs = nowUs();
      load = await driveLoad(port, set, o);
      window = { startUs, endUs: nowUs() };
    } catch (err) {
      c.kill();
      await c.exited.catch(() => null);
      throw new Error(`${(err as Error).message} (see ${paths.runLog})`);
    }
    log(`load: ${describeLoad(load)}`);
    log('stopping the bidder (SIGINT); 0x collects');
    c.interrupt();
    const code = await withTimeout(c.exited, kCollectTimeoutMs, () => c.kill());
    if (code !== 0) throw new Error(`0x exited with ${code} (see ${paths.runLog})`);
    return { load, window };
  } finally {
    rmSync(setDir, { recursive: true, force: true });
  }
}

/** The main thread: its flame graph from the load's start, and its self-time table over the load window. */
async function mainThreadReport(paths: RunPaths, window: WindowUs, title: string): Promise<{ thread: ThreadReport; logWindow: WindowUs; command: string }> {
  const isolateLog = arrangeMainIsolateLog(paths.main, paths.isolateLogs, join(REPO_ROOT, kBidderScript));
  rmSync(paths.isolateLogs, { recursive: true, force: true });
  // The preload noted process.hrtime as it started; the log notes when it compiled the preload.
  const mark = JSON.parse(readFileSync(paths.clockMark, 'utf8')) as ClockMark;
  rmSync(paths.clockMark);
  const logFile = join(paths.main, isolateLog);
  const logStartUs = mark.hrtimeUs - scriptCompiledAtUs(logFile, join(REPO_ROOT, kPreloadScript));
  const logWindow = { startUs: window.startUs - logStartUs, endUs: window.endUs - logStartUs };
  // 0x leaves out the ticks within --collect-delay ms of the first.
  const skipMs = Math.max(0, Math.round((logWindow.startUs - firstTickUs(logFile)) / 1000));
  log(`rendering the main thread (0x; the first ${(skipMs / 1000).toFixed(1)} s, start-up, left out)`);
  const ticksFile = await visualizeFolder(paths.main, isolateLog, `${title}, from the load's start`, skipMs, paths.runLog);
  const report = ticksSelfTime(JSON.parse(readFileSync(ticksFile, 'utf8')) as PreprocessedTicks, logWindow);
  return {
    thread: { name: 'main', tid: 0, source: '0x, V8 --prof ticks', flameGraph: 'main/flamegraph.html', data: [`main/${isolateLog}`, `main/${isolateLog}.json`], report },
    logWindow,
    command: `0x --visualize-only ${rel(paths.main)} --collect-delay ${skipMs}`,
  };
}

/** node names its profiles CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; renames them worker-<tid>.cpuprofile. */
function collectWorkerProfiles(dir: string): { name: string; tid: number; profile: CpuProfile }[] {
  const out: { name: string; tid: number; profile: CpuProfile }[] = [];
  for (const file of readdirSync(dir)) {
    const m = /^CPU\.\d+\.\d+\.\d+\.(\d+)\.\d+\.cpuprofile$/.exec(file);
    if (!m) continue;
    const tid = Number(m[1]);
    const name = `worker-${tid}`;
    renameSync(join(dir, file), join(dir, `${name}.cpuprofile`));
    out.push({ name, tid, profile: JSON.parse(readFileSync(join(dir, `${name}.cpuprofile`), 'utf8')) as CpuProfile });
  }
  return out.sort((a, b) => a.tid - b.tid);
}

/** Each worker: its profile cut to the load window, that profile's flame graph, its self-time table. */
async function workerReports(paths: RunPaths, window: WindowUs, scenario: string): Promise<ThreadReport[]> {
  const reports: ThreadReport[] = [];
  for (const w of collectWorkerProfiles(paths.threads)) {
    const trimmed = join(paths.threads, `${w.name}.load.cpuprofile`);
    writeFileSync(trimmed, JSON.stringify(trimProfile(w.profile, window)));
    log(`rendering ${w.name}`);
    await visualizeCpuProfile(trimmed, `${w.name}.load`, `bidder ${scenario}: ${w.name}, load window`, paths.out, paths.runLog);
    reports.push({
      name: w.name,
      tid: w.tid,
      source: '--cpu-prof',
      flameGraph: `threads/${w.name}.load.html`,
      data: [`threads/${w.name}.load.cpuprofile`],
      report: selfTime(w.profile, { window, isIdle: isPiscinaWait }),
    });
  }
  if (reports.length === 0) throw new Error(`no worker wrote a profile in ${paths.threads}`);
  return reports;
}

async function profile(o: ProfileOptions, argv: string[]): Promise<void> {
  const s = o.scenario;
  const out = join(REPO_ROOT, 'profiles', `${s.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const paths: RunPaths = {
    out,
    main: join(out, 'main'),
    isolateLogs: join(out, 'isolate-logs'),
    threads: join(out, 'threads'),
    runLog: join(out, 'run.log'),
    clockMark: join(out, 'clock-mark.json'),
  };
  for (const d of [paths.main, paths.isolateLogs, paths.threads]) mkdirSync(d, { recursive: true });
  const env: Record<string, string> = { ...s.env, ...(o.threads !== null ? { BIDDER_POOL_THREADS: String(o.threads) } : {}) };
  const title = `bidder ${s.name}: main thread`;
  const collectCommand =
    `${kWorkersCpuProfDirEnv}=${rel(paths.threads)} 0x --collect-only --output-dir ${rel(paths.main)} --working-dir ${rel(paths.isolateLogs)} ` +
    `-- node --no-print-opt-source -r ${kPreloadScript} ${kBidderScript}`;
  log(`${s.name}: ${s.description}`);
  log(`${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')} ${collectCommand}`);

  const { load, window } = await runUnderLoad(o, paths, env, title);
  const main = await mainThreadReport(paths, window, title);
  const workers = await workerReports(paths, window, s.name);

  const summary: RunSummary = {
    scenario: s.name,
    description: s.description,
    createdAt: new Date().toISOString(),
    command: `npm run profile -- ${argv.join(' ')}`,
    bidder: { env, commands: [collectCommand, main.command] },
    load,
    windowUs: window,
    mainLogWindowUs: main.logWindow,
    threads: [main.thread, ...workers],
  };
  writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summaryJson(summary, kTopN), null, 2)}\n`);
  const text = summaryText(summary, kTopN, rel(out), REPO_ROOT);
  writeFileSync(join(out, 'summary.txt'), text);
  process.stdout.write(text);
  log(`done: open ${rel(out)}/main/flamegraph.html and ${rel(out)}/threads/*.load.html in a browser`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const parsed = parseArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(`profile: ${parsed.errors.join('\nprofile: ')}\n${kUsage}\n`);
    process.exit(2);
  }
  const reason = unavailableReason(parsed.options.scenario);
  if (reason) {
    process.stderr.write(`profile: scenario ${parsed.options.scenario.name} cannot run here: ${reason}\n`);
    process.exit(2);
  }
  await profile(parsed.options, argv);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`profile: failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}

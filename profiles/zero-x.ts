/**
 * Driving 0x (6.x) from a script. `0x [flags] -- node [node flags] script` runs the
 * script under `node --prof` plus the node flags given; --prof writes one V8 isolate log
 * per thread (`isolate-<address>-<pid>-<pid>-v8.log` in 0x's `--working-dir`), and 0x
 * then renders whichever of them it lists first: with worker threads, maybe a worker's.
 * So the profiler collects only (`--collect-only`), puts the main thread's log alone in
 * the output folder, and renders that (`--visualize-only`). The worker threads are
 * profiled by node's own --cpu-prof instead (see bidder-preload.ts).
 *
 * 0x's SIGINT/SIGTERM preload makes the target call process.exit() at once (no drain),
 * which is what writes the logs and every worker's --cpu-prof file; 0x itself only waits
 * for the target to exit, so the signal goes to the whole process group, as Ctrl+C would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const ZERO_X_CLI = require.resolve('0x/cmd.js');

const kIsolateLog = /^isolate-(?:0x)?[0-9A-Fa-f]+(?:-\d+)?-\d+-v8\.log$/;

export interface CollectOptions {
  /**
   * 0x's working directory, and so the target's. Not logDir: with --collect-only, 0x
   * deletes every isolate log in its own working directory before it exits.
   */
  cwd: string;
  /** Where 0x puts the log it picked and meta.json (`--output-dir`). */
  outputDir: string;
  /** Where node writes the isolate logs (0x's `--working-dir`). */
  logDir: string;
  title: string;
  nodeFlags: string[];
  script: string;
  env: NodeJS.ProcessEnv;
  /** File that receives 0x's and the target's stdout and stderr. */
  logFile: string;
}

export interface Collecting {
  child: ChildProcess;
  /** 0x's exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** SIGINT to 0x and the target, as Ctrl+C in a terminal. */
  interrupt(): void;
  /** SIGKILL to the whole group: the last resort. */
  kill(): void;
}

/** Starts `0x --collect-only -- node <nodeFlags> <script>` in a process group of its own. */
export function startCollecting(o: CollectOptions): Collecting {
  const log = openSync(o.logFile, 'a');
  const args = [
    ZERO_X_CLI,
    '--collect-only',
    '--output-dir', o.outputDir,
    '--working-dir', o.logDir,
    '--title', o.title,
    '--', process.execPath, ...o.nodeFlags, o.script,
  ];
  const child = spawn(process.execPath, args, { cwd: o.cwd, env: o.env, detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  const exited = new Promise<number | null>((res, rej) => {
    child.once('error', rej);
    child.once('exit', (code) => res(code));
  });
  const signalGroup = (signal: NodeJS.Signals): void => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // the group is gone already
    }
  };
  return { child, exited, interrupt: () => signalGroup('SIGINT'), kill: () => signalGroup('SIGKILL') };
}

/**
 * Finds the isolate log of the thread that ran `marker` (a path only the main thread
 * loads), leaves it alone in outputDir, and deletes the other threads' logs and whatever
 * 0x derived from any log (0x 6 cannot re-render from its own .json: it preprocesses the
 * .log again). Returns the log's file name.
 */
export function arrangeMainIsolateLog(outputDir: string, logDir: string, marker: string): string {
  const candidates: { dir: string; file: string }[] = [];
  for (const dir of [outputDir, logDir]) {
    for (const file of readdirSync(dir)) if (kIsolateLog.test(file)) candidates.push({ dir, file });
  }
  const needle = Buffer.from(marker);
  const main = candidates.filter((c) => readFileSync(join(c.dir, c.file)).includes(needle));
  if (main.length !== 1) {
    throw new Error(`expected one isolate log mentioning ${marker} among ${candidates.map((c) => c.file).join(', ') || 'none'}, found ${main.length}`);
  }
  const { dir, file } = main[0];
  for (const d of [outputDir, logDir]) {
    for (const f of readdirSync(d)) if (f.startsWith('isolate-') && !(d === dir && f === file)) rmSync(join(d, f));
  }
  if (dir !== outputDir) renameSync(join(dir, file), join(outputDir, file));
  return file;
}

/** The tm (µs since the isolate's logger started) of the first tick in a raw V8 log. */
export function firstTickUs(logFile: string): number {
  const text = readFileSync(logFile, 'latin1');
  const m = /^tick,[^,]*,(\d+),/m.exec(text);
  if (!m) throw new Error(`${logFile} holds no tick`);
  return Number(m[1]);
}

/**
 * When the log's isolate compiled the top-level code of a script (µs on the log's clock),
 * from its `code-creation,JS,<kind>,<tm>,<address>,<size>, <path>:1:1,...` line.
 */
export function scriptCompiledAtUs(logFile: string, scriptPath: string): number {
  const text = readFileSync(logFile, 'latin1');
  const line = `, ${scriptPath}:1:1,`;
  for (let at = text.indexOf(line); at >= 0; at = text.indexOf(line, at + 1)) {
    const start = text.lastIndexOf('\n', at) + 1;
    const m = /^code-creation,JS,\d+,(\d+),/.exec(text.slice(start, at));
    if (m) return Number(m[1]);
  }
  throw new Error(`${logFile} does not log the compilation of ${scriptPath}`);
}

function run0x(args: string[], cwd: string, logFile: string): Promise<void> {
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [ZERO_X_CLI, ...args], { cwd, stdio: ['ignore', log, log] });
  closeSync(log);
  return new Promise((res, rej) => {
    child.once('error', rej);
    child.once('exit', (code) => (code === 0 ? res() : rej(new Error(`0x ${args.join(' ')} exited with ${code}; see ${logFile}`))));
  });
}

/**
 * Renders the folder arranged by arrangeMainIsolateLog as `<folder>/flamegraph.html`,
 * leaving out the ticks of the first delayMs. 0x preprocesses the log into
 * `<log>.json` (code and ticks); returns that file's path.
 */
export async function visualizeFolder(folder: string, isolateLog: string, title: string, delayMs: number, logFile: string): Promise<string> {
  // Run from the parent: 0x reads the folder relative to its working directory.
  await run0x(['--visualize-only', folder, '--title', title, '--collect-delay', String(Math.max(0, Math.round(delayMs)))], dirname(folder), logFile);
  rmSync(join(folder, `${isolateLog}.preprocess-ready`), { force: true });
  return join(folder, `${isolateLog}.json`);
}

/** Renders a .cpuprofile as `<its folder>/<name>.html`. */
export function visualizeCpuProfile(file: string, name: string, title: string, cwd: string, logFile: string): Promise<void> {
  return run0x(['--visualize-cpu-profile', file, '--name', name, '--title', title], cwd, logFile);
}

/**
 * Process plumbing for the benchmarks: free ports, starting a server and waiting until it
 * is ready, and reading a process's CPU time and RSS from /proc (every thread counted).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat; 100 on every Linux we run on. */
const kClockTicksPerSecond = 100;

/** utime + stime of the whole process (every thread), in milliseconds. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may itself contain spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / kClockTicksPerSecond;
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : 0;
}

export interface RunningServer {
  name: string;
  port: number;
  /**
   * Where /metrics and /debug/latency answer: the operations listener of a build that has
   * one, else the bidding port (a reference build of an older commit, or a peer).
   */
  opsPort: number;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface ServerLaunch {
  name: string;
  /** Node script and its arguments, relative to the repository root. */
  script: string;
  args: string[];
  /** GET path that answers 200 once the server is ready. */
  readyPath: string;
  env: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** The bidder: give its operations listener a free port (when the build has one). */
  opsListener?: boolean;
  /** Where the child's stderr goes; 'inherit' by default so a crash is visible. */
  stderr?: 'inherit' | 'ignore';
}

/**
 * The operations listener's variables for a bidder launch. Only a build that has the
 * listener gets them: an older build refuses BIDDER_* variables it does not know. A port
 * the caller chose (launch.env) is kept; otherwise a free one, so that two bidders, or a
 * Prometheus on its default 9090, never collide with the bidder's default.
 */
async function opsListenerEnv(root: string, launch: ServerLaunch): Promise<{ env: Record<string, string>; opsPort: number | null }> {
  if (!launch.opsListener || !existsSync(join(root, 'dist/src/ops/ops.worker.js'))) return { env: {}, opsPort: null };
  const chosen = launch.env.BIDDER_OPS_PORT ?? process.env.BIDDER_OPS_PORT;
  const opsPort = chosen !== undefined ? Number(chosen) : await freePort();
  return { env: { BIDDER_OPS_HOST: launch.env.BIDDER_OPS_HOST ?? '127.0.0.1', BIDDER_OPS_PORT: String(opsPort) }, opsPort };
}

export async function startServer(root: string, launch: ServerLaunch, readyTimeoutMs = 60_000): Promise<RunningServer> {
  const port = await freePort();
  const ops = await opsListenerEnv(root, launch);
  const child = spawn(process.execPath, [...(launch.nodeArgs ?? []), launch.script, ...launch.args], {
    cwd: root,
    env: { ...process.env, ...launch.env, ...ops.env, BIDDER_PORT: String(port), BIDDER_HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', launch.stderr ?? 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    await waitReady(port, launch.readyPath, child, readyTimeoutMs);
  } catch (err) {
    await stop();
    throw new Error(`${launch.name}: ${(err as Error).message}`);
  }
  return { name: launch.name, port, opsPort: ops.opsPort ?? port, pid: child.pid!, child, stop };
}

async function waitReady(port: number, path: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before it was ready`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready within ${timeoutMs} ms`);
}

/** CPU and RSS of a server over a measured window. */
export class CostMeter {
  private cpuAtStart: number;
  constructor(private readonly pid: number) {
    this.cpuAtStart = processCpuMs(pid);
  }
  finish(requests: number): { cpuMsPer1000: number; rssMb: number } {
    const cpu = processCpuMs(this.pid) - this.cpuAtStart;
    return {
      cpuMsPer1000: requests > 0 ? Math.round((cpu * 1000 * 10) / requests) / 10 : 0,
      rssMb: rssMb(this.pid),
    };
  }
}

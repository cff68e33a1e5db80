/**
 * The bid path against the inline peers (bench/peers/inline-server.ts), back to back in one run: wrk closed loop
 * (-t1 -c64 by default) on the OpenRTB 2.6 simple-banner sample, alternating servers
 * for a few rounds so machine noise hits both. Reports requests/s, p50/p99 and the
 * server's CPU time per 1,000 requests (all threads, from /proc), and writes JSON to
 * bench/results/compare-inline-<time>.json.
 *
 *   npm run bench:compare -- [--rounds 3] [--duration 10] [--connections 64]
 *                            [--variant name=ENV=V,ENV=V ...]
 *
 * Needs wrk (Debian: apt-get install wrk) and the shared corpus (or --body FILE).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const DEFAULT_BODY = resolve(ROOT, '../shared/corpus/spec-examples/bid-request/2.6/simple-banner.json');

interface Args {
  rounds: number;
  duration: number;
  connections: number;
  body: string;
  variants: { name: string; env: Record<string, string> }[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { rounds: 3, duration: 10, connections: 64, body: DEFAULT_BODY, variants: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--rounds') args.rounds = Number(v), i++;
    else if (a === '--duration') args.duration = Number(v), i++;
    else if (a === '--connections') args.connections = Number(v), i++;
    else if (a === '--body') args.body = resolve(v), i++;
    else if (a === '--variant') {
      const [name, spec = ''] = v.split(/=(.*)/s);
      const env: Record<string, string> = {};
      for (const kv of spec.split(',').filter(Boolean)) {
        const at = kv.indexOf('=');
        env[kv.slice(0, at)] = kv.slice(at + 1);
      }
      args.variants.push({ name, env });
      i++;
    } else throw new Error(`unknown argument ${a}`);
  }
  if (args.variants.length === 0) args.variants.push({ name: 'bidder', env: {} });
  return args;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

/** utime + stime of the whole process (every thread), in milliseconds. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : 0;
}

async function waitReady(port: number, path: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: path === '/readyz' ? 'GET' : 'POST', body: path === '/readyz' ? undefined : '{}' });
      if (res.status === 200 || (path !== '/readyz' && res.status < 500)) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not become ready in 30 s');
}

interface WrkResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

function parseLatency(s: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(s);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

function runWrk(port: number, args: Args, luaFile: string): Promise<WrkResult> {
  return new Promise((res, rej) => {
    const wrk = spawn('wrk', ['-t1', `-c${args.connections}`, `-d${args.duration}s`, '--latency', '-s', luaFile, `http://127.0.0.1:${port}/openrtb2/bid`]);
    let out = '';
    wrk.stdout.on('data', (d) => (out += d));
    wrk.stderr.on('data', (d) => (out += d));
    wrk.on('error', rej);
    wrk.on('close', () => {
      const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
      const p50 = parseLatency(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '');
      const p99 = parseLatency(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '');
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
      const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const errors = se ? se.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
      if (requests === 0) rej(new Error(`wrk produced no result:\n${out}`));
      else res({ requests, rps, p50Ms: p50, p99Ms: p99, non2xx, errors });
    });
  });
}

interface Server {
  name: string;
  script: string;
  args?: string[];
  ready: string;
  env: Record<string, string>;
}

async function measure(server: Server, args: Args, luaFile: string): Promise<Record<string, number | string>> {
  const port = await freePort();
  const child = spawn(process.execPath, [resolve(ROOT, server.script), ...(server.args ?? [])], {
    env: { ...process.env, ...server.env, BIDDER_PORT: String(port), BIDDER_HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitReady(port, server.ready, child);
    // A short warm-up so both servers are measured with a hot JIT.
    await runWrk(port, { ...args, duration: 2 }, luaFile);
    const cpuBefore = processCpuMs(child.pid!);
    const wrk = await runWrk(port, args, luaFile);
    const cpuAfter = processCpuMs(child.pid!);
    return {
      server: server.name,
      rps: Math.round(wrk.rps),
      p50Ms: wrk.p50Ms,
      p99Ms: wrk.p99Ms,
      cpuMsPer1000: Math.round(((cpuAfter - cpuBefore) * 1000 * 10) / wrk.requests) / 10,
      rssMb: Math.round(rssMb(child.pid!)),
      non2xx: wrk.non2xx,
      errors: wrk.errors,
    };
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const body = readFileSync(args.body, 'utf8');
  const lua = resolve(ROOT, 'bench/results/.post.lua');
  mkdirSync(resolve(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    lua,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`,
  );
  const servers: Server[] = [
    { name: 'inline', script: 'dist/bench/peers/inline-server.js', ready: '/openrtb2/bid', env: {} },
    { name: 'inline-batched', script: 'dist/bench/peers/inline-server.js', args: ['--batched'], ready: '/openrtb2/bid', env: {} },
    ...args.variants.map((v) => ({ name: v.name, script: 'dist/src/main.js', ready: '/readyz', env: v.env })),
  ];
  const rows: Record<string, number | string>[] = [];
  for (let round = 1; round <= args.rounds; round++) {
    for (const s of servers) {
      const r = { round, ...(await measure(s, args, lua)) };
      rows.push(r);
      process.stdout.write(`${JSON.stringify(r)}\n`);
    }
  }
  const summary = servers.map((s) => {
    const mine = rows.filter((r) => r.server === s.name);
    const pick = (k: string): number => median(mine.map((r) => Number(r[k])));
    return { server: s.name, rps: pick('rps'), p50Ms: pick('p50Ms'), p99Ms: pick('p99Ms'), cpuMsPer1000: pick('cpuMsPer1000'), rssMb: pick('rssMb') };
  });
  const inline = summary[0];
  process.stdout.write('\nmedian of rounds (wrk -t1 -c' + args.connections + `, ${args.duration}s, simple-banner)\n`);
  const batched = summary[1];
  process.stdout.write('server            req/s    p50 ms   p99 ms   CPU ms/1k req   RSS MB   x inline req/s   x inline CPU   x batched req/s   x batched CPU\n');
  for (const s of summary) {
    process.stdout.write(
      `${s.server.padEnd(16)} ${String(s.rps).padStart(7)} ${s.p50Ms.toFixed(2).padStart(9)} ${s.p99Ms.toFixed(2).padStart(8)} ${s.cpuMsPer1000.toFixed(1).padStart(15)} ${String(s.rssMb).padStart(8)} ${(s.rps / inline.rps).toFixed(2).padStart(16)} ${(s.cpuMsPer1000 / inline.cpuMsPer1000).toFixed(2).padStart(14)} ${(s.rps / batched.rps).toFixed(2).padStart(17)} ${(s.cpuMsPer1000 / batched.cpuMsPer1000).toFixed(2).padStart(15)}\n`,
    );
  }
  const file = resolve(ROOT, `bench/results/compare-inline-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ args: { ...args, body: args.body }, rows, summary }, null, 2));
  process.stdout.write(`\nwritten ${file}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});

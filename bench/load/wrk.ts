/**
 * Closed-loop load with Debian's wrk (C, epoll: far cheaper per request than any Node
 * generator, so it leaves the cores to the server): N connections, each sending its next
 * request as soon as the previous answer arrives, cycling through a request set. A Lua
 * script loads the set, and its done() hook prints the figures as JSON, p99.9 included.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import type { RequestSetFile } from './request-set';

export interface ClosedLoopRaw {
  requests: number;
  rps: number;
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  non2xx: number;
  errors: number;
}

export function wrkAvailable(): boolean {
  return spawnSync('wrk', ['--version']).error === undefined;
}

function luaScript(set: RequestSetFile): string {
  return `
local requests = {}
local n = 0
function init(args)
  local idx = io.open(${JSON.stringify(set.idx)}, "r")
  local bin = io.open(${JSON.stringify(set.bin)}, "rb")
  local gzip = idx:read("*l") == "gzip"
  local headers = { ["Content-Type"] = "application/json" }
  if gzip then headers["Content-Encoding"] = "gzip" end
  for line in idx:lines() do
    local len = tonumber(line)
    if len then
      n = n + 1
      requests[n] = wrk.format("POST", "/openrtb2/bid", headers, bin:read(len))
    end
  end
  idx:close()
  bin:close()
end
local i = 0
function request()
  i = i % n + 1
  return requests[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"durationUs":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f,"non2xx":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean, e.status, e.connect + e.read + e.write + e.timeout))
end
`;
}

export function runWrk(port: number, set: RequestSetFile, connections: number, durationS: number): Promise<ClosedLoopRaw> {
  const script = join(dirname(set.bin), 'wrk-requests.lua');
  writeFileSync(script, luaScript(set));
  return new Promise((resolve, reject) => {
    const wrk = spawn('wrk', ['-t1', `-c${connections}`, `-d${durationS}s`, '--timeout', '5s', '-s', script, `http://127.0.0.1:${port}/openrtb2/bid`]);
    let out = '';
    wrk.stdout.on('data', (d) => (out += d));
    wrk.stderr.on('data', (d) => (out += d));
    wrk.on('error', reject);
    wrk.on('close', () => {
      const line = /WRKJSON (\{.*\})/.exec(out);
      if (!line) return reject(new Error(`wrk produced no result:\n${out}`));
      const r = JSON.parse(line[1]) as Record<string, number>;
      if (r.requests === 0) return reject(new Error(`wrk completed no request:\n${out}`));
      resolve({
        requests: r.requests,
        rps: Math.round((r.requests * 1e6) / r.durationUs),
        latencyUs: { p50: r.p50, p90: r.p90, p99: r.p99, p999: r.p999, max: r.max, mean: Math.round(r.mean) },
        non2xx: r.non2xx,
        errors: r.errors,
      });
    });
  });
}

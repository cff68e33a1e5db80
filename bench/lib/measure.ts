/**
 * One measurement of one running server: closed loop (wrk, or the Node generator when wrk
 * is absent) for peak throughput, or open loop at a fixed rate for honest latency. Each
 * returns the load figures plus the server's own CPU per 1,000 requests and RSS.
 */
import { runLoadInChild } from '../load/load-child';
import type { RequestSetFile } from '../load/request-set';
import { runWrk, wrkAvailable } from '../load/wrk';
import { CostMeter, type RunningServer } from './proc';
import type { ClosedLoopResult, OpenLoopResult } from './results';

export interface ClosedLoopPlan {
  connections: number;
  warmupS: number;
  durationS: number;
}

let haveWrk: boolean | undefined;

export function closedLoopGenerator(): 'wrk' | 'node' {
  haveWrk ??= wrkAvailable();
  return haveWrk ? 'wrk' : 'node';
}

async function closedLoopOnce(server: RunningServer, set: RequestSetFile, connections: number, durationS: number) {
  if (closedLoopGenerator() === 'wrk') return runWrk(server.port, set, connections, durationS);
  const r = await runLoadInChild({ port: server.port, set, rate: 0, durationS, connections, closed: true });
  const non2xx = Object.entries(r.status).reduce((n, [code, count]) => (code.startsWith('2') ? n : n + count), 0);
  return { requests: r.completed, rps: r.achievedRate, latencyUs: r.latencyUs, non2xx, errors: r.errors };
}

export async function measureClosed(server: RunningServer, set: RequestSetFile, plan: ClosedLoopPlan): Promise<ClosedLoopResult> {
  // Warm-up so every server is measured with a hot JIT and warm caches.
  if (plan.warmupS > 0) await closedLoopOnce(server, set, plan.connections, plan.warmupS);
  const cost = new CostMeter(server.pid);
  const r = await closedLoopOnce(server, set, plan.connections, plan.durationS);
  return {
    server: server.name,
    connections: plan.connections,
    durationS: plan.durationS,
    generator: closedLoopGenerator(),
    ...r,
    ...cost.finish(r.requests),
  };
}

export function bidShare(status: Record<string, number>): number | null {
  const bids = status['200'] ?? 0;
  const noBids = status['204'] ?? 0;
  if (bids + noBids === 0) return null;
  return Math.round((bids / (bids + noBids)) * 1000) / 1000;
}

export async function measureOpen(server: RunningServer, set: RequestSetFile, rate: number, durationS: number, connections: number): Promise<OpenLoopResult> {
  const cost = new CostMeter(server.pid);
  const r = await runLoadInChild({ port: server.port, set, rate, durationS, connections });
  return {
    server: server.name,
    offeredRate: rate,
    achievedRate: r.achievedRate,
    durationS,
    sent: r.sent,
    completed: r.completed,
    errors: r.errors,
    status: r.status,
    bidShare: server.name === 'ceiling' ? null : bidShare(r.status),
    latencyUs: r.latencyUs,
    curve: r.curve,
    ...cost.finish(r.completed),
  };
}

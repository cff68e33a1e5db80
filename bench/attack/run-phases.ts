/**
 * Runs the attack plan against a running bidder: for each phase the attack starts, runs
 * its lead-in, then honest open-loop traffic is measured while it goes on; the attack
 * stops by itself shortly after. The honest client is injected, so the same logic runs
 * from bench/attacks.ts (the load generator in a child process) and from its test.
 */
import type { LoadResult } from '../load/open-loop';
import { everyMediaRequest, getRequest, gzipBomb, postRequest } from './attack-requests';
import { idleConnections, requestFlood, slowSenders, type RunningAttack } from './attackers';
import { applyBaselineRatios, summarizeHonest, type AttackPlan, type AttackSpec, type PhaseResult } from './phases';

export interface AttackTarget {
  port: number;
  /** The ops listener's port, or null when the bidder has none configured. */
  opsPort: number | null;
}

/** Runs honest open-loop traffic for `durationS` at the plan's rate and returns what it measured. */
export type HonestClient = (durationS: number) => Promise<LoadResult>;

/** How long an attack outlives the honest traffic it overlaps, at most. */
const kAttackTailMs = 2_000;
const kOpsProbeTimeoutMs = 1_000;
/** The text form of /debug/latency: the storm hits the formatting path, not the JSON one. */
export const kOpsLatencyPath = '/debug/latency';

/** Null when GET /debug/latency on the ops port answers 200, else why not. */
export async function probeOps(opsPort: number | null): Promise<string | null> {
  if (opsPort === null) return 'no ops port configured';
  try {
    const res = await fetch(`http://127.0.0.1:${opsPort}${kOpsLatencyPath}`, { signal: AbortSignal.timeout(kOpsProbeTimeoutMs) });
    await res.arrayBuffer();
    return res.status === 200 ? null : `the ops port ${opsPort} answered ${kOpsLatencyPath} with ${res.status}`;
  } catch (err) {
    return `the ops port ${opsPort} does not answer ${kOpsLatencyPath} (${(err as Error).message}): is the ops listener built?`;
  }
}

/** Starts the attack a spec describes; null for the baseline. */
export function startAttack(spec: AttackSpec, target: AttackTarget, durationMs: number): RunningAttack | null {
  switch (spec.kind) {
    case 'none':
      return null;
    case 'slow-senders':
      return slowSenders({ port: target.port, durationMs, ...spec });
    case 'idle-connections':
      return idleConnections({ port: target.port, connections: spec.connections, reopenMs: 100, durationMs });
    case 'every-media':
      return requestFlood({ attack: 'every-media', port: target.port, request: postRequest(everyMediaRequest(spec.imps)), concurrency: spec.concurrency, durationMs });
    case 'gzip-bomb':
      return requestFlood({
        attack: 'gzip-bomb',
        port: target.port,
        request: postRequest(gzipBomb(spec.inflatedBytes), { 'Content-Encoding': 'gzip' }),
        concurrency: spec.concurrency,
        durationMs,
      });
    case 'ops-latency-storm':
      if (target.opsPort === null) return null;
      return requestFlood({ attack: 'ops-latency-storm', port: target.opsPort, request: getRequest(kOpsLatencyPath), concurrency: spec.concurrency, durationMs });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runPhases(
  target: AttackTarget,
  plan: AttackPlan,
  honest: HonestClient,
  log: (line: string) => void = () => undefined,
): Promise<{ phases: PhaseResult[]; baselineP99Ms: number | null }> {
  const phases: PhaseResult[] = [];
  for (const spec of plan.phases) {
    const result: PhaseResult = { name: spec.name, description: spec.description, attack: spec.attack, honest: null, attacker: null };
    phases.push(result);
    if (spec.attack.kind === 'ops-latency-storm') {
      const why = await probeOps(target.opsPort);
      if (why !== null) {
        result.skipped = why;
        log(`${spec.name}: skipped: ${why}`);
        continue;
      }
    }
    log(`${spec.name}: ${spec.description}`);
    const attack = startAttack(spec.attack, target, plan.leadInMs + plan.phaseS * 1000 + kAttackTailMs);
    try {
      if (attack !== null) await sleep(plan.leadInMs);
      result.honest = summarizeHonest(await honest(plan.phaseS));
    } finally {
      attack?.stop();
      if (attack !== null) result.attacker = await attack.done;
    }
    await sleep(plan.settleMs);
  }
  const baselineP99Ms = applyBaselineRatios(phases);
  return { phases, baselineP99Ms };
}

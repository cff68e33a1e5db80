/**
 * What one fault under load did to the honest traffic, and whether that is acceptable.
 * Every request the load generator wrote must get an answer (none lost), none may be a
 * 5xx or any status but 200 or 204, and none may come after the exchange's deadline
 * (late). A 204 is a designed answer when the bidder gives its reason (worker_failed,
 * tmax_exceeded, draining, budget_exhausted, ...): those are reported, not failures.
 */
import type { LoadResult } from '../load/open-loop';

export interface FaultCounts {
  /** Requests the schedule had due over the run. */
  offered: number;
  /** Requests written to a connection. */
  sent: number;
  answered: number;
  /** Written and never answered: in flight on a connection that closed, or still unanswered at the end. */
  lost: number;
  fiveXx: number;
  /** Answers with any other status than 200, 204 or 5xx (an honest request is never a 4xx). */
  otherStatus: number;
  /** Answers later than the deadline after their due time. */
  late: number;
  /**
   * Due but never written because no connection would open: after SIGTERM the listener is
   * closed on purpose (the load balancer sends elsewhere), so these are designed.
   */
  notSent: number;
  bids: number;
  noBids: number;
}

export function faultCounts(r: LoadResult, rate: number): FaultCounts {
  const offered = Math.floor(rate * r.durationS);
  let fiveXx = 0;
  let otherStatus = 0;
  for (const [code, n] of Object.entries(r.status)) {
    const c = Number(code);
    if (c >= 500) fiveXx += n;
    else if (c !== 200 && c !== 204) otherStatus += n;
  }
  return {
    offered,
    sent: r.sent,
    answered: r.completed,
    lost: r.errors + Math.max(0, r.sent - r.completed - r.errors),
    fiveXx,
    otherStatus,
    late: r.late ?? 0,
    notSent: Math.max(0, offered - r.sent),
    bids: r.status['200'] ?? 0,
    noBids: r.status['204'] ?? 0,
  };
}

/** Why the counts fail the goal; empty when lost, 5xx, other statuses and late are all 0. */
export function countFailures(c: FaultCounts): string[] {
  const out: string[] = [];
  if (c.lost > 0) out.push(`${c.lost} lost`);
  if (c.fiveXx > 0) out.push(`${c.fiveXx} answered 5xx`);
  if (c.otherStatus > 0) out.push(`${c.otherStatus} answered neither 200, 204 nor 5xx`);
  if (c.late > 0) out.push(`${c.late} late`);
  if (c.answered === 0) out.push('nothing was answered: the load never reached the bidder');
  return out;
}

/** No-bid reasons counted by the bidder over the fault (bidder_requests_total deltas), without the zeros. */
export function reasonDeltas(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [reason, n] of after) {
    const d = n - (before.get(reason) ?? 0);
    if (d > 0) out[reason] = d;
  }
  return out;
}

/** bidder_requests_total{outcome="no_bid",reason} from an exposition text, by reason. */
export function noBidReasons(metricsText: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = /^bidder_requests_total\{outcome="no_bid",reason="([a-z_]+)"\} (\S+)$/gm;
  for (let m = re.exec(metricsText); m !== null; m = re.exec(metricsText)) out.set(m[1], Number(m[2]));
  return out;
}

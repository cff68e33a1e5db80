/**
 * The shape of what the benchmark suite writes to bench/results/*.json, read by the HTML
 * report (bench/report/) and the regression gate (bench/gate/). Latencies are in
 * microseconds, rates in requests per second.
 */

export interface LatencySummaryUs {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Points of an HDR percentile curve: [percentile (0-100), latency µs]. */
export type PercentileCurve = [number, number][];

/** The server process's cost over the measured window (all threads, from /proc). */
export interface ServerCost {
  cpuMsPer1000: number;
  rssMb: number;
}

export interface ClosedLoopResult extends ServerCost {
  server: string;
  connections: number;
  durationS: number;
  /** 'wrk' when Debian's wrk ran the load, 'node' for the project's own generator. */
  generator: 'wrk' | 'node';
  requests: number;
  rps: number;
  latencyUs: LatencySummaryUs;
  non2xx: number;
  errors: number;
}

export interface OpenLoopResult extends ServerCost {
  server: string;
  offeredRate: number;
  achievedRate: number;
  durationS: number;
  sent: number;
  completed: number;
  errors: number;
  /** Response count by HTTP status code. */
  status: Record<string, number>;
  /** Responses with 200 (a bid) over all 2xx responses; null when the server never bids. */
  bidShare: number | null;
  latencyUs: LatencySummaryUs;
  curve: PercentileCurve;
}

export interface ScenarioResult {
  name: string;
  description: string;
  closed: ClosedLoopResult[];
  /** Open-loop runs: the throughput-latency sweep, every server at the same offered rates. */
  open: OpenLoopResult[];
  /** The offered rate the percentile curves and tail ratios are compared at. */
  referenceRate: number | null;
  /**
   * The gate only: the offered rate of its bidder-vs-twin p99 figure (a share of the
   * twin's closed-loop peak, bench/gate.ts). Suite results compare the twin at every rate.
   */
  twinRate?: number | null;
}

/** The bidder against one peer in one scenario; each figure is bidder / peer. */
export interface PeerRatios {
  scenario: string;
  peer: string;
  throughput: number;
  cpuPerRequest: number;
  /** At the reference rate; null when that rate was not measured. */
  p99: number | null;
  p999: number | null;
}

export interface GoalResult {
  goal: string;
  measured: string;
  met: boolean;
  /** The issue that set the goal (absent in results written before goals named theirs). */
  issue?: number;
}

export interface SuiteResults {
  kind: 'suite' | 'gate';
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; node: string; loadAvg: number[] };
  scenarios: ScenarioResult[];
  ratios: PeerRatios[];
  goals: GoalResult[];
  /** What each server of the run is, by name (the twin's line says which build ran). */
  servers?: Record<string, string>;
}

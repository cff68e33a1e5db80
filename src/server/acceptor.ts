/**
 * One acceptor: a uWS app on the bidding port and the whole bid path for the connections
 * it accepts (body receiver, dispatcher with its inline lane and placement, answers and
 * their metrics). The bidder runs `server.acceptors` of them, all listening on the same
 * port (SO_REUSEPORT: the kernel spreads connections over them): the first on the main
 * thread, the others in threads of their own (acceptor.worker.ts). This module is the
 * same in every one of those threads; what differs is given to it: its metrics slot, its
 * range of the receive slab, and how it reaches the shared pool (the pool itself on the
 * main thread, a RemotePool elsewhere). Every acceptor shares the pool's free-slot count
 * (PoolSlots), so none of them queues work behind another's.
 */
import type { BidderConfig } from '../config/config';
import { M, NOTICE_KINDS, STAGES, type OutcomeTable } from '../metrics/definitions';
import { noticeKeyOf } from '../money/money-shared';
import { RingNoticeHandoff } from '../money/notice-handoff';
import { NOTICE_RESULTS } from '../notices/notice-request';
import type { NoticeRouteOptions } from './notice-route';
import { StageLatency } from '../metrics/latency';
import type { SlotWriter } from '../metrics/shared-metrics';
import { Dispatcher, type PlacementDeps, type PoolRunner } from '../pool/dispatcher';
import { FreeCores } from '../pool/free-cores';
import { buildInlineLane, type InlineLane } from '../pool/inline-lane';
import { CostModel } from '../pool/placement';
import type { PoolSlots } from '../pool/pool-slots';
import type { ReceiveSlab } from '../pool/receive-slab';
import type { WorkerInit } from '../pool/worker-init';
import { monoNowMs } from '../util/clock';
import { ReceiveMemory } from './body-receiver';
import { createSink, InFlightRequests, startServer, type HttpJob, type RunningServer } from './http-server';
import type { Uws } from './uws';

/** A failure to start an acceptor, with a stable code. */
export class AcceptorStartError extends Error {
  constructor(
    readonly code: 'INLINE_LANE_FAILED' | 'LISTEN_FAILED',
    message: string,
  ) {
    super(message);
  }
}

export interface AcceptorDeps {
  uws: Uws;
  config: BidderConfig;
  /** What the inline lane builds its engine from (the pool workers' own start data). */
  init: WorkerInit;
  outcomes: OutcomeTable;
  /** This thread's metrics slot. */
  metrics: SlotWriter;
  pool: PoolRunner;
  slots: PoolSlots;
  /** This acceptor's range of the shared receive slab. */
  slab: ReceiveSlab;
  /** The CPUs the process may use (cpu-budget.ts): the free-cores probe's ceiling. */
  cpus: number;
  isReady: () => boolean;
  /** The port to listen on: config.server.port for the first acceptor, the port it bound for the others. */
  port: number;
  /** Prefix of the bid ids this acceptor's lane mints (unique per thread). */
  idPrefix: string;
  /** 0 for the main thread's acceptor, then 1, 2, ...: picks this acceptor's notice ring. */
  index: number;
}

/** What each acceptor contributes to the process's gauges (summed over acceptors). */
export interface AcceptorGauges {
  requestsInFlight: number;
  pendingRequests: number;
  inFlightBatches: number;
  slabSegmentsInUse: number;
  receivingBytes: number;
}

export const ACCEPTOR_GAUGE_KEYS = [
  'requestsInFlight',
  'pendingRequests',
  'inFlightBatches',
  'slabSegmentsInUse',
  'receivingBytes',
] as const satisfies readonly (keyof AcceptorGauges)[];

const kTotalStage = STAGES.indexOf('total');

/** The notice endpoints of this acceptor, when the bidder runs the money loop. */
function noticeRouteOf(deps: AcceptorDeps): NoticeRouteOptions | undefined {
  const money = deps.init.money;
  if (money === undefined) return undefined;
  const counters = new Map<string, number>();
  for (const kind of NOTICE_KINDS) for (const result of NOTICE_RESULTS) counters.set(`${kind}:${result}`, deps.metrics.layout.offset(M.notices, [kind, result]));
  return {
    keys: [noticeKeyOf(money)],
    maxAgeSec: money.noticeMaxAgeSec,
    handoff: new RingNoticeHandoff(money.noticeRings[deps.index]),
    count: (kind, result) => deps.metrics.inc(counters.get(`${kind}:${result}`)!),
  };
}

/**
 * A drain closes the connections once no request has come for this long: longer than the
 * gap between two requests of a busy exchange connection, short beside a drain's budget.
 */
export const kDrainQuietMs = 200;

export class Acceptor {
  private server: RunningServer | null = null;
  private closed = false;
  private drainBeganAt = 0;

  private constructor(
    readonly dispatcher: Dispatcher<HttpJob>,
    private readonly slab: ReceiveSlab,
    readonly latency: StageLatency,
    private readonly inFlight: InFlightRequests,
    private readonly receiving: ReceiveMemory,
  ) {}

  /**
   * Warms the inline lane (when pool.inlineMaxBatch > 0), then listens. Rejects with an
   * AcceptorStartError, leaving nothing running.
   */
  static async start(deps: AcceptorDeps): Promise<Acceptor> {
    const { config, metrics } = deps;
    let lane: InlineLane | null = null;
    if (config.pool.inlineMaxBatch > 0) {
      try {
        lane = await buildInlineLane({ init: deps.init, outcomes: deps.outcomes, metrics, idPrefix: deps.idPrefix }, config.pool.inlineMaxBatch);
      } catch (err) {
        throw new AcceptorStartError('INLINE_LANE_FAILED', (err as Error).message);
      }
    }
    const latency = new StageLatency();
    const dispatcher = new Dispatcher<HttpJob>(
      deps.pool,
      deps.slab,
      createSink({ metrics, outcomes: deps.outcomes, latency }),
      {
        maxBatchSize: config.pool.maxBatchSize,
        maxPendingRequests: shareOf(config.pool.maxPendingRequests, config.server.acceptors, 1),
        maxQueueDelayMs: config.pool.maxQueueDelayMs,
        hardTimeoutMs: config.server.hardTimeoutMs,
        heavyBodyBytes: config.pool.heavyBodyBytes,
      },
      lane,
      lane === null ? null : placementDeps(metrics, lane, deps.cpus),
      deps.slots,
    );
    const acceptor = new Acceptor(dispatcher, deps.slab, latency, new InFlightRequests(), new ReceiveMemory());
    try {
      acceptor.server = await startServer({
        uws: deps.uws,
        config: {
          ...config.server,
          port: deps.port,
          maxReceivingBytes: shareOf(config.server.maxReceivingBytes, config.server.acceptors, config.server.maxBodyBytes),
        },
        testHooks: config.testHooks,
        slab: deps.slab,
        dispatcher,
        metrics,
        outcomes: deps.outcomes,
        latency,
        isReady: deps.isReady,
        inFlight: acceptor.inFlight,
        receiving: acceptor.receiving,
        notices: noticeRouteOf(deps),
      });
    } catch (err) {
      dispatcher.close();
      throw new AcceptorStartError('LISTEN_FAILED', (err as Error).message);
    }
    return acceptor;
  }

  get port(): number {
    return this.server!.port;
  }

  gauges(): AcceptorGauges {
    return {
      requestsInFlight: this.inFlight.count,
      pendingRequests: this.dispatcher.pendingCount(),
      inFlightBatches: this.dispatcher.inFlightBatches(),
      slabSegmentsInUse: this.slab.inUse(),
      receivingBytes: this.receiving.bytes,
    };
  }

  /** Requests this acceptor has answered since it started. */
  answered(): number {
    return this.latency.count(kTotalStage);
  }

  /** readyz answers 503 and late requests get a 204 and a close; then no new connection is accepted. */
  beginDrain(): void {
    this.drainBeganAt = monoNowMs();
    this.server!.setDraining();
    this.server!.stopAccepting();
  }

  /**
   * Resolves once no request has arrived for `quietMs` since the drain began. Until then
   * clients still write on their kept-alive connections (a load balancer's endpoints lag
   * the SIGTERM), and each such request gets its 204 and a close; closing the connections
   * while they are in use would lose what is on the wire. What is open after a quiet spell
   * is idle. The caller bounds the wait (the drain timeout).
   */
  whenQuiet(quietMs: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        const last = Math.max(this.drainBeganAt, this.server!.lastDrainingArrivalMs());
        const left = last + quietMs - monoNowMs();
        if (left <= 0) resolve();
        else setTimeout(check, Math.min(left + 1, quietMs));
      };
      check();
    });
  }

  /** Resolves once nothing received is still pending or in flight. */
  whenIdle(): Promise<void> {
    return this.dispatcher.whenIdle();
  }

  /** Stops the dispatcher's timers; answers still to come are dropped by their closed connections. */
  stopDispatching(): void {
    this.dispatcher.close();
  }

  /** Closes the listen socket and every connection: the thread may then end. Idempotent. */
  closeSockets(): void {
    if (this.closed) return;
    this.closed = true;
    this.dispatcher.close();
    this.server!.stopAccepting();
    this.server!.closeAll();
  }
}

/**
 * This acceptor's share of a process-wide bound (receive memory, waiting requests): the
 * bound holds for the process whatever the number of acceptors, and each gets at least `floor`.
 */
export function shareOf(total: number, acceptors: number, floor: number): number {
  return Math.max(floor, Math.floor(total / acceptors));
}

/** The placement's inputs and its meter (metrics of each decision), on this thread. */
function placementDeps(metrics: SlotWriter, lane: InlineLane, cpus: number): PlacementDeps {
  const placed = { inline: metrics.layout.offset(M.batches, ['inline']), pool: metrics.layout.offset(M.batches, ['pool']) };
  const cost = {
    inline: [metrics.layout.offset(M.batchCost, ['inline', 'estimated']), metrics.layout.offset(M.batchCost, ['inline', 'measured'])],
    pool: [metrics.layout.offset(M.batchCost, ['pool', 'estimated']), metrics.layout.offset(M.batchCost, ['pool', 'measured'])],
  };
  return {
    cost: new CostModel(lane.costs),
    cores: new FreeCores(cpus, monoNowMs()),
    meter: {
      placed(where, _requests, estimatedMs) {
        metrics.inc(placed[where]);
        metrics.inc(cost[where][0], estimatedMs / 1000);
      },
      measured(where, ms) {
        metrics.inc(cost[where][1], ms / 1000);
      },
    },
  };
}

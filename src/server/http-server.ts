/**
 * The front end: the bidding port's uWebSockets.js app. This module only assembles it:
 * the bid route (bid-route.ts, which receives bodies into the shared slab through the body
 * receiver and hands them to the dispatcher), /healthz, /readyz and the 404/405 fallbacks,
 * then listens. Every answer to a bid request, the engine's and the front end's own
 * no-bids and errors, is written by FrontAnswers (front-answers.ts). Nothing here parses a
 * bid request (under light load the dispatcher's inline lane runs the engine on this
 * thread). The operations port has its own thread and routes (src/ops/).
 */
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { ServerConfig } from '../config/config';
import type { OutcomeTable } from '../metrics/definitions';
import type { StageLatency } from '../metrics/latency';
import type { SlotWriter } from '../metrics/shared-metrics';
import type { Dispatcher, JobSink } from '../pool/dispatcher';
import type { ReceiveSlab } from '../pool/receive-slab';
import { STATUS_LINE } from '../util/http-status';
import { BidRoute, type HttpJob, type InFlightRequests } from './bid-route';
import type { ReceiveMemory } from './body-receiver';
import { FrontAnswers, kInHandler, kLater } from './front-answers';
import { registerNoticeRoutes, type NoticeRouteOptions } from './notice-route';
import type { Uws } from './uws';

export { InFlightRequests } from './bid-route';
export type { HttpJob } from './bid-route';

export interface ServerDeps {
  uws: Uws;
  config: ServerConfig;
  testHooks: boolean;
  slab: ReceiveSlab;
  dispatcher: Dispatcher<HttpJob>;
  metrics: SlotWriter;
  outcomes: OutcomeTable;
  latency: StageLatency;
  isReady: () => boolean;
  inFlight: InFlightRequests;
  /** Receive memory of bodies still arriving (the gauge reads it). */
  receiving: ReceiveMemory;
  /** GET /notice/{win,bill,loss} (notice-route.ts), when the bidder runs the money loop. */
  notices?: NoticeRouteOptions;
}

export interface RunningServer {
  port: number;
  /** Stops accepting connections; requests already received are still answered. */
  stopAccepting(): void;
  /** Marks the server draining: readyz answers 503, late requests get a 204 and a close. */
  setDraining(): void;
  /** When the last request that found the server draining arrived (monotonic ms; 0: none). */
  lastDrainingArrivalMs(): number;
  /** Closes every connection. */
  closeAll(): void;
}

/**
 * Builds the sink through which the dispatcher's answers reach clients (the engine's,
 * and its shed, timed-out and worker-lost no-bids), recording metrics as they go. It is
 * made before the server (the dispatcher needs it first), so it has a FrontAnswers of its
 * own over the same metrics: one code path, two sets of the same precomputed offsets.
 */
export function createSink(deps: Pick<ServerDeps, 'metrics' | 'outcomes' | 'latency'>): JobSink<HttpJob> {
  const answers = new FrontAnswers(deps.metrics, deps.outcomes, deps.latency);
  return {
    answer(job, status, outcome, body, startedAt, finishedAt) {
      answers.answer(job, status, outcome, body, startedAt, finishedAt);
    },
    noBid(job, reason) {
      answers.noBid(job.res, job, reason, kLater);
    },
  };
}

export function startServer(deps: ServerDeps): Promise<RunningServer> {
  const { uws, config } = deps;
  const app: TemplatedApp = uws.App();
  const answers = new FrontAnswers(deps.metrics, deps.outcomes, deps.latency);
  const bid = new BidRoute({
    limits: config,
    testHooks: deps.testHooks,
    slab: deps.slab,
    dispatcher: deps.dispatcher,
    inFlight: deps.inFlight,
    receiving: deps.receiving,
    answers,
  });

  bid.register(app);
  if (deps.notices !== undefined) registerNoticeRoutes(app, deps.notices);
  app.any('/openrtb2/bid', (res) => answers.error(res, null, 'METHOD_NOT_ALLOWED', kInHandler));

  app.get('/healthz', (res) => {
    res.writeStatus(STATUS_LINE[200]).writeHeader('content-type', 'text/plain').end('ok\n');
  });

  app.get('/readyz', (res) => {
    const draining = bid.isDraining;
    if (!draining && deps.isReady()) {
      res.writeStatus(STATUS_LINE[200]).writeHeader('content-type', 'text/plain').end('ready\n');
    } else {
      res.writeStatus(STATUS_LINE[503]).writeHeader('content-type', 'text/plain').end(draining ? 'draining\n' : 'warming\n');
    }
  });

  // /metrics and /debug/latency are served by the operations listener (src/ops/), off this
  // loop; here they are 404 like any other unknown path.
  app.any('/*', (res) => answers.error(res, null, 'NOT_FOUND', kInHandler));

  return new Promise((resolve, reject) => {
    app.listen(config.host, config.port, (socket) => {
      if (!socket) {
        bid.close(); // its deadline sweep would otherwise run on with nothing to serve
        reject(Object.assign(new Error(`cannot listen on ${config.host}:${config.port}`), { code: 'LISTEN_FAILED' }));
        return;
      }
      let listenSocket: us_listen_socket | null = socket;
      resolve({
        port: uws.us_socket_local_port(socket as never),
        stopAccepting() {
          if (listenSocket) uws.us_listen_socket_close(listenSocket);
          listenSocket = null;
        },
        setDraining() {
          bid.setDraining();
        },
        lastDrainingArrivalMs() {
          return bid.lastDrainingArrivalMs;
        },
        closeAll() {
          bid.close();
          (app as unknown as { close?: () => void }).close?.();
        },
      });
    });
  });
}

/**
 * The operations listener's routes, served in the operations thread: health, readiness,
 * the Prometheus exposition, the latency report, and the admin API (admin-routes.ts).
 * Same uWS rules as the bidding server: onAborted before anything asynchronous, every
 * later write corked.
 */
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Registry } from 'prom-client';
import { errorBody, requestError, type ErrorCode } from '../errors';
import type { AdminRoutes } from './admin-routes';
import type { FrontBlockReader } from './front-block';
import type { FrontRefresher } from './front-refresher';
import { STATUS_LINE } from '../util/http-status';

const kText = 'text/plain';
const kJson = 'application/json';
/** How old the histograms shown are: at most kRefreshMaxAgeMs unless the bidding loop was stalled. */
const kSnapshotAgeHeader = 'x-snapshot-age-ms';

export interface OpsRouteDeps {
  registry: Registry;
  front: FrontBlockReader;
  refresher: FrontRefresher;
  admin: AdminRoutes;
}

/** Writes one answer, corked; a no-op once the client went away. */
class Answer {
  aborted = false;
  constructor(private readonly res: HttpResponse) {
    res.onAborted(() => {
      this.aborted = true;
    });
  }

  send(status: number, contentType: string, body: string, snapshotAgeMs = -1): void {
    if (this.aborted) return;
    this.res.cork(() => {
      this.res.writeStatus(STATUS_LINE[status]).writeHeader('content-type', contentType);
      if (snapshotAgeMs >= 0) this.res.writeHeader(kSnapshotAgeHeader, String(Math.round(snapshotAgeMs)));
      this.res.end(body);
    });
  }

  error(code: ErrorCode): void {
    const e = requestError(code);
    this.send(e.status, kJson, errorBody(e));
  }
}

export function addOpsRoutes(app: TemplatedApp, deps: OpsRouteDeps): void {
  const { registry, front, refresher } = deps;

  app.get('/healthz', (res) => {
    res.writeStatus(STATUS_LINE[200]).writeHeader('content-type', kText).end('ok\n');
  });

  app.get('/readyz', (res) => {
    const draining = front.draining();
    if (!draining && front.ready()) {
      res.writeStatus(STATUS_LINE[200]).writeHeader('content-type', kText).end('ready\n');
    } else {
      res.writeStatus(STATUS_LINE[503]).writeHeader('content-type', kText).end(draining ? 'draining\n' : 'warming\n');
    }
  });

  app.get('/metrics', (res) => {
    const answer = new Answer(res);
    // Served from the last published gauges when the front end is too busy to answer.
    refresher
      .refresh(false)
      // Rendered per call: the counters (shared memory) are live, only the gauges are reused.
      .then(() => registry.metrics())
      .then(
        (text) => answer.send(200, registry.contentType, text),
        () => answer.error('INTERNAL'),
      );
  });

  app.get('/debug/latency', (res, req) => {
    const json = req.getQuery('format') === 'json';
    const answer = new Answer(res);
    refresher.refresh(true).then(
      () => {
        // Before the first snapshot arrives there is nothing true to show.
        if (!refresher.hasLatency) return answer.error('NOT_READY');
        try {
          const age = refresher.latencyAgeMs();
          if (json) answer.send(200, kJson, JSON.stringify(refresher.report.toJSON()), age);
          else answer.send(200, kText, refresher.report.toText(), age);
        } catch {
          answer.error('INTERNAL');
        }
      },
      () => answer.error('INTERNAL'),
    );
  });

  deps.admin.register(app);

  app.any('/*', (res) => {
    const e = requestError('NOT_FOUND');
    res.writeStatus(STATUS_LINE[404]).writeHeader('content-type', kJson).end(errorBody(e));
  });
}

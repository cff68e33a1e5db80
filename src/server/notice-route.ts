/**
 * GET /notice/{win,bill,loss} on the bidding port: the notices exchanges fire at the URLs
 * of our bids (notice-urls.ts). The handler does only what the answer depends on, all
 * synchronously inside it: read the query, verify the token (one HMAC), answer. What the
 * notice does to money happens on the money owner's thread (money-owner.ts): the accepted
 * notice is handed over through a shared-memory ring, never a wait. A full ring (the owner
 * is behind) answers 503 so the exchange retries: a notice is never dropped silently.
 *
 * Answers (notice-request.ts): 204 taken (a repeat too), 400 malformed, 403 forged or
 * altered, 410 expired, 503 busy. Each is counted by kind and result.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { readNotice, type NoticeResult } from '../notices/notice-request';
import { kNoticePaths, type NoticeKind } from '../notices/notice-urls';
import { STATUS_LINE } from '../util/http-status';

/** Where accepted notices go: false when it cannot take one now (the answer is then 503). */
export interface NoticeHandoff {
  offer(kind: NoticeKind, query: string, arrivedAtMs: number): boolean;
}

export interface NoticeRouteOptions {
  keys: readonly Buffer[];
  maxAgeSec: number;
  handoff: NoticeHandoff;
  /** Counts each answer (bidder_notices_total{kind,result}). */
  count: (kind: NoticeKind, result: NoticeResult) => void;
  nowMs?: () => number;
}

const kKinds: readonly NoticeKind[] = ['win', 'bill', 'loss', 'click'];

export function registerNoticeRoutes(app: TemplatedApp, o: NoticeRouteOptions): void {
  const now = o.nowMs ?? Date.now;
  for (const kind of kKinds) {
    app.get(kNoticePaths[kind], (res: HttpResponse, req: HttpRequest) => {
      const query = req.getQuery() ?? '';
      const nowMs = now();
      const read = readNotice(kind, query, o.keys, Math.floor(nowMs / 1000), o.maxAgeSec);
      if (!read.ok) {
        o.count(kind, read.result);
        res.writeStatus(STATUS_LINE[read.status]).writeHeader('content-type', 'text/plain').end(`${read.code}\n`);
        return;
      }
      if (!o.handoff.offer(kind, query, nowMs)) {
        o.count(kind, 'busy');
        res.writeStatus(STATUS_LINE[503]).writeHeader('retry-after', '1').end();
        return;
      }
      // Whether it is a repeat is the owner's to know; the exchange gets the same answer.
      o.count(kind, 'accepted');
      res.writeStatus(STATUS_LINE[204]).endWithoutBody();
    });
  }
}

/**
 * What crosses between the front-end thread and the operations thread, in one place:
 * what the operations thread starts with, and the messages each side sends.
 *
 * The refresh exchange keeps the bidding loop's share of a scrape to one cheap step: the
 * operations thread asks, the front end writes its gauges into the front block
 * (front-block.ts) and, when asked, copies its latency histograms into the shared
 * snapshot buffer (a memcpy), then answers; everything else (summing the metric slots,
 * formatting the exposition, rendering the HDR distributions) runs in the operations
 * thread. At most one refresh is outstanding at a time, and the operations thread reads
 * the snapshot buffer only between an answer and its next request, so the buffer has one
 * user at a time and is never allocated again.
 */
import type { MoneyMetricsSource } from '../metrics/registry';
import type { AdminAction } from './admin-protocol';
import type { LifecycleInit } from '../metrics/lifecycle-view';

/** workerData of the operations thread. */
export interface OpsInit {
  host: string;
  port: number;
  /** The metric slots every thread records into (shared-metrics.ts). */
  metrics: SharedArrayBuffer;
  /** State flags and gauges the front end publishes (front-block.ts). */
  front: SharedArrayBuffer;
  /** Where the front end copies its latency histograms (latency.ts). */
  latency: SharedArrayBuffer;
  model: { name: string; version: string };
  /** The money owner's per-campaign figures (money-stats.ts), when the bidder runs the money loop. */
  money?: MoneyMetricsSource;
  /** The model lifecycle and experiments, to label their metrics (metrics/lifecycle-view.ts). */
  lifecycle?: LifecycleInit;
  /**
   * The admin API (admin-protocol.ts), or null when it is off. The SHA-256 digest of the
   * token, never the token: a presented token is hashed and compared with it.
   */
  admin: { tokenDigest: Uint8Array; timeoutMs: number } | null;
}

/** Operations thread → front end. */
export type OpsMessage =
  | { type: 'listening'; port: number }
  | { type: 'listen-failed'; message: string }
  /** Publish the gauges (and copy a latency snapshot when `latency`); `sentAtMs` is monoNowMs. */
  | { type: 'refresh'; id: number; latency: boolean; sentAtMs: number }
  /** The listener closed after a `close` request; the thread ends next. */
  | { type: 'closed' }
  /** An error escaped a handler: the thread closed its sockets and ends. */
  | { type: 'failed'; message: string }
  /** Run an authorized admin action; `body` is the parsed request JSON. Answered by 'admin-result' with the same id. */
  | { type: 'admin'; id: number; action: AdminAction; body: unknown }
  /** One admin request's log line (JSON, no newline): written by the front end, where the process logs. */
  | { type: 'admin-log'; line: string };

/** Front end → operations thread. */
export type FrontMessage =
  /** `takenAtMs` (monoNowMs): when the gauges and snapshot were written, the age that counts. */
  | { type: 'refreshed'; id: number; latency: boolean; takenAtMs: number }
  /**
   * The answer to admin request `id`: `body` is the JSON text to send ('' for none);
   * `error`, when the handler failed, is the message to log (never sent).
   */
  | { type: 'admin-result'; id: number; status: number; body: string; error?: string }
  | { type: 'close' };

/** A snapshot younger than this is reused: a storm of calls costs the bidding loop one copy per interval. */
export const kRefreshMaxAgeMs = 100;
/**
 * How long a scrape waits for the front end to answer a refresh before it is served from
 * the last published values (the counters are live either way): a stalled bidding loop
 * must not also stall its monitoring.
 */
export const kRefreshTimeoutMs = 1_000;
/** How long an exiting process waits for the operations thread to close its sockets. */
export const kExitHandshakeMs = 1_000;

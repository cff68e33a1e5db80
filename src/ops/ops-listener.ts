/**
 * The front end's handle on the operations listener: starts the operations thread
 * (ops.worker.ts), answers its refresh requests, publishes readiness and draining, and
 * closes it last in a drain. The only work the bidding loop does for a scrape is
 * `onRefresh`, at most once per kRefreshMaxAgeMs however many calls arrive: its gauges
 * published (about 0.1 ms) and, for /debug/latency, a copy of the latency histograms
 * into the shared snapshot buffer (about 0.07 ms). Admin actions the operations thread
 * forwards (admin-routes.ts) run here, through `options.admin`, and are answered by id.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { projectRoot } from '../config/config';
import { errorBody, requestError } from '../errors';
import { allocateLatencySnapshot, type StageLatency } from '../metrics/latency';
import type { MoneyMetricsSource, PoolGauges } from '../metrics/registry';
import type { LifecycleInit } from '../metrics/lifecycle-view';
import { monoNowMs } from '../util/clock';
import { requestExit } from '../util/exit-handshake';
import { kAdminTimeoutMs, type AdminAction, type AdminHandler, type AdminResult } from './admin-protocol';
import { allocateFrontBlock, FrontGaugePublisher, kStateDraining, kStateExitDone, kStateExitRequested, kStateReady, stateWords } from './front-block';
import { kExitHandshakeMs, type FrontMessage, type OpsInit, type OpsMessage } from './ops-protocol';

export interface OpsListenerOptions {
  host: string;
  port: number;
  metrics: SharedArrayBuffer;
  model: { name: string; version: string };
  gauges: PoolGauges;
  latency: StageLatency;
  /**
   * Acceptor threads (server.acceptors > 1): gathers their gauges (and, when `latency`,
   * their histograms) before a refresh publishes; then `mergeLatency` adds their
   * histograms to the main thread's snapshot. Without it a refresh is synchronous.
   */
  others?: { collect(latency: boolean): Promise<void>; mergeLatency(snapshot: SharedArrayBuffer): void };
  /** Where an operations-thread failure is reported (it is never thrown into the bidding loop). */
  onFailure?: (message: string) => void;
  money?: MoneyMetricsSource;
  /** The model lifecycle and experiments, to label their metrics. */
  lifecycle?: LifecycleInit;
  /**
   * Runs the admin API's actions (admin-protocol.ts). The admin API is on only with both
   * this and `adminTokenDigest`; otherwise every /admin path is 404 ADMIN_DISABLED.
   */
  admin?: AdminHandler;
  /** SHA-256 of the admin token (admin-token.ts loadAdminToken): 32 bytes. */
  adminTokenDigest?: Uint8Array;
  /** How long the operations thread waits for an action's answer before a 504 (default kAdminTimeoutMs). */
  adminTimeoutMs?: number;
  /** Where each admin request's log line (JSON, no newline) goes; default: a line on stderr. */
  adminLog?: (line: string) => void;
}

/** A start-up failure of the operations listener, with a stable code. */
export class OpsStartError extends Error {
  constructor(
    readonly code: 'OPS_WORKER_NOT_BUILT' | 'OPS_LISTEN_FAILED',
    message: string,
  ) {
    super(message);
  }
}

export function opsWorkerFile(): string {
  const file = resolve(projectRoot(), 'dist/src/ops/ops.worker.js');
  if (!existsSync(file)) throw new OpsStartError('OPS_WORKER_NOT_BUILT', `${file} is missing: run \`npm run build\` first`);
  return file;
}

export class OpsListener {
  /** The operations port (the one bound when options.port is 0). */
  port = 0;
  private readonly worker: Worker;
  private readonly state: Int32Array;
  private readonly snapshot: SharedArrayBuffer;
  private readonly publisher: FrontGaugePublisher;
  private readonly exited: Promise<number>;
  private readonly listening: Promise<number>;
  private running = true;
  private closing: Promise<void> | null = null;
  private readonly onProcessExit = (): void => {
    if (this.running) exitHandshake(this.state);
  };

  /** Starts the operations thread; resolves once it listens, rejects (OpsStartError) when it cannot. */
  static async start(options: OpsListenerOptions): Promise<OpsListener> {
    const ops = new OpsListener(options);
    try {
      ops.port = await ops.listening;
    } catch (err) {
      // The thread ends by itself after a failed listen or an error; wait so nothing outlives start.
      await ops.exited;
      throw err;
    }
    // From here on the bidder's own handles keep the process alive, not this thread.
    ops.worker.unref();
    return ops;
  }

  private constructor(private readonly options: OpsListenerOptions) {
    const digest = options.adminTokenDigest;
    if (digest !== undefined && digest.byteLength !== 32) throw new RangeError(`adminTokenDigest: ${digest.byteLength} bytes, a SHA-256 digest (32) wanted`);
    const timeoutMs = options.adminTimeoutMs ?? kAdminTimeoutMs;
    if (!(Number.isInteger(timeoutMs) && timeoutMs > 0)) throw new RangeError(`adminTimeoutMs: ${timeoutMs}, a positive integer wanted`);
    const admin = options.admin !== undefined && digest !== undefined ? { tokenDigest: Uint8Array.from(digest), timeoutMs } : null;
    const file = opsWorkerFile();
    const front = allocateFrontBlock();
    this.state = stateWords(front);
    this.snapshot = allocateLatencySnapshot();
    const init: OpsInit = { host: options.host, port: options.port, metrics: options.metrics, front, latency: this.snapshot, model: options.model, money: options.money, admin, lifecycle: options.lifecycle };
    this.worker = new Worker(file, { workerData: init });
    this.publisher = new FrontGaugePublisher(front, options.gauges);
    // Once now, while nothing is served yet: the gauges are valid before the first scrape,
    // and the first refresh does not pay for cold pages and cold code on the bidding loop.
    this.publisher.publish(0);
    options.latency.snapshotInto(this.snapshot);
    // From its first socket on, the thread must close it before the process exits.
    process.on('exit', this.onProcessExit);
    this.exited = new Promise((resolveExit) => {
      this.worker.once('exit', (code) => {
        this.running = false;
        process.off('exit', this.onProcessExit);
        this.publisher.close();
        // Ended while serving and unasked (a crash the thread could not catch): say so; the
        // bidder keeps bidding without its operations listener.
        if (this.closing === null && this.port !== 0 && code !== 0) (options.onFailure ?? reportFailure)(`operations thread exited (${code})`);
        resolveExit(code);
      });
    });
    this.listening = new Promise((resolvePort, reject) => {
      this.worker.on('message', (m: OpsMessage) => {
        switch (m.type) {
          case 'refresh':
            this.onRefresh(m.id, m.latency, m.sentAtMs);
            break;
          case 'listening':
            resolvePort(m.port);
            break;
          case 'listen-failed':
            reject(new OpsStartError('OPS_LISTEN_FAILED', m.message));
            break;
          case 'failed':
            (options.onFailure ?? reportFailure)(m.message);
            break;
          case 'admin':
            this.onAdmin(m.id, m.action, m.body);
            break;
          case 'admin-log':
            (options.adminLog ?? logLine)(m.line);
            break;
          case 'closed':
            break;
        }
      });
      this.worker.once('error', (err) => reject(new OpsStartError('OPS_LISTEN_FAILED', `operations thread failed: ${err.message}`)));
      void this.exited.then((code) => reject(new OpsStartError('OPS_LISTEN_FAILED', `operations thread exited (${code}) before listening`)));
    });
  }

  /** readyz on the operations port follows the bidder's readiness. */
  setReady(): void {
    Atomics.store(this.state, kStateReady, 1);
  }

  setDraining(): void {
    Atomics.store(this.state, kStateDraining, 1);
  }

  /** Closes the listener (its sockets, then its thread); idempotent. */
  close(): Promise<void> {
    if (this.closing === null) {
      if (this.running) {
        // Held again so that a drain waiting on the thread keeps the process alive until it ends.
        this.worker.ref();
        this.worker.postMessage({ type: 'close' } satisfies FrontMessage);
      }
      this.closing = this.exited.then(() => undefined);
    }
    return this.closing;
  }

  /** The bidding loop's whole share of a scrape (and, with acceptor threads, one round trip to each). */
  private onRefresh(id: number, latency: boolean, sentAtMs: number): void {
    const takenAtMs = monoNowMs();
    const others = this.options.others;
    if (others === undefined) {
      this.refreshed(id, latency, sentAtMs, takenAtMs);
      return;
    }
    void others.collect(latency).then(() => this.refreshed(id, latency, sentAtMs, takenAtMs));
  }

  private refreshed(id: number, latency: boolean, sentAtMs: number, takenAtMs: number): void {
    if (!this.running) return;
    this.publisher.publish(takenAtMs - sentAtMs);
    if (latency) {
      this.options.latency.snapshotInto(this.snapshot);
      this.options.others?.mergeLatency(this.snapshot);
    }
    this.worker.postMessage({ type: 'refreshed', id, latency, takenAtMs } satisfies FrontMessage);
  }

  /**
   * Runs a forwarded admin action and posts its answer: the handler's status and JSON, or
   * 500 INTERNAL with the failure's message for the log line (never for the client).
   */
  private onAdmin(id: number, action: AdminAction, body: unknown): void {
    const handler = this.options.admin;
    let result: Promise<AdminResult>;
    try {
      // Only a thread told the admin API is on forwards; the check keeps a stray message harmless.
      if (handler === undefined) throw new Error('no admin handler');
      result = handler.handle(action, body);
    } catch (err) {
      result = Promise.reject(err);
    }
    void Promise.resolve(result).then(
      (r) => this.adminAnswer(id, r),
      (err: unknown) => this.adminFailed(id, err instanceof Error ? err.message : String(err)),
    );
  }

  private adminAnswer(id: number, r: AdminResult): void {
    const status = r?.status;
    if (!(Number.isInteger(status) && status >= 200 && status <= 599)) return this.adminFailed(id, `the handler answered status ${String(status)}`);
    let text: string;
    try {
      text = r.body === undefined ? '' : JSON.stringify(r.body);
    } catch (err) {
      return this.adminFailed(id, `the handler's body is not JSON: ${(err as Error).message}`);
    }
    this.postAdmin({ type: 'admin-result', id, status, body: text });
  }

  private adminFailed(id: number, message: string): void {
    this.postAdmin({ type: 'admin-result', id, status: 500, body: kInternalBody, error: message });
  }

  private postAdmin(m: Extract<FrontMessage, { type: 'admin-result' }>): void {
    if (this.running) this.worker.postMessage(m);
  }
}

const kInternalBody = errorBody(requestError('INTERNAL'));

function logLine(line: string): void {
  process.stderr.write(`${line}\n`);
}

function reportFailure(message: string): void {
  process.stderr.write(`bidder: operations listener failed: ${message}\n`);
}

/**
 * The process is exiting (process.exit, or its loop emptied) with the operations thread
 * still running: it must close its sockets before the runtime stops it (exit-handshake.ts).
 */
function exitHandshake(state: Int32Array): void {
  requestExit(state, kStateExitRequested, kStateExitDone, kExitHandshakeMs);
}

/**
 * Entry point of the operations thread: its own uWebSockets.js app on server.opsHost:
 * server.opsPort, serving /healthz, /readyz, /metrics and /debug/latency off the bidding
 * loop (ops-routes.ts), and the admin API's transport (admin-routes.ts: the actions run on
 * the front end).
 *
 * A worker thread that ends while a uWS socket is open aborts the whole process (libuv
 * refuses to close a loop with live handles), so every way out closes the sockets first:
 * a `close` message (the drain), the exit hand-shake (the process exits while this
 * thread still runs: front-block.ts kStateExitRequested), and an error that escapes a
 * handler (caught here rather than left to end the thread).
 */
import { setPriority } from 'node:os';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { Gauge } from 'prom-client';
import type { us_listen_socket } from 'uWebSockets.js';
import { ALL_ERROR_CODES } from '../errors';
import { buildMetricsLayout, OutcomeTable } from '../metrics/definitions';
import { createRegistry } from '../metrics/registry';
import { LifecycleView } from '../metrics/lifecycle-view';
import { kMaxSlots } from '../metrics/shared-metrics';
import { loadNativeUws } from '../server/uws';
import { monoNowMs } from '../util/clock';
import { onExitRequest } from '../util/exit-handshake';
import { AdminRoutes } from './admin-routes';
import { FrontBlockReader, kStateExitDone, kStateExitRequested, stateWords } from './front-block';
import { FrontRefresher } from './front-refresher';
import type { FrontMessage, OpsInit, OpsMessage } from './ops-protocol';
import { addOpsRoutes } from './ops-routes';

/**
 * Nice value of this thread (Linux: per thread). When cores are short the kernel then
 * favours the bidding threads: the thread that renders a scrape and is woken on every
 * call no longer preempts the bidding loop (on 2 busy cores it did, for milliseconds).
 * Moderate, not 19: under full load the operations answers slow down, and metrics are
 * wanted most then. This thread queues no libuv thread-pool work (which would inherit it).
 */
const kOpsThreadNice = 5;

const port = parentPort!;
const init = workerData as OpsInit;
try {
  setPriority(kOpsThreadNice);
} catch {
  // Not permitted or not supported here: the listener works the same, at normal priority.
}
const post = (m: OpsMessage): void => port.postMessage(m);

const uws = loadNativeUws();
const layout = buildMetricsLayout(new OutcomeTable(ALL_ERROR_CODES), kMaxSlots - 1);
const front = new FrontBlockReader(init.front);
const lifecycle = init.lifecycle === undefined ? undefined : new LifecycleView(init.lifecycle);
const registry = createRegistry(layout, init.metrics, front.pool, init.model, front.runtime, init.money, lifecycle);
// What /readyz answers, for alerts: Prometheus scrapes /metrics, not the probes.
new Gauge({
  name: 'bidder_ready',
  help: '1 while /readyz answers 200 (workers warm, not draining); 0 while warming or draining.',
  registers: [registry],
  collect() {
    this.set(!front.draining() && front.ready() ? 1 : 0);
  },
});
const refresher = new FrontRefresher({ post, snapshot: init.latency, now: monoNowMs, drainPending });
const admin = new AdminRoutes({
  registry,
  tokenDigest: init.admin === null ? null : Buffer.from(init.admin.tokenDigest),
  timeoutMs: init.admin?.timeoutMs ?? 0,
  post,
  now: monoNowMs,
});
const app = uws.App();
addOpsRoutes(app, { registry, front, refresher, admin });

let listenSocket: us_listen_socket | null = null;
let closed = false;
const state = stateWords(init.front);

/** Closes the listen socket and every connection; synchronous, idempotent. */
function closeSockets(): void {
  if (closed) return;
  closed = true;
  admin.close();
  if (listenSocket !== null) uws.us_listen_socket_close(listenSocket);
  listenSocket = null;
  // Closes every open connection too (not in the typings of this uWS build).
  (app as unknown as { close?: () => void }).close?.();
}

function end(): void {
  closeSockets();
  lifecycle?.close();
  port.close();
}

function onMessage(m: FrontMessage): void {
  if (m.type === 'refreshed') refresher.onRefreshed(m.id, m.latency, m.takenAtMs);
  else if (m.type === 'admin-result') admin.onResult(m);
  else if (m.type === 'close') {
    closeSockets();
    post({ type: 'closed' });
    end();
  }
}
port.on('message', onMessage);

function drainPending(): void {
  if (closed) return;
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) onMessage(m.message as FrontMessage);
}

// The process is exiting with this thread still running: close the sockets before the
// runtime stops the thread, and say so (the front end waits on kStateExitDone).
onExitRequest(state, kStateExitRequested, kStateExitDone, closeSockets);

process.on('uncaughtException', (err) => {
  if (!closed) post({ type: 'failed', message: err.stack ?? err.message });
  end();
});

app.listen(init.host, init.port, (socket) => {
  if (!socket) {
    post({ type: 'listen-failed', message: `cannot listen on ${init.host}:${init.port}` });
    end();
    return;
  }
  if (closed) {
    // Asked to close (exit hand-shake) while the listen was under way.
    uws.us_listen_socket_close(socket);
    return;
  }
  listenSocket = socket;
  post({ type: 'listening', port: uws.us_socket_local_port(socket as never) });
  // One round trip now, during start-up: the first refresh's cold code then runs before the
  // bidding loop has traffic, not inside the first scrape.
  refresher.warmUp();
});

/**
 * Entry point of an acceptor thread (the second and later of server.acceptors): its own
 * uWS app on the bidding port, running the whole bid path (acceptor.ts) for the
 * connections the kernel gives it. It meters into a metrics slot of its own, allocates
 * in its own range of the receive slab, and reaches the shared pool through the main
 * thread (remote-pool.ts).
 *
 * A worker thread that ends while a uWS socket is open aborts the whole process, so
 * every way out closes the sockets first: the 'close' message (the drain's end), the exit
 * hand-shake (the process exits while this thread runs: exit-handshake.ts), and an error
 * that escapes a handler (caught here, reported, then the thread ends cleanly; the other
 * acceptors go on serving the port).
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { bindTeardownGate } from '../engine/teardown-gate';
import { ALL_ERROR_CODES } from '../errors';
import { buildMetricsLayout, OutcomeTable, STAGES } from '../metrics/definitions';
import { claimSlot, kMaxSlots, SlotWriter } from '../metrics/shared-metrics';
import { PoolSlots } from '../pool/pool-slots';
import { ReceiveSlab } from '../pool/receive-slab';
import { RemotePool } from '../pool/remote-pool';
import { kControlWorkersReady } from '../pool/worker-init';
import { onExitRequest } from '../util/exit-handshake';
import { Acceptor, ACCEPTOR_GAUGE_KEYS, AcceptorStartError, kDrainQuietMs } from './acceptor';
import { kAcceptorStateExitDone, kAcceptorStateExitRequested, type AcceptorInit, type FromAcceptor, type ToAcceptor } from './acceptor-protocol';
import { loadNativeUws } from './uws';

const port = parentPort!;
const init = workerData as AcceptorInit;
const post = (m: FromAcceptor): void => port.postMessage(m);
const state = new Int32Array(init.state);
const kTotal = STAGES.indexOf('total');

let acceptor: Acceptor | null = null;
let ended = false;

/** Closes every socket, then lets the thread end (its port closed, nothing else holds the loop). */
function end(): void {
  if (ended) return;
  ended = true;
  acceptor?.closeSockets();
  port.close();
}

async function main(): Promise<void> {
  const outcomes = new OutcomeTable(ALL_ERROR_CODES);
  const layout = buildMetricsLayout(outcomes, kMaxSlots - 1);
  const slot = claimSlot(init.pool.metrics, threadId);
  // Every slot held (an implausible number of restarts): serve unmetered rather than not at all.
  const metrics = slot < 0 ? new SlotWriter(layout, layout.allocate(), 1) : new SlotWriter(layout, init.pool.metrics, slot);
  const control = new Int32Array(init.pool.control);
  // This thread's inline lane runs sessions: leaving, it holds the others' runs back (teardown-gate.ts).
  const gate = bindTeardownGate(init.pool.control);
  process.on('exit', () => gate.closeForTeardown());
  const threads = init.config.pool.threads;
  let poolReady = false;
  const pool = new RemotePool(init.poolCapacity, port);

  port.on('message', (m: ToAcceptor) => {
    switch (m.type) {
      case 'ran':
        pool.ran(m.id, m.reply);
        break;
      case 'run-failed':
        pool.failed(m.id, m.message);
        break;
      case 'collect': {
        const g = acceptor?.gauges();
        if (acceptor !== null && m.latency) acceptor.latency.snapshotInto(init.latencySnapshot);
        post({ type: 'collected', id: m.id, gauges: ACCEPTOR_GAUGE_KEYS.map((k) => g?.[k] ?? 0), answered: acceptor?.latency.count(kTotal) ?? 0 });
        break;
      }
      case 'ready':
        poolReady = true;
        void acceptor?.dispatcher.probeHandoff();
        break;
      case 'drain':
        if (acceptor === null) break;
        acceptor.beginDrain();
        void acceptor.whenIdle().then(() => acceptor!.whenQuiet(kDrainQuietMs)).then(() => post({ type: 'idle' }));
        break;
      case 'close':
        acceptor?.closeSockets();
        post({ type: 'closed' });
        end();
        break;
    }
  });

  onExitRequest(state, kAcceptorStateExitRequested, kAcceptorStateExitDone, () => acceptor?.closeSockets());

  try {
    acceptor = await Acceptor.start({
      uws: loadNativeUws(),
      config: init.config,
      init: init.pool,
      outcomes,
      metrics,
      pool,
      slots: new PoolSlots(init.poolCapacity, init.poolSlots),
      slab: new ReceiveSlab(init.config.pool.slabSegmentBytes, init.slabSegments, { buffer: init.pool.receiveSlab, first: init.slabFirst }),
      cpus: init.cpus,
      isReady: () => poolReady || Atomics.load(control, kControlWorkersReady) >= threads,
      port: init.port,
      idPrefix: `a${init.index}${Date.now().toString(36)}-`,
      index: init.index,
    });
  } catch (err) {
    const code = err instanceof AcceptorStartError ? err.code : 'ACCEPTOR_FAILED';
    post({ type: 'start-failed', code, message: (err as Error).message });
    end();
    return;
  }
  if (ended) {
    // Closed (exit hand-shake) while the listen was under way.
    acceptor.closeSockets();
    return;
  }
  post({ type: 'listening', slot });
}

process.on('uncaughtException', (err) => {
  if (!ended) post({ type: 'failed', message: err.stack ?? err.message });
  end();
});

void main();

/**
 * What crosses between the main thread and an acceptor thread (acceptor.worker.ts): its
 * start data, the messages each way, and the layout of its small shared state block.
 * Batches the acceptor places in the pool go through the main thread, which owns the
 * piscina pool (pool-broker.ts on that side, remote-pool.ts on this one).
 */
import type { BidderConfig } from '../config/config';
import type { WorkerInit } from '../pool/worker-init';

export interface AcceptorInit {
  /** 1.. (the main thread's acceptor is 0). */
  index: number;
  config: BidderConfig;
  /** The pool workers' start data: model bytes, campaigns, the shared slab, metrics and consent table. */
  pool: WorkerInit;
  /** Pool slots (threads x maxBatchesPerWorker) and the shared count of those taken (pool-slots.ts). */
  poolCapacity: number;
  poolSlots: SharedArrayBuffer;
  /** This acceptor's range of the receive slab: `slabSegments` segments from `slabFirst`. */
  slabFirst: number;
  slabSegments: number;
  /** The port the first acceptor bound (config.server.port may be 0). */
  port: number;
  cpus: number;
  /** kAcceptorState* words (Int32). */
  state: SharedArrayBuffer;
  /** Where this thread's latency histograms are copied on a 'collect' asking for them (latency.ts). */
  latencySnapshot: SharedArrayBuffer;
}

/** Set by the main thread when the process exits while this acceptor still runs. */
export const kAcceptorStateExitRequested = 0;
/** Set by the acceptor once its sockets are closed after an exit request. */
export const kAcceptorStateExitDone = 1;
export const kAcceptorStateWords = 2;

/** Main thread -> acceptor. */
export type ToAcceptor =
  /** The pool is warm: measure the hand-off (dispatcher.probeHandoff), serve readyz 200. */
  | { type: 'ready' }
  /** Stop accepting, answer what was received, then say 'idle'. */
  | { type: 'drain' }
  /** Close the sockets and end the thread (after 'drain', or to give up on it). */
  | { type: 'close' }
  /** Report gauges (and copy the latency histograms when `latency`). */
  | { type: 'collect'; id: number; latency: boolean }
  /** A pool batch's reply, transferred. */
  | { type: 'ran'; id: number; reply: ArrayBuffer }
  /** A pool batch failed; every thread is done with its slab regions (scoring-pool.ts). */
  | { type: 'run-failed'; id: number; message: string };

/** Acceptor -> main thread. */
export type FromAcceptor =
  | { type: 'listening'; slot: number }
  | { type: 'start-failed'; code: string; message: string }
  | { type: 'idle' }
  | { type: 'closed' }
  /** Gauges in ACCEPTOR_GAUGE_KEYS order; `answered` counts the requests it has answered. */
  | { type: 'collected'; id: number; gauges: number[]; answered: number }
  /** A batch for the pool: the task buffer, transferred. */
  | { type: 'run'; id: number; task: ArrayBuffer }
  /** Abort the pool batch `id` (its worker is stuck). */
  | { type: 'abort'; id: number }
  /** An error escaped a handler; the thread closed its sockets and ends. */
  | { type: 'failed'; message: string };

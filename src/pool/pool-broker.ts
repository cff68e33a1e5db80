/**
 * The main thread's side of the acceptor threads' pool batches (remote-pool.ts): runs
 * each batch an acceptor sends on the one piscina pool and sends the reply back, and
 * aborts a batch when that acceptor's dispatcher gives up on its worker. A failure is
 * sent only once the pool has settled it, that is once no thread reads the batch's slab
 * regions (scoring-pool.ts), so the acceptor may free them then.
 */
import type { FromAcceptor, ToAcceptor } from '../server/acceptor-protocol';
import type { PoolRunner } from './dispatcher';

/** Where replies go: the acceptor thread's port (a Worker or a MessagePort). */
export interface BrokerPort {
  postMessage(message: ToAcceptor, transfer?: ArrayBuffer[]): void;
}

export class PoolBroker {
  private readonly aborts = new Map<number, AbortController>();

  constructor(
    private readonly pool: PoolRunner,
    private readonly port: BrokerPort,
  ) {}

  /** Handles an acceptor's 'run' or 'abort'; returns false for any other message. */
  handle(m: FromAcceptor): boolean {
    if (m.type === 'run') {
      const abort = new AbortController();
      this.aborts.set(m.id, abort);
      this.pool.run(m.task, abort.signal).then(
        (reply) => {
          this.aborts.delete(m.id);
          this.port.postMessage({ type: 'ran', id: m.id, reply }, [reply]);
        },
        (err: Error) => {
          this.aborts.delete(m.id);
          this.port.postMessage({ type: 'run-failed', id: m.id, message: err.message });
        },
      );
      return true;
    }
    if (m.type === 'abort') {
      this.aborts.get(m.id)?.abort();
      return true;
    }
    return false;
  }

  /** Batches being run for this acceptor. */
  get inFlight(): number {
    return this.aborts.size;
  }
}

/**
 * The shared pool as an acceptor thread sees it: the dispatcher's PoolRunner, whose
 * batches travel to the main thread (the piscina pool's one owner, pool-broker.ts) and
 * back. A batch costs one hop more each way than from the main thread's own acceptor;
 * the placement measures that hand-off on this thread (dispatcher.probeHandoff, then
 * live batches), so it weighs the pool here as it really is.
 */
import type { MessagePort } from 'node:worker_threads';
import type { FromAcceptor } from '../server/acceptor-protocol';
import type { PoolRunner } from './dispatcher';

interface Waiting {
  resolve(reply: ArrayBuffer): void;
  reject(err: Error): void;
}

/** A pool batch that failed on the main thread's side (its worker died, was aborted, or the pool closed). */
export class RemoteRunError extends Error {
  readonly code = 'POOL_RUN_FAILED';
}

export class RemotePool implements PoolRunner {
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;

  constructor(
    readonly capacity: number,
    private readonly port: MessagePort,
  ) {}

  run(task: ArrayBuffer, signal?: AbortSignal): Promise<ArrayBuffer> {
    const id = this.nextId++;
    return new Promise<ArrayBuffer>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.port.postMessage({ type: 'run', id, task } satisfies FromAcceptor, [task]);
      // The dispatcher aborts a batch whose worker is stuck; the main thread terminates it
      // and the rejection comes back as 'run-failed' once no thread reads its slab regions.
      signal?.addEventListener('abort', () => this.port.postMessage({ type: 'abort', id } satisfies FromAcceptor), { once: true });
    });
  }

  /** The reply to batch `id`. */
  ran(id: number, reply: ArrayBuffer): void {
    const w = this.waiting.get(id);
    if (w === undefined) return;
    this.waiting.delete(id);
    w.resolve(reply);
  }

  failed(id: number, message: string): void {
    const w = this.waiting.get(id);
    if (w === undefined) return;
    this.waiting.delete(id);
    w.reject(new RemoteRunError(message));
  }

  /** Batches sent and not yet answered. */
  get waitingCount(): number {
    return this.waiting.size;
  }
}

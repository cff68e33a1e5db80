/**
 * The main thread's handle on the acceptor threads (the second and later of
 * server.acceptors; the first runs on the main thread itself). It starts them on the
 * port the first one bound, runs their pool batches on the one pool (pool-broker.ts),
 * gathers their gauges and latency histograms for a scrape, drains and closes them, and
 * replaces one that fails while serving. Each thread is one AcceptorThread; the group
 * (AcceptorThreads) is what the bidder holds.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { projectRoot, type BidderConfig } from '../config/config';
import { teardownGate } from '../engine/teardown-gate';
import { addLatencySnapshot, allocateLatencySnapshot } from '../metrics/latency';
import type { PoolRunner } from '../pool/dispatcher';
import { PoolBroker } from '../pool/pool-broker';
import type { WorkerInit } from '../pool/worker-init';
import { requestExit } from '../util/exit-handshake';
import { ACCEPTOR_GAUGE_KEYS, AcceptorStartError, type AcceptorGauges } from './acceptor';
import {
  kAcceptorStateExitDone,
  kAcceptorStateExitRequested,
  kAcceptorStateWords,
  type AcceptorInit,
  type FromAcceptor,
  type ToAcceptor,
} from './acceptor-protocol';

/** How long a scrape waits for an acceptor's gauges before it uses the last ones it had. */
const kCollectTimeoutMs = 250;
/** How long the process's exit waits for each acceptor to close its sockets. */
const kExitHandshakeMs = 1_000;
/** A failed acceptor is replaced once none of its batches is still in the pool; checked this often. */
const kReplaceCheckMs = 20;

export function acceptorWorkerFile(): string {
  const file = resolve(projectRoot(), 'dist/src/server/acceptor.worker.js');
  if (!existsSync(file)) throw new AcceptorStartError('LISTEN_FAILED', `${file} is missing: run \`npm run build\` first`);
  return file;
}

/** What every acceptor thread is started from; each adds its index and slab range. */
export interface AcceptorThreadsOptions {
  config: BidderConfig;
  pool: PoolRunner;
  poolInit: WorkerInit;
  poolSlots: SharedArrayBuffer;
  /** The port the main thread's acceptor bound. */
  port: number;
  cpus: number;
  /** Segments of the slab each acceptor owns; acceptor i owns those from i * slabSegments. */
  slabSegments: number;
  /** Errors of a thread that fails while serving (never thrown into the bidding loop). */
  onFailure?: (message: string) => void;
}

class AcceptorThread {
  readonly worker: Worker;
  private readonly broker: PoolBroker;
  private readonly state = new Int32Array(new SharedArrayBuffer(kAcceptorStateWords * 4));
  readonly latencySnapshot = allocateLatencySnapshot();
  /** Its gauges (ACCEPTOR_GAUGE_KEYS order) as of the last collect. */
  gauges: number[] = ACCEPTOR_GAUGE_KEYS.map(() => 0);
  answered = 0;
  /** Set once it was asked to close: its exit is then expected. */
  closing = false;
  readonly exited: Promise<number>;
  private running = true;
  private nextCollect = 1;
  private readonly collects = new Map<number, () => void>();
  private onIdle: (() => void) | null = null;
  private readonly onProcessExit = (): void => {
    if (this.running) requestExit(this.state, kAcceptorStateExitRequested, kAcceptorStateExitDone, kExitHandshakeMs);
  };

  constructor(
    readonly index: number,
    options: AcceptorThreadsOptions,
    private readonly onMessage: (thread: AcceptorThread, m: FromAcceptor) => void,
  ) {
    const init: AcceptorInit = {
      index,
      config: options.config,
      pool: options.poolInit,
      poolCapacity: options.pool.capacity,
      poolSlots: options.poolSlots,
      slabFirst: index * options.slabSegments,
      slabSegments: options.slabSegments,
      port: options.port,
      cpus: options.cpus,
      state: this.state.buffer as SharedArrayBuffer,
      latencySnapshot: this.latencySnapshot,
    };
    this.worker = new Worker(acceptorWorkerFile(), { workerData: init });
    this.broker = new PoolBroker(options.pool, this.worker);
    // From its first socket on, the thread must close it before the process exits.
    process.on('exit', this.onProcessExit);
    this.exited = new Promise((resolveExit) => {
      this.worker.once('exit', (code) => {
        // Its teardown is over: runs held back for it may go on (teardown-gate.ts).
        teardownGate()?.open();
        this.running = false;
        process.off('exit', this.onProcessExit);
        for (const done of this.collects.values()) done();
        this.collects.clear();
        this.onIdle?.();
        resolveExit(code);
      });
    });
    this.worker.on('message', (m: FromAcceptor) => {
      if (this.broker.handle(m)) return;
      if (m.type === 'collected') {
        this.gauges = m.gauges;
        this.answered = m.answered;
        const done = this.collects.get(m.id);
        this.collects.delete(m.id);
        done?.();
      } else if (m.type === 'idle') {
        this.onIdle?.();
      } else {
        this.onMessage(this, m);
      }
    });
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  /** Pool batches of this thread still being run. */
  get batchesInPool(): number {
    return this.broker.inFlight;
  }

  post(m: ToAcceptor): void {
    if (this.running) this.worker.postMessage(m);
  }

  /** Refreshes `gauges` (and its latency snapshot); resolves within kCollectTimeoutMs whatever happens. */
  collect(latency: boolean): Promise<void> {
    if (!this.running) return Promise.resolve();
    const id = this.nextCollect++;
    return new Promise<void>((done) => {
      const timer = setTimeout(() => {
        this.collects.delete(id);
        done();
      }, kCollectTimeoutMs);
      this.collects.set(id, () => {
        clearTimeout(timer);
        done();
      });
      this.post({ type: 'collect', id, latency });
    });
  }

  /** Stops accepting; resolves once what it received is answered (or it is gone). */
  drain(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise<void>((idle) => {
      this.onIdle = idle;
      this.post({ type: 'drain' });
    });
  }

  /** Closes its sockets and ends the thread; resolves on its exit. */
  close(): Promise<void> {
    this.closing = true;
    // Held again so that a drain waiting on the thread keeps the process alive until it ends.
    this.worker.ref();
    this.post({ type: 'close' });
    return this.exited.then(() => undefined);
  }
}

export class AcceptorThreads {
  private readonly threads: AcceptorThread[] = [];
  private closing = false;

  private constructor(private readonly options: AcceptorThreadsOptions) {}

  /** Starts acceptors 1..count; resolves once each listens, or rejects (AcceptorStartError) with none left running. */
  static async start(count: number, options: AcceptorThreadsOptions): Promise<AcceptorThreads> {
    const group = new AcceptorThreads(options);
    const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => group.startOne(i + 1)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) {
      await group.close();
      throw failed.reason;
    }
    return group;
  }

  /** Thread ids of the acceptors (their metrics slots must not be freed as dead). */
  threadIds(): number[] {
    return this.threads.map((t) => t.threadId);
  }

  get count(): number {
    return this.threads.length;
  }

  /** The pool is warm: each acceptor measures its hand-off and answers readyz 200. */
  ready(): void {
    for (const t of this.threads) t.post({ type: 'ready' });
  }

  /** Gathers every acceptor's gauges (and latency histograms). */
  async collect(latency: boolean): Promise<void> {
    await Promise.all(this.threads.map((t) => t.collect(latency)));
  }

  /** The sum of one gauge over the acceptor threads, as of the last collect. */
  gauge(key: keyof AcceptorGauges): number {
    const at = ACCEPTOR_GAUGE_KEYS.indexOf(key as (typeof ACCEPTOR_GAUGE_KEYS)[number]);
    let total = 0;
    for (const t of this.threads) total += t.gauges[at];
    return total;
  }

  /** Requests each acceptor thread had answered at the last collect, by index (1..). */
  answered(): Map<number, number> {
    return new Map(this.threads.map((t) => [t.index, t.answered]));
  }

  /** Adds every acceptor's last latency snapshot into `snapshot`. */
  mergeLatency(snapshot: SharedArrayBuffer): void {
    for (const t of this.threads) addLatencySnapshot(snapshot, t.latencySnapshot);
  }

  /** Stops every acceptor accepting; resolves once each has answered what it received. */
  async drain(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.map((t) => t.drain()));
  }

  /** Closes every acceptor thread; resolves once all have exited. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.map((t) => t.close()));
  }

  private startOne(index: number): Promise<AcceptorThread> {
    return new Promise<AcceptorThread>((resolveStart, rejectStart) => {
      let listening = false;
      const thread = new AcceptorThread(index, this.options, (t, m) => {
        if (m.type === 'listening') {
          listening = true;
          t.worker.unref();
          resolveStart(t);
        } else if (m.type === 'start-failed') {
          rejectStart(new AcceptorStartError(m.code === 'INLINE_LANE_FAILED' ? 'INLINE_LANE_FAILED' : 'LISTEN_FAILED', `acceptor ${index}: ${m.message}`));
        } else if (m.type === 'failed') {
          this.report(`acceptor ${index} failed: ${m.message}`);
        }
      });
      this.threads.push(thread);
      thread.worker.once('error', (err) => this.report(`acceptor ${index} failed: ${err.stack ?? err.message}`));
      void thread.exited.then((code) => {
        if (!listening) {
          rejectStart(new AcceptorStartError('LISTEN_FAILED', `acceptor ${index} exited (${code}) before listening`));
          this.remove(thread);
          return;
        }
        if (thread.closing || this.closing) return;
        // Ended while serving, unasked: its connections are lost, and the kernel sends new
        // ones to the other acceptors meanwhile. Replace it once the pool holds none of its
        // batches, whose slab regions the replacement will reuse.
        this.report(`acceptor ${index} exited (${code}) while serving; starting a replacement`);
        this.replace(thread);
      });
    });
  }

  private replace(gone: AcceptorThread): void {
    const wait = setInterval(() => {
      if (this.closing) {
        clearInterval(wait);
        this.remove(gone);
        return;
      }
      if (gone.batchesInPool > 0) return;
      clearInterval(wait);
      this.remove(gone);
      this.startOne(gone.index).then(
        (t) => t.post({ type: 'ready' }),
        (err: Error) => this.report(`acceptor ${gone.index} could not be replaced: ${err.message}`),
      );
    }, kReplaceCheckMs);
  }

  private remove(thread: AcceptorThread): void {
    const at = this.threads.indexOf(thread);
    if (at >= 0) this.threads.splice(at, 1);
  }

  private report(message: string): void {
    (this.options.onFailure ?? ((m: string) => process.stderr.write(`bidder: ${m}\n`)))(message);
  }
}

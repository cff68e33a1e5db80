/**
 * The piscina pool of scoring workers: a fixed number of threads, never idled out,
 * each holding preloaded onnxruntime sessions. This is the only module that touches
 * piscina. Routing is explicit: the dispatcher never submits more than the workers can
 * hold, and the load balancer hands each task to the least busy worker, so piscina's
 * own queue stays empty and a task never waits behind another worker's batch.
 *
 * A task can be aborted (its AbortSignal): piscina then terminates the worker running it
 * and starts a replacement (minThreads), or drops the task if it is still queued. A task
 * carries no memory of its own but points into the shared receive slab, so run() settles
 * a failed task only once no thread can still read that memory: a terminated worker
 * stops when it next reaches a safepoint (at once in JS code, an infinite loop or an
 * Atomics.wait; after the call in native code such as a synchronous session.run), and
 * until its 'exit' the rejection waits.
 */
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { AtomicsMode } from '../config/config';
import { teardownGate } from '../engine/teardown-gate';

export interface ScoringPoolOptions {
  filename: string;
  threads: number;
  maxBatchesPerWorker: number;
  atomics: AtomicsMode;
  workerData: unknown;
  execArgv?: string[];
  /** V8 young generation of each worker in MB; 0 leaves V8's default. */
  youngGenerationMb?: number;
}

type WorkerView = { id: number; currentUsage: number; isRunningAbortableTask: boolean };

/**
 * Tasks a worker holds. Piscina reports Infinity for a worker whose one task is abortable,
 * so that its own balancer never puts a second task beside it (aborting kills the worker
 * and everything on it). Every task here is abortable and the dispatcher answers both
 * batches when that happens, so the real count is what pipelining is planned on.
 */
function heldTasks(w: WorkerView): number {
  return w.isRunningAbortableTask ? 1 : w.currentUsage;
}

export class ScoringPool {
  private readonly piscina: Piscina;
  private readonly liveThreadIds = new Set<number>();
  private readonly errorListeners: ((err: Error) => void)[] = [];
  /** Every worker thread seen and not yet exited, with a promise of its exit. */
  private readonly exits = new Map<Worker, Promise<void>>();
  private readonly settleFailure = (err: unknown): Promise<never> => this.afterTerminatedExit(err);

  constructor(
    private readonly options: ScoringPoolOptions,
    private readonly onWorkerGone: (liveThreadIds: ReadonlySet<number>) => void,
  ) {
    const max = options.maxBatchesPerWorker;
    this.piscina = new Piscina({
      filename: options.filename,
      minThreads: options.threads,
      maxThreads: options.threads,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: max,
      atomics: options.atomics,
      workerData: options.workerData,
      execArgv: options.execArgv,
      resourceLimits: options.youngGenerationMb ? { maxYoungGenerationSizeMb: options.youngGenerationMb } : undefined,
      // Least-busy first; ties go to the first worker so a light load stays on a warm thread.
      loadBalancer: (_task: unknown, workers: WorkerView[]) => {
        let best: WorkerView | null = null;
        let bestHeld = max;
        for (const w of workers) {
          const held = heldTasks(w);
          if (held >= bestHeld) continue;
          best = w;
          bestHeld = held;
          if (held === 0) break;
        }
        return best as never;
      },
    } as ConstructorParameters<typeof Piscina>[0]);
    this.piscina.on('workerCreate', (w: WorkerView) => {
      this.liveThreadIds.add(w.id);
      this.track();
    });
    // A destroyed worker may still be running (terminate() is asynchronous): its metrics
    // slot is released once it has exited, from track()'s exit listener.
    this.piscina.on('workerDestroy', () => {
      this.track();
      this.refreshLive();
      onWorkerGone(this.liveThreadIds);
    });
    // A worker that dies is replaced by piscina; its tasks are rejected and answered as
    // no-bids by the dispatcher. 'error' only fires for failures outside any task.
    this.piscina.on('error', (err: Error) => {
      process.emitWarning(`scoring worker error: ${err.message}`, { code: 'BIDDER_WORKER_ERROR' });
      for (const listener of this.errorListeners) listener(err);
    });
  }

  /** Called with errors raised outside any task, e.g. a worker failing while it loads. */
  onStartupError(listener: (err: Error) => void): void {
    this.errorListeners.push(listener);
  }

  get capacity(): number {
    return this.options.threads * this.options.maxBatchesPerWorker;
  }

  /**
   * `count` lifecycle tasks (score.worker.ts LifecycleTask): each holds a worker awake until
   * it has applied the model registry's catalog and experiments versions. Outside the
   * dispatcher's slot accounting: a batch may wait behind one while its worker loads a
   * model (only during a reload).
   */
  wake(count: number, catalog: number, experiments: number, timeoutMs: number): void {
    for (let i = 0; i < count; i++) {
      this.piscina.run({ lifecycle: { catalog, experiments, timeoutMs } }).catch(() => undefined);
    }
  }

  /** Tasks piscina holds for want of a ready worker (only while a replacement warms up). */
  get queuedTasks(): number {
    return this.piscina.queueSize;
  }

  get threadCount(): number {
    return this.piscina.threads.length;
  }

  /**
   * Runs one task; the descriptor buffer is transferred, the reply buffer comes back
   * transferred. Aborting `signal` terminates the worker running the task (and so fails
   * the other task it may hold). A rejection comes only once the worker that held the
   * task has exited, so the caller may free what the task pointed to.
   */
  run(task: ArrayBuffer, signal?: AbortSignal): Promise<ArrayBuffer> {
    const running = this.piscina.run(Piscina.move(task) as unknown as ArrayBuffer, { transferList: undefined, signal });
    return running.then(undefined, this.settleFailure);
  }

  /** Worker threads, for tests that need to reach one (e.g. to terminate it). */
  threads(): readonly import('node:worker_threads').Worker[] {
    return this.piscina.threads;
  }

  async close(): Promise<void> {
    await this.piscina.close({ force: false });
  }

  /** Threads still running: the pool's, and the terminated ones that have not exited yet. */
  private refreshLive(): void {
    this.liveThreadIds.clear();
    for (const t of this.piscina.threads) if (t.threadId >= 0) this.liveThreadIds.add(t.threadId);
    for (const w of this.exits.keys()) if (w.threadId >= 0) this.liveThreadIds.add(w.threadId);
  }

  /** Starts watching every pool thread not yet watched for its exit. */
  private track(): void {
    for (const w of this.piscina.threads) {
      if (this.exits.has(w) || w.threadId < 0) continue;
      this.exits.set(
        w,
        new Promise<void>((resolve) => {
          w.once('exit', () => {
            // Its teardown is over: runs held back for it may go on (teardown-gate.ts).
            teardownGate()?.open();
            this.exits.delete(w);
            this.refreshLive();
            this.onWorkerGone(this.liveThreadIds);
            resolve();
          });
        }),
      );
    }
  }

  /**
   * Rethrows a task's failure once every worker piscina has let go of has exited. Piscina
   * removes a terminated worker from its threads before the task's rejection is
   * delivered, so such a worker is one still watched but no longer in the pool. The wait
   * covers the worker that held this task, and at worst some other dying one too.
   */
  private afterTerminatedExit(err: unknown): Promise<never> {
    this.track();
    const inPool = this.piscina.threads;
    let waits: Promise<void>[] | null = null;
    for (const [w, exited] of this.exits) {
      if (inPool.includes(w)) continue;
      (waits ??= []).push(exited);
    }
    if (waits === null) return Promise.reject(err);
    return Promise.all(waits).then(() => Promise.reject(err));
  }
}

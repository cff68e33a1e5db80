/**
 * The piscina pool of scoring workers: a fixed number of threads, never idled out,
 * each holding preloaded onnxruntime sessions. This is the only module that touches
 * piscina. Routing is explicit: the dispatcher never submits more than the workers can
 * hold, and the load balancer hands each task to the least busy worker, so piscina's
 * own queue stays empty and a task never waits behind another worker's batch.
 */
import { Piscina } from 'piscina';
import type { AtomicsMode } from '../config/config';

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

type WorkerView = { id: number; currentUsage: number };

export class ScoringPool {
  private readonly piscina: Piscina;
  private readonly liveThreadIds = new Set<number>();
  private readonly errorListeners: ((err: Error) => void)[] = [];

  constructor(private readonly options: ScoringPoolOptions, onWorkerGone: (liveThreadIds: ReadonlySet<number>) => void) {
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
        for (const w of workers) {
          if (w.currentUsage >= max) continue;
          if (best === null || w.currentUsage < best.currentUsage) best = w;
          if (w.currentUsage === 0) break;
        }
        return best as never;
      },
    } as ConstructorParameters<typeof Piscina>[0]);
    this.piscina.on('workerCreate', (w: WorkerView) => {
      this.liveThreadIds.add(w.id);
    });
    this.piscina.on('workerDestroy', () => {
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

  /** Tasks piscina holds for want of a ready worker (only while a replacement warms up). */
  get queuedTasks(): number {
    return this.piscina.queueSize;
  }

  get threadCount(): number {
    return this.piscina.threads.length;
  }

  /** Runs one task; the descriptor buffer is transferred, the reply buffer comes back transferred. */
  run(task: ArrayBuffer): Promise<ArrayBuffer> {
    return this.piscina.run(Piscina.move(task) as unknown as ArrayBuffer, { transferList: undefined });
  }

  /** Worker threads, for tests that need to reach one (e.g. to terminate it). */
  threads(): readonly import('node:worker_threads').Worker[] {
    return this.piscina.threads;
  }

  async close(): Promise<void> {
    await this.piscina.close({ force: false });
  }

  private refreshLive(): void {
    this.liveThreadIds.clear();
    for (const t of this.piscina.threads) if (t.threadId >= 0) this.liveThreadIds.add(t.threadId);
  }
}

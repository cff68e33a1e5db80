/**
 * Where a batch runs: on the thread that received it (the acceptor's inline lane) or in
 * the piscina pool, whichever will finish it soonest, from costs the bidder measures
 * itself. No utilisation threshold: the inputs are
 *
 * - the engine's cost on this thread (CostModel): the model's fixed cost per session.run
 *   and per row, and the rest of the bid path per request, first from the warm-up
 *   (engine-setup.ts WarmCosts), then corrected by every inline batch;
 * - the pool's hand-off: a batch's round trip less the worker's own compute time, first
 *   from probes at start, then from every pool batch; and how much slower a worker runs
 *   a batch than this thread would (its core may be shared);
 * - queue state: the inline work this thread already committed to in this turn, and
 *   whether a pool slot is free (a batch is never queued inside piscina);
 * - the cores actually free (free-cores.ts): a worker with no core of its own competes
 *   with this very thread, so its batch takes 1 / free times as long.
 *
 * So with the small model on 2 cores (no core free: the load generator holds the other)
 * everything stays inline; with a heavy model, spare cores, and a queue deeper than one
 * batch, the batches past the first go to the pool, where they finish sooner.
 */
import type { TaskCost } from '../engine/task-runner';
import type { WarmCosts } from '../engine/engine-setup';

/** Weight of each new measurement in the running estimates. */
const kLearn = 0.05;
/** Fewer free cores than this: the pool is as good as absent. */
const kMinCoreShare = 0.05;

export class CostModel {
  modelBatchMs: number;
  modelRowMs: number;
  requestMs: number;
  rowsPerRequest: number;
  /** Round trip to the pool less the worker's compute time; NaN until measured. */
  handoffMs = Number.NaN;
  /** A pool worker's compute time over this thread's estimate for the same batch. */
  poolSlowdown = 1;

  constructor(warm: WarmCosts) {
    this.modelBatchMs = warm.modelBatchMs;
    this.modelRowMs = warm.modelRowMs;
    this.requestMs = warm.requestMs;
    this.rowsPerRequest = warm.rowsPerRequest;
  }

  /** This thread's estimate for a batch of `requests` requests, in ms. */
  estimateMs(requests: number): number {
    if (requests === 0) return 0;
    return this.modelBatchMs + requests * (this.requestMs + this.rowsPerRequest * this.modelRowMs);
  }

  /** Learns from a batch this thread ran. */
  learnInline(cost: TaskCost): void {
    if (cost.requests === 0) return;
    if (cost.rows > 0) {
      const rowMs = Math.max(0, (cost.modelMs - this.modelBatchMs) / cost.rows);
      this.modelRowMs += kLearn * (rowMs - this.modelRowMs);
    }
    const requestMs = Math.max(0, (cost.totalMs - cost.modelMs) / cost.requests);
    this.requestMs += kLearn * (requestMs - this.requestMs);
    this.rowsPerRequest += kLearn * (cost.rows / cost.requests - this.rowsPerRequest);
  }

  /** Learns from a pool batch: its size, the worker's compute time and the round trip. */
  learnPool(requests: number, computeMs: number, roundTripMs: number): void {
    const handoff = Math.max(0, roundTripMs - computeMs);
    this.handoffMs = Number.isNaN(this.handoffMs) ? handoff : this.handoffMs + kLearn * (handoff - this.handoffMs);
    if (requests === 0) return;
    const slowdown = computeMs / Math.max(this.estimateMs(requests), 1e-3);
    this.poolSlowdown += kLearn * (slowdown - this.poolSlowdown);
  }

  /**
   * When a batch placed in the pool now would be done (ms from now), given the cores
   * free; Infinity when the pool cannot take it (no free slot, no core) or the hand-off
   * is not measured yet.
   */
  poolFinishMs(requests: number, freeSlot: boolean, freeCores: number): number {
    if (!freeSlot || Number.isNaN(this.handoffMs) || freeCores < kMinCoreShare) return Infinity;
    const share = freeCores >= 1 ? 1 : freeCores;
    return this.handoffMs + (this.estimateMs(requests) * this.poolSlowdown) / share;
  }
}

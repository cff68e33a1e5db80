/** The messages between the main thread (money-service.ts) and the money owner's thread (money.worker.ts). */
import type { MoneyConfig } from '../config/config';
import type { MoneyCounters } from './money-owner';
import type { MoneyShared } from './money-shared';

import type { ExperimentsSnapshot } from '../experiments/experiment-table';

export interface MoneyWorkerInit {
  shared: MoneyShared;
  campaignsJson: string;
  fxRates: Record<string, number>;
  seatId: string;
  /** The scoring model, name@version, for the event log's bid records. */
  modelVersion: string;
  money: MoneyConfig;
  metrics: SharedArrayBuffer;
  /** Per-campaign and per-creative figures the operations thread exports (money-stats.ts). */
  stats: SharedArrayBuffer;
  /** Experiments and shading: what the owner counts per arm and learns from (absent for tools). */
  lifecycle?: MoneyLifecycle;
}

export interface MoneyLifecycle {
  /** The win-rate table the owner's learner publishes to (src/strategy/win-rate-table.ts). */
  winRates: SharedArrayBuffer;
  /** The experiments at start; reloads come over the model registry's channel. */
  experiments: ExperimentsSnapshot;
  channel: string;
}

export type MoneyMessage = { type: 'close' } | { type: 'stats'; id: number };

export interface EventCounters {
  written: number;
  droppedRing: number;
  droppedSlowDisk: number;
}

export type MoneyReply =
  | { type: 'ready' }
  | { type: 'closed' }
  | { type: 'failed'; message: string }
  | { type: 'log'; message: string }
  | { type: 'stats'; id: number; counters: MoneyCounters; remembered: number; events: EventCounters; fleetUp: boolean | null };

/** The messages between the main thread (money-service.ts) and the money owner's thread (money.worker.ts). */
import type { MoneyConfig } from '../config/config';
import type { MoneyCounters } from './money-owner';
import type { MoneyShared } from './money-shared';

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

/**
 * What a scoring worker is given at start (piscina workerData). SharedArrayBuffers are
 * shared, not copied: the model bytes, the receive slab, the metrics slots, the consent
 * table and the control block exist once in the process whatever the number of workers.
 */
import type { BiddingConfig, PrivacyConfig } from '../config/config';
import type { MoneyShared } from '../money/money-shared';
import type { CatalogModel } from '../models/model-protocol';
import type { ExperimentsSnapshot } from '../experiments/experiment-table';

export interface WorkerInit {
  /**
   * Every model's bytes in its catalog slot, read and verified once by the front end; each
   * engine thread builds a session for each. The catalog of the bidder's start: a thread
   * that starts after a reload asks the registry for the current one (engine-control.ts).
   */
  models: CatalogModel[];
  /** The version of `models` (the registry's catalog version when this was built). */
  catalogVersion: number;
  /** name@version of the model that scored bids at start (tools; threads read the control block). */
  activeModel: string;
  /** Which slot is active, shadow, canary (src/models/model-control.ts); absent for tools: models[0] scores. */
  modelControl?: SharedArrayBuffer;
  /** The BroadcastChannel of this bidder's model registry (model-protocol.ts). */
  modelChannel?: string;
  /** The experiments at start; later versions come over the channel. */
  experiments?: ExperimentsSnapshot;
  /** Per-segment win-rate models the money owner learns and every engine reads (src/strategy/win-rate-table.ts). */
  winRates?: SharedArrayBuffer;
  /** Campaign file contents as validated by the front end at start. */
  campaignsJson: string;
  bidding: BiddingConfig;
  /** Our TCF vendor id and the size of each thread's consent cache. */
  privacy: PrivacyConfig;
  maxBodyBytes: number;
  /** Most candidate rows in one session.run; larger batches are scored in chunks. */
  maxModelRows: number;
  testHooks: boolean;
  receiveSlab: SharedArrayBuffer;
  metrics: SharedArrayBuffer;
  /**
   * Consent decisions shared by every thread (src/privacy/consent-table.ts): workers
   * publish what they decode, the inline lane reads it instead of decoding.
   */
  consentTable: SharedArrayBuffer;
  control: SharedArrayBuffer;
  /**
   * Budgets, caps, the notice key and the rings to the money owner (money-shared.ts).
   * Absent (tools, peers): bids carry no notice URLs and no budget applies.
   */
  money?: MoneyShared;
}

/** Control block layout (Int32 words). */
export const kControlWorkersReady = 0;
/** Teardown gate (engine/teardown-gate.ts): Date.now()'s low 32 bits until which runs wait, 0 when open. */
export const kControlTeardownUntil = 1;
/** Teardown gate: session runs in progress, over every thread. */
export const kControlRunsInFlight = 2;
export const kControlWords = 4;

export function allocateControl(): SharedArrayBuffer {
  return new SharedArrayBuffer(kControlWords * Int32Array.BYTES_PER_ELEMENT);
}

/**
 * What a scoring worker is given at start (piscina workerData). SharedArrayBuffers are
 * shared, not copied: the model bytes, the receive slab, the metrics slots and the
 * control block exist once in the process whatever the number of workers.
 */
import type { BiddingConfig } from '../config/config';

export interface WorkerInit {
  /** Every model's bytes, read and verified once by the front end; each worker builds a session for each. */
  models: { name: string; version: string; shared: SharedArrayBuffer; byteLength: number }[];
  /** The model that scores bids. */
  activeModel: string;
  /** Campaign file contents as validated by the front end at start. */
  campaignsJson: string;
  bidding: BiddingConfig;
  maxBodyBytes: number;
  /** Most candidate rows in one session.run; larger batches are scored in chunks. */
  maxModelRows: number;
  testHooks: boolean;
  receiveSlab: SharedArrayBuffer;
  metrics: SharedArrayBuffer;
  control: SharedArrayBuffer;
}

/** Control block layout (Int32 words). */
export const kControlWorkersReady = 0;
export const kControlWords = 4;

export function allocateControl(): SharedArrayBuffer {
  return new SharedArrayBuffer(kControlWords * Int32Array.BYTES_PER_ELEMENT);
}

/**
 * What crosses between the model registry (main thread, model-registry.ts) and every
 * engine thread (pool workers, acceptor inline lanes: src/engine/model-set.ts), in one
 * place. It travels on a BroadcastChannel named per bidder instance (several bidders can
 * live in one process, as in the tests), so one post reaches every thread whatever
 * piscina's pool looks like at that moment, including workers that replaced dead ones.
 *
 * The catalog message always carries the whole catalog: a thread loads the slots it does
 * not have, releases those that are gone, and acknowledges the version. Model bytes are
 * SharedArrayBuffers: posting them shares, never copies.
 */
import type { ExperimentsSnapshot } from '../experiments/experiment-table';

/** One loaded model: its slot (stable for its life; metric series and the control block use it) and bytes. */
export interface CatalogModel {
  slot: number;
  name: string;
  version: string;
  shared: SharedArrayBuffer;
  byteLength: number;
}

/** Most models loaded at once (slots 0..kMaxModelSlots-1): bounds the per-model metric series. */
export const kMaxModelSlots = 32;

/** Registry → engine threads. */
export type ToEngines =
  | { type: 'catalog'; version: number; models: CatalogModel[] }
  | { type: 'experiments'; snapshot: ExperimentsSnapshot };

/** Engine threads → registry. `thread` is the thread's metrics slot (shared-metrics.ts). */
export type FromEngines =
  /** A thread started (or restarted): send it the current catalog and experiments if newer than its own. */
  | { type: 'hello'; thread: number; catalogVersion: number; experimentsVersion: number }
  /** The thread has (ok) or could not (error) build sessions for every model of catalog `version`. */
  | { type: 'loaded'; thread: number; version: number; ok: boolean; error?: string }
  /** The thread gave its engine experiments snapshot `version`. */
  | { type: 'experiments-applied'; thread: number; version: number };

/** The name of a bidder instance's channel. */
export function modelChannelName(instance: string): string {
  return `bidder-models:${instance}`;
}

export function modelLabel(m: { name: string; version: string }): string {
  return `${m.name}@${m.version}`;
}

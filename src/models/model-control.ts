/**
 * The model control block: which catalog slot scores bids (active), which one shadows it
 * and how often, which one is the canary and on what share of traffic. One writer (the
 * main thread's model registry, model-registry.ts), every engine thread a reader.
 *
 * Atomic switch: the words are written under a seqlock (kCtlSeq odd while writing), and an
 * engine reads them once at the start of each batch (ModelSet.begin). So every thread
 * switches at the same instant, and no batch ever sees half of a change or scores part of
 * its rows with one active model and part with another.
 *
 * "Every thread has switched": each engine thread marks the generation it is scoring with
 * in its own word (kCtlInUseBase + its metrics slot) for the length of a batch, 0 when
 * idle. After a change the registry waits until no thread still holds an older
 * generation (an epoch wait, as RCU does); idle threads have nothing old in hand.
 */

/** Sequence word: odd while the writer is changing the words below. */
export const kCtlSeq = 0;
/** Generation of the settings: bumped by every change (never 0 once written). */
export const kCtlGeneration = 1;
/** Catalog slot of the active model. */
export const kCtlActive = 2;
/** Catalog slot of the shadow model; -1 none. */
export const kCtlShadow = 3;
/** Batches per 1,000 the shadow also scores. */
export const kCtlShadowPermille = 4;
/** Catalog slot of the canary; -1 none. */
export const kCtlCanary = 5;
/** Requests per 10,000 the canary scores instead of the active model (100 = 1%). */
export const kCtlCanaryBasisPoints = 6;
/** Version of the catalog the registry last published (model-protocol.ts). */
export const kCtlCatalogVersion = 7;
/** First per-thread word: the generation a thread is scoring with, 0 idle; indexed by metrics slot. */
export const kCtlInUseBase = 16;

/** The settings a batch runs with. */
export interface ModelSettings {
  generation: number;
  active: number;
  shadow: number;
  shadowPermille: number;
  canary: number;
  canaryBasisPoints: number;
}

export function allocateModelControl(maxThreadSlots: number): SharedArrayBuffer {
  return new SharedArrayBuffer((kCtlInUseBase + maxThreadSlots) * Int32Array.BYTES_PER_ELEMENT);
}

export function emptySettings(): ModelSettings {
  return { generation: 0, active: 0, shadow: -1, shadowPermille: 0, canary: -1, canaryBasisPoints: 0 };
}

/** Reader side (every engine thread): a consistent copy of the settings, without a lock. */
export class ModelControlReader {
  private readonly words: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
  }

  /** Copies the settings into `out`; retries while the writer is mid-change (a few ns apart). */
  read(out: ModelSettings): ModelSettings {
    const w = this.words;
    for (;;) {
      const before = Atomics.load(w, kCtlSeq);
      if ((before & 1) === 0) {
        out.generation = Atomics.load(w, kCtlGeneration);
        out.active = Atomics.load(w, kCtlActive);
        out.shadow = Atomics.load(w, kCtlShadow);
        out.shadowPermille = Atomics.load(w, kCtlShadowPermille);
        out.canary = Atomics.load(w, kCtlCanary);
        out.canaryBasisPoints = Atomics.load(w, kCtlCanaryBasisPoints);
        if (Atomics.load(w, kCtlSeq) === before) return out;
      }
    }
  }

  /** Marks this thread as scoring with `generation` (0: idle). */
  markInUse(threadSlot: number, generation: number): void {
    const i = kCtlInUseBase + threadSlot;
    if (i < this.words.length) Atomics.store(this.words, i, generation);
  }

  catalogVersion(): number {
    return Atomics.load(this.words, kCtlCatalogVersion);
  }
}

/** Writer side: the model registry on the main thread, the only writer. */
export class ModelControlWriter extends ModelControlReader {
  private readonly w: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer);
    this.w = new Int32Array(buffer);
  }

  /** Writes every setting at once and returns the new generation. */
  write(s: Omit<ModelSettings, 'generation'>): number {
    const w = this.w;
    Atomics.add(w, kCtlSeq, 1);
    const generation = Atomics.load(w, kCtlGeneration) + 1;
    Atomics.store(w, kCtlActive, s.active);
    Atomics.store(w, kCtlShadow, s.shadow);
    Atomics.store(w, kCtlShadowPermille, s.shadowPermille);
    Atomics.store(w, kCtlCanary, s.canary);
    Atomics.store(w, kCtlCanaryBasisPoints, s.canaryBasisPoints);
    Atomics.store(w, kCtlGeneration, generation);
    Atomics.add(w, kCtlSeq, 1);
    return generation;
  }

  setCatalogVersion(version: number): void {
    Atomics.store(this.w, kCtlCatalogVersion, version);
  }

  /** Thread slots still scoring with a generation older than `generation`. */
  olderThan(generation: number): number[] {
    const out: number[] = [];
    for (let i = kCtlInUseBase; i < this.w.length; i++) {
      const g = Atomics.load(this.w, i);
      if (g !== 0 && g < generation) out.push(i - kCtlInUseBase);
    }
    return out;
  }

  /** Forgets a thread that is gone (a dead worker's mark would hold every wait). */
  clearThread(threadSlot: number): void {
    const i = kCtlInUseBase + threadSlot;
    if (i < this.w.length) Atomics.store(this.w, i, 0);
  }
}

/**
 * One engine thread's side of the model lifecycle and the experiments: an onnxruntime
 * session for every model of the catalog (by slot), the control block's settings read
 * once per batch (which slot is active, shadow, canary), and the experiments snapshot the
 * engine assigns arms from. The registry on the main thread (src/models/model-registry.ts)
 * changes them; this class follows, on its own thread, between batches:
 *
 * - A catalog message (BroadcastChannel, model-protocol.ts) loads the new slots' sessions
 *   beside the old ones (built from the shared bytes and warmed, as at start), releases the
 *   slots that are gone, and acknowledges the version; a model that fails to load is
 *   reported (the registry then withdraws it) and the thread keeps serving.
 * - The switch itself is not a message: every batch reads the control block (begin) and
 *   scores with what it says for the whole batch, marking the generation it holds until
 *   end(), which is what the registry's "every thread has switched" waits on.
 *
 * A thread that starts after a change (a replacement pool worker) was given the catalog of
 * the bidder's start; it asks for the current one before it takes work (sync()).
 */
import { BroadcastChannel } from 'node:worker_threads';
import { ArmAssigner, emptyExperiments, type ExperimentsSnapshot } from '../experiments/experiment-table';
import { ModelControlReader, emptySettings, type ModelSettings } from '../models/model-control';
import { modelLabel, type CatalogModel, type FromEngines, type ToEngines } from '../models/model-protocol';
import { createScorer, type Scorer } from './onnx-scorer';

/** What the bid engine needs of its models and experiments, whatever holds them. */
export interface ModelSource {
  /** Reads the settings for one batch and marks them in use on this thread. */
  begin(): ModelSettings;
  /** The batch is done: nothing of its settings is held any more. */
  end(): void;
  /** The session of a catalog slot; undefined when this thread has none. */
  scorer(slot: number): Scorer | undefined;
  /** name@version of a slot ('' unknown). */
  label(slot: number): string;
  /** The experiments to assign arms from; null without any. */
  readonly assigner: ArmAssigner | null;
}

/** One scorer, always active, no experiments: tools, benchmarks and unit tests. */
export class FixedModels implements ModelSource {
  private readonly settings = emptySettings();
  readonly assigner = null;

  constructor(private readonly only: Scorer, private readonly name = '') {}

  begin(): ModelSettings {
    return this.settings;
  }

  end(): void {}

  scorer(slot: number): Scorer | undefined {
    return slot === 0 ? this.only : undefined;
  }

  label(slot: number): string {
    return slot === 0 ? this.name : '';
  }
}

export interface EngineControlInit {
  models: CatalogModel[];
  catalogVersion: number;
  control: SharedArrayBuffer;
  channel: string;
  experiments: ExperimentsSnapshot;
  maxRows: number;
  /** This thread's metrics slot: its word in the control block and its id in acknowledgements. */
  threadSlot: number;
  log?: (msg: string) => void;
}

/** How long a new thread waits for the current catalog before it serves with the one it was given. */
const kSyncTimeoutMs = 10_000;

export class EngineControl implements ModelSource {
  private readonly scorers: (Scorer | undefined)[] = [];
  private readonly labels: string[] = [];
  private readonly reader: ModelControlReader;
  private readonly settings = emptySettings();
  private readonly channel: BroadcastChannel;
  private catalogVersion: number;
  private experimentsVersion: number;
  private loading: Promise<void> = Promise.resolve();
  private waiters: (() => void)[] = [];
  assigner: ArmAssigner | null;

  private constructor(private readonly o: EngineControlInit) {
    this.reader = new ModelControlReader(o.control);
    // A thread that takes over a dead one's slot also takes its mark: idle until it scores.
    this.reader.markInUse(o.threadSlot, 0);
    this.catalogVersion = o.catalogVersion;
    this.experimentsVersion = o.experiments.version;
    this.assigner = o.experiments.experiments.length > 0 ? new ArmAssigner(o.experiments) : null;
    this.channel = new BroadcastChannel(o.channel);
    // Never what keeps a thread (or the process) alive.
    (this.channel as unknown as { unref?: () => void }).unref?.();
    this.channel.onmessage = (event: unknown) => this.onMessage((event as { data: ToEngines }).data);
  }

  /** Sessions for every model of `init.models`, each warmed; then caught up with the registry. */
  static async start(init: EngineControlInit): Promise<EngineControl> {
    const c = new EngineControl(init);
    for (const m of init.models) await c.load(m);
    await c.sync();
    return c;
  }

  begin(): ModelSettings {
    const s = this.reader.read(this.settings);
    this.reader.markInUse(this.o.threadSlot, s.generation);
    return s;
  }

  end(): void {
    this.reader.markInUse(this.o.threadSlot, 0);
  }

  scorer(slot: number): Scorer | undefined {
    return slot >= 0 ? this.scorers[slot] : undefined;
  }

  label(slot: number): string {
    return slot >= 0 ? (this.labels[slot] ?? '') : '';
  }

  /**
   * Resolves once this thread has applied catalog `catalog` and experiments `experiments`
   * (or after `timeoutMs`). A pool worker that sleeps between tasks (piscina's Atomics.wait)
   * runs no message until a task holds it awake: the registry sends a lifecycle task that
   * waits here (score.worker.ts), which lets the channel's messages in.
   */
  async catchUp(catalog: number, experiments: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.catalogVersion >= catalog && this.experimentsVersion >= experiments) {
        await this.loading;
        return true;
      }
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** Slots with a session here (tests). */
  loadedSlots(): number[] {
    const out: number[] = [];
    this.scorers.forEach((s, i) => {
      if (s !== undefined) out.push(i);
    });
    return out;
  }

  close(): void {
    this.channel.close();
    for (const s of this.scorers) void s?.release();
    this.scorers.length = 0;
  }

  /**
   * When the registry has published a catalog newer than the one this thread was given
   * (it started after a reload), asks for it and waits until it is loaded.
   */
  private async sync(): Promise<void> {
    this.post({ type: 'hello', thread: this.o.threadSlot, catalogVersion: this.catalogVersion, experimentsVersion: this.experimentsVersion });
    if (this.reader.catalogVersion() <= this.catalogVersion) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, kSyncTimeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    await this.loading;
  }

  private onMessage(m: ToEngines): void {
    if (m.type === 'catalog') {
      if (m.version <= this.catalogVersion) return;
      this.catalogVersion = m.version;
      // One load at a time, in order: a second catalog waits for the first to be in.
      this.loading = this.loading.then(() => this.applyCatalog(m.version, m.models));
    } else if (m.type === 'experiments') {
      if (m.snapshot.version <= this.experimentsVersion) return;
      this.experimentsVersion = m.snapshot.version;
      // Swapped between batches: a batch holds the assigner it began with only through this field,
      // read once per request, so a request is assigned wholly by one snapshot or the other.
      this.assigner = m.snapshot.experiments.length > 0 ? new ArmAssigner(m.snapshot) : null;
      this.post({ type: 'experiments-applied', thread: this.o.threadSlot, version: m.snapshot.version });
    }
  }

  private async applyCatalog(version: number, models: CatalogModel[]): Promise<void> {
    const wanted = new Set(models.map((m) => m.slot));
    let error: string | undefined;
    for (const m of models) {
      if (this.scorers[m.slot] !== undefined && this.labels[m.slot] === modelLabel(m)) continue;
      try {
        await this.load(m);
      } catch (err) {
        error = `${modelLabel(m)}: ${(err as Error).message}`;
        this.o.log?.(`model load failed: ${error}`);
      }
    }
    // Slots withdrawn from the catalog: never the one in use (the registry never withdraws it).
    const inUse = this.reader.read(emptySettings());
    this.scorers.forEach((s, slot) => {
      if (s !== undefined && !wanted.has(slot) && slot !== inUse.active) {
        void s.release();
        this.scorers[slot] = undefined;
        this.labels[slot] = '';
      }
    });
    this.post({ type: 'loaded', thread: this.o.threadSlot, version, ok: error === undefined, error });
    for (const w of this.waiters.splice(0)) w();
  }

  private async load(m: CatalogModel): Promise<void> {
    const scorer = await createScorer(m.shared, m.byteLength, this.o.maxRows);
    await scorer.warm();
    const old = this.scorers[m.slot];
    this.scorers[m.slot] = scorer;
    this.labels[m.slot] = modelLabel(m);
    if (old !== undefined) void old.release();
  }

  private post(m: FromEngines): void {
    this.channel.postMessage(m);
  }
}

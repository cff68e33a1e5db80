/**
 * The model registry and the experiments' owner, on the main thread: what is loaded (the
 * catalog: every name@version verified and in shared memory, each in a slot), which slot
 * is active, shadow and canary (the control block, model-control.ts), and the compiled
 * experiments. Every change reaches the engine threads (src/engine/engine-control.ts) over
 * the instance's BroadcastChannel; the registry answers an admin call only once every live
 * engine thread has done its part. One change at a time: a second call while one is under
 * way is refused (409 MODEL_BUSY) rather than queued behind it.
 *
 * - reload: reads the manifest; every name@version not loaded yet is verified exactly as
 *   at start (sha256, inputs and outputs, feature-spec digest) and loaded into every
 *   thread beside the others. All or nothing, as Triton's explicit mode: one bad file, or
 *   one thread that cannot build a session, and nothing new stays loaded; what serves is
 *   never touched.
 * - activate: one write of the control block switches every thread at once (each reads it
 *   at the start of its next batch); the answer waits until no thread still scores a batch
 *   begun under the old setting.
 * - shadow, canary: the same write; the canary's ramp is stepped here (canary-ramp.ts) on
 *   the per-model counters every thread records, and rolled back or promoted by itself.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { loadManifest, pickModel, type ManifestEntry } from './manifest';
import { readModelShared, type SharedModel } from './model-bytes';
import { ModelControlWriter, emptySettings, type ModelSettings } from './model-control';
import { kMaxModelSlots, modelLabel, type CatalogModel, type FromEngines, type ToEngines } from './model-protocol';
import { CanaryRamp, kMinRunsToJudge, type CanaryBounds, type CanaryCounters, type CanaryVerdict } from './canary-ramp';
import { ArmSlots, compileExperiments, emptyExperiments, type ExperimentsSnapshot } from '../experiments/experiment-table';
import { loadExperimentsFile } from '../experiments/experiment-config';
import { M } from '../metrics/definitions';
import { kMainSlot, kMaxSlots, SlotReader, type MetricsLayout } from '../metrics/shared-metrics';
import type { ModelConfig } from '../config/config';

/** An admin answer: HTTP status and the JSON body. */
export interface LifecycleAnswer {
  status: number;
  body: unknown;
}

export type ModelState = 'active' | 'shadow' | 'canary' | 'loaded';

interface CatalogEntry extends CatalogModel {
  entry: ManifestEntry;
  loadedAtMs: number;
}

interface EngineThread {
  catalog: number;
  experiments: number;
  error?: string;
}

export interface ModelRegistryOptions {
  dir: string;
  control: SharedArrayBuffer;
  channel: string;
  metrics: { buffer: SharedArrayBuffer; layout: MetricsLayout };
  /** What start loaded and verified (model-bytes.ts loadAllModelsShared). */
  models: SharedModel[];
  active: SharedModel;
  model: ModelConfig;
  experimentsFile: string;
  log: (msg: string) => void;
  /**
   * Wakes `count` pool workers with a lifecycle task that holds each until it has caught
   * up (pool workers sleep between tasks and read no message meanwhile). Set once the pool
   * exists (setWaker); threads with an event loop of their own need nothing.
   */
  wake?: (count: number, catalog: number, experiments: number, timeoutMs: number) => void;
  /** Test seams. */
  nowMs?: () => number;
  loadTimeoutMs?: number;
  switchTimeoutMs?: number;
}

export class RegistryStartError extends Error {
  constructor(readonly code: string, readonly errors: string[]) {
    super(`${code}: ${errors.join('; ')}`);
  }
}

const kDefaultLoadTimeoutMs = 60_000;
const kDefaultSwitchTimeoutMs = 5_000;
const kPollMs = 1;
/** How often lagging pool workers are woken again, and how long one lifecycle task holds a worker at most. */
const kWakeEveryMs = 200;
const kWakeHoldMs = 2_000;

export class ModelRegistry {
  private readonly catalog: CatalogEntry[] = [];
  private catalogVersion = 1;
  private readonly writer: ModelControlWriter;
  private readonly channel: BroadcastChannel;
  private readonly engines = new Map<number, EngineThread>();
  private readonly owners: Int32Array;
  private readonly reader: SlotReader;
  private readonly armSlots = new ArmSlots();
  private experiments: ExperimentsSnapshot = emptyExperiments();
  private settings: ModelSettings = emptySettings();
  private busy = false;
  private canary: { slot: number; ramp: CanaryRamp; startedAtMs: number } | null = null;
  private canaryTimer: NodeJS.Timeout | null = null;
  private lastCanary: { model: string; result: string; detail: string; atMs: number } | null = null;
  private readonly now: () => number;

  private constructor(private readonly o: ModelRegistryOptions) {
    this.now = o.nowMs ?? Date.now;
    this.waker = o.wake;
    this.writer = new ModelControlWriter(o.control);
    this.owners = new Int32Array(o.metrics.buffer, 0, kMaxSlots);
    this.reader = new SlotReader(o.metrics.layout, o.metrics.buffer);
    this.channel = new BroadcastChannel(o.channel);
    (this.channel as unknown as { unref?: () => void }).unref?.();
    this.channel.onmessage = (event: unknown) => this.onMessage((event as { data: FromEngines }).data);
  }

  /** Builds the catalog from what start verified, sets the active and shadow models, compiles the experiments. */
  static create(o: ModelRegistryOptions): ModelRegistry {
    if (o.models.length > kMaxModelSlots) throw new RegistryStartError('MODEL_SLOTS_FULL', [`${o.models.length} models; at most ${kMaxModelSlots}`]);
    const r = new ModelRegistry(o);
    const at = r.now();
    o.models.forEach((m, slot) => r.catalog.push({ slot, name: m.entry.name, version: m.entry.version, shared: m.shared, byteLength: m.byteLength, entry: m.entry, loadedAtMs: at }));
    const active = r.catalog.find((c) => c.entry === o.active.entry)!;
    let shadow = -1;
    if (o.model.shadow !== '') {
      shadow = r.resolve(o.model.shadow);
      if (shadow < 0) throw new RegistryStartError('MODEL_NOT_FOUND', [`model.shadow: ${o.model.shadow} is not in the manifest`]);
      if (shadow === active.slot) throw new RegistryStartError('MODEL_SHADOW_IS_ACTIVE', [`model.shadow: ${o.model.shadow} is the active model`]);
    }
    r.settings = { generation: 0, active: active.slot, shadow, shadowPermille: shadow < 0 ? 0 : o.model.shadowSamplePermille, canary: -1, canaryBasisPoints: 0 };
    r.settings.generation = r.writer.write(r.settings);
    r.writer.setCatalogVersion(r.catalogVersion);
    const file = loadExperimentsFile(o.experimentsFile);
    if (!file.ok) throw new RegistryStartError('EXPERIMENTS_INVALID', file.errors);
    const compiled = compileExperiments(file.file, 1, (ref) => r.resolve(ref), r.armSlots);
    if (!compiled.ok) throw new RegistryStartError('EXPERIMENTS_INVALID', compiled.errors);
    r.experiments = compiled.snapshot;
    return r;
  }

  /** The catalog as engine threads start with it (WorkerInit). */
  catalogModels(): CatalogModel[] {
    return this.catalog.map(({ slot, name, version, shared, byteLength }) => ({ slot, name, version, shared, byteLength }));
  }

  get currentCatalogVersion(): number {
    return this.catalogVersion;
  }

  get experimentsSnapshot(): ExperimentsSnapshot {
    return this.experiments;
  }

  /** name@version of the active model. */
  activeLabel(): string {
    return this.labelOf(this.settings.active);
  }

  /** A catalog slot for "name" (newest loaded version) or "name@version"; -1 when not loaded. */
  resolve(ref: string): number {
    return pickModel(this.catalog, ref)?.slot ?? -1;
  }

  list(): LifecycleAnswer {
    const s = this.settings;
    const stateOf = (slot: number): ModelState =>
      slot === s.active ? 'active' : slot === s.shadow ? 'shadow' : slot === s.canary ? 'canary' : 'loaded';
    return {
      status: 200,
      body: {
        active: this.labelOf(s.active),
        generation: s.generation,
        catalogVersion: this.catalogVersion,
        models: this.catalog.map((c) => ({
          model: modelLabel(c), name: c.name, version: c.version, state: stateOf(c.slot), file: c.entry.file,
          sha256: c.entry.sha256, loadedAt: new Date(c.loadedAtMs).toISOString(),
        })),
        shadow: s.shadow < 0 ? null : { model: this.labelOf(s.shadow), samplePermille: s.shadowPermille },
        canary: this.canary === null ? null : {
          model: this.labelOf(this.canary.slot), trafficPercent: s.canaryBasisPoints / 100, step: this.canary.ramp.stepIndex + 1,
          startedAt: new Date(this.canary.startedAtMs).toISOString(),
        },
        lastCanary: this.lastCanary === null ? null : { ...this.lastCanary, at: new Date(this.lastCanary.atMs).toISOString() },
        threads: [...this.liveEngines()].map(([slot, e]) => ({ thread: slot, catalogVersion: e.catalog, experimentsVersion: e.experiments })),
      },
    };
  }

  /** Loads every name@version of the manifest not loaded yet into every engine thread; all or nothing. */
  reload(): Promise<LifecycleAnswer> {
    return this.exclusive(async () => {
      const m = loadManifest(this.o.dir);
      if (!m.ok) return fail(422, 'MODEL_RELOAD_FAILED', m.errors.map((e) => `${e.code}: ${e.at ?? ''} ${e.message}`));
      const errors: string[] = [];
      const fresh: CatalogEntry[] = [];
      let nextSlot = this.freeSlot(0);
      for (const entry of m.manifest.models) {
        const known = this.catalog.find((c) => c.name === entry.name && c.version === entry.version);
        if (known !== undefined) {
          // A version is immutable once loaded: new bytes need a new version.
          if (known.entry.sha256 !== entry.sha256) errors.push(`MODEL_VERSION_CHANGED: ${modelLabel(entry)}: sha256 differs from the loaded one; publish a new version`);
          continue;
        }
        const read = readModelShared(entry, this.o.dir);
        if (!read.ok) {
          errors.push(...read.errors.map((e) => `${e.code}: ${e.at ?? ''} ${e.message}`));
          continue;
        }
        if (nextSlot < 0) {
          errors.push(`MODEL_SLOTS_FULL: ${modelLabel(entry)}: at most ${kMaxModelSlots} models loaded`);
          continue;
        }
        fresh.push({ slot: nextSlot, name: entry.name, version: entry.version, shared: read.shared, byteLength: read.byteLength, entry, loadedAtMs: this.now() });
        nextSlot = this.freeSlot(nextSlot + 1);
      }
      if (errors.length > 0) return fail(422, 'MODEL_RELOAD_FAILED', errors);
      if (fresh.length === 0) return { status: 200, body: { loaded: [], ...(this.list().body as object) } };
      this.catalog.push(...fresh);
      const version = this.publishCatalog();
      const outcome = await this.waitForEngines((e) => e.catalog >= version || e.error !== undefined, this.o.loadTimeoutMs ?? kDefaultLoadTimeoutMs);
      const failed = [...this.liveEngines()].filter(([, e]) => e.error !== undefined || e.catalog < version);
      if (!outcome || failed.length > 0) {
        // Withdraw what some thread could not load: every thread releases it; nothing served it.
        for (const f of fresh) this.catalog.splice(this.catalog.indexOf(f), 1);
        this.publishCatalog();
        for (const [, e] of failed) delete e.error;
        return fail(outcome ? 422 : 504, outcome ? 'MODEL_LOAD_FAILED' : 'MODEL_RELOAD_TIMEOUT',
          failed.map(([slot, e]) => `thread ${slot}: ${e.error ?? `did not load catalog ${version} in time`}`));
      }
      this.o.log(`models: loaded ${fresh.map(modelLabel).join(', ')} into ${this.liveEngines().size} threads (catalog ${version})`);
      return { status: 200, body: { loaded: fresh.map(modelLabel), ...(this.list().body as object) } };
    });
  }

  /** Makes `ref` the active model on every thread; answers once no thread scores with the old one. */
  activate(ref: unknown): Promise<LifecycleAnswer> {
    return this.exclusive(async () => {
      const slot = this.refSlot(ref);
      if (typeof slot !== 'number') return slot;
      const from = this.labelOf(this.settings.active);
      const next = { ...this.settings, active: slot };
      // The new active model is no longer a canary or a shadow of itself.
      if (next.canary === slot) {
        this.endCanary('promoted', 'activated by hand');
        next.canary = -1;
        next.canaryBasisPoints = 0;
      }
      if (next.shadow === slot) {
        next.shadow = -1;
        next.shadowPermille = 0;
      }
      const switched = await this.switchTo(next);
      this.o.log(`models: active ${from} -> ${this.labelOf(slot)} (generation ${switched.generation}, every thread in ${switched.ms.toFixed(1)} ms)`);
      return { status: switched.ok ? 200 : 504, body: { active: this.labelOf(slot), previous: from, generation: switched.generation, switchedInMs: round3(switched.ms), ...(switched.ok ? {} : { code: 'MODEL_SWITCH_TIMEOUT', stuck: switched.stuck }) } };
    });
  }

  /** Sets (`{"model": ref, "samplePermille"?: n}`) or clears (`{"model": null}`) the shadow model. */
  shadow(body: Record<string, unknown>): Promise<LifecycleAnswer> {
    return this.exclusive(async () => {
      const permille = body.samplePermille === undefined ? this.o.model.shadowSamplePermille : body.samplePermille;
      if (typeof permille !== 'number' || !Number.isInteger(permille) || permille < 0 || permille > 1000) return fail(400, 'INVALID_VALUE', ['samplePermille: an integer from 0 to 1000']);
      let slot = -1;
      if (body.model !== null) {
        const r = this.refSlot(body.model);
        if (typeof r !== 'number') return r;
        if (r === this.settings.active) return fail(409, 'MODEL_SHADOW_IS_ACTIVE', [`${this.labelOf(r)} is the active model`]);
        slot = r;
      }
      const switched = await this.switchTo({ ...this.settings, shadow: slot, shadowPermille: slot < 0 ? 0 : permille });
      this.o.log(`models: shadow ${slot < 0 ? 'off' : `${this.labelOf(slot)} on ${permille}/1000 batches`}`);
      return { status: 200, body: { shadow: slot < 0 ? null : { model: this.labelOf(slot), samplePermille: permille }, generation: switched.generation } };
    });
  }

  /**
   * Starts (`{"model": ref}`) or stops (`{"model": null}`) a canary ramp. The configured
   * bounds (model.canary*) apply unless the call gives its own: stepSec, maxErrorPermille,
   * maxRunUs, minRuns (runs a step needs before it is judged on latency or may pass).
   */
  canaryCall(body: Record<string, unknown>): Promise<LifecycleAnswer> {
    return this.exclusive(async () => {
      if (body.model === null) {
        if (this.canary === null) return { status: 200, body: { canary: null } };
        this.endCanary('stopped', 'stopped by hand');
        await this.switchTo({ ...this.settings, canary: -1, canaryBasisPoints: 0 });
        return { status: 200, body: { canary: null, lastCanary: this.lastCanary } };
      }
      const slot = this.refSlot(body.model);
      if (typeof slot !== 'number') return slot;
      if (slot === this.settings.active) return fail(409, 'MODEL_CANARY_IS_ACTIVE', [`${this.labelOf(slot)} is the active model`]);
      const bounds = canaryBounds(body, this.o.model);
      if (!('stepSec' in bounds)) return bounds;
      const ramp = new CanaryRamp(bounds, this.now(), this.countersOf(slot));
      this.canary = { slot, ramp, startedAtMs: this.now() };
      const switched = await this.switchTo({ ...this.settings, canary: slot, canaryBasisPoints: ramp.basisPoints });
      this.startCanaryTimer();
      this.o.log(`models: canary ${this.labelOf(slot)} at ${ramp.basisPoints / 100}%`);
      return { status: 200, body: { canary: { model: this.labelOf(slot), trafficPercent: ramp.basisPoints / 100 }, generation: switched.generation } };
    });
  }

  listExperiments(): LifecycleAnswer {
    return { status: 200, body: { version: this.experiments.version, file: this.o.experimentsFile, experiments: this.experiments.experiments } };
  }

  /** Re-reads the experiments file; a file with any error changes nothing. */
  reloadExperiments(): Promise<LifecycleAnswer> {
    return this.exclusive(async () => {
      const file = loadExperimentsFile(this.o.experimentsFile);
      if (!file.ok) return fail(422, 'EXPERIMENTS_INVALID', file.errors);
      const version = this.experiments.version + 1;
      const compiled = compileExperiments(file.file, version, (ref) => this.resolve(ref), this.armSlots);
      if (!compiled.ok) return fail(422, 'EXPERIMENTS_INVALID', compiled.errors);
      this.experiments = compiled.snapshot;
      this.post({ type: 'experiments', snapshot: this.experiments });
      const ok = await this.waitForEngines((e) => e.experiments >= version, this.o.switchTimeoutMs ?? kDefaultSwitchTimeoutMs);
      this.o.log(`experiments: version ${version} (${this.experiments.experiments.map((e) => e.id).join(', ') || 'none'})`);
      return { status: ok ? 200 : 504, body: { ...(this.listExperiments().body as object), ...(ok ? {} : { code: 'EXPERIMENTS_APPLY_TIMEOUT' }) } };
    });
  }

  /** Steps the canary once (the timer does this every second; tests call it directly). */
  async stepCanary(): Promise<CanaryVerdict | null> {
    const c = this.canary;
    if (c === null || this.busy) return null;
    const verdict = c.ramp.check(this.now(), this.countersOf(c.slot));
    if (verdict.kind === 'hold') return verdict;
    await this.exclusive(async () => {
      if (this.canary !== c) return ok();
      if (verdict.kind === 'step') {
        await this.switchTo({ ...this.settings, canaryBasisPoints: verdict.basisPoints });
        this.o.log(`models: canary ${this.labelOf(c.slot)} at ${verdict.basisPoints / 100}%`);
      } else if (verdict.kind === 'promote') {
        const from = this.labelOf(this.settings.active);
        this.endCanary('promoted', `replaced ${from}`);
        await this.switchTo({ ...this.settings, active: c.slot, canary: -1, canaryBasisPoints: 0, ...(this.settings.shadow === c.slot ? { shadow: -1, shadowPermille: 0 } : {}) });
        this.o.log(`models: canary ${this.labelOf(c.slot)} promoted to active (was ${from})`);
      } else if (verdict.kind === 'rollback') {
        this.endCanary('rolled_back', verdict.detail);
        await this.switchTo({ ...this.settings, canary: -1, canaryBasisPoints: 0 });
        this.o.log(`models: canary ${this.labelOf(c.slot)} rolled back: ${verdict.detail}`);
      }
      return ok();
    });
    return verdict;
  }

  close(): void {
    if (this.canaryTimer !== null) clearInterval(this.canaryTimer);
    this.canaryTimer = null;
    this.channel.close();
  }

  private endCanary(result: string, detail: string): void {
    if (this.canary === null) return;
    this.lastCanary = { model: this.labelOf(this.canary.slot), result, detail, atMs: this.now() };
    this.canary = null;
    if (this.canaryTimer !== null) clearInterval(this.canaryTimer);
    this.canaryTimer = null;
  }

  private startCanaryTimer(): void {
    if (this.canaryTimer !== null) return;
    this.canaryTimer = setInterval(() => void this.stepCanary(), 1_000);
    this.canaryTimer.unref();
  }

  /** What a model did, summed over every thread (the per-model counters). */
  private countersOf(slot: number): CanaryCounters {
    const layout = this.o.metrics.layout;
    const at = (name: string): number => this.reader.sum(layout.offset(name, [String(slot)]));
    return { runs: at(M.modelRuns), errors: at(M.modelErrors), runSeconds: at(M.modelRunSeconds) };
  }

  /** Writes the settings and waits until no live thread holds a batch begun before them. */
  private async switchTo(next: ModelSettings): Promise<{ ok: boolean; generation: number; ms: number; stuck: number[] }> {
    const started = performance.now();
    const generation = this.writer.write(next);
    this.settings = { ...next, generation };
    const deadline = started + (this.o.switchTimeoutMs ?? kDefaultSwitchTimeoutMs);
    for (;;) {
      const stuck = this.writer.olderThan(generation).filter((slot) => this.isLive(slot));
      if (stuck.length === 0) return { ok: true, generation, ms: performance.now() - started, stuck };
      if (performance.now() > deadline) return { ok: false, generation, ms: performance.now() - started, stuck };
      await sleep(kPollMs);
    }
  }

  private publishCatalog(): number {
    this.catalogVersion++;
    this.writer.setCatalogVersion(this.catalogVersion);
    this.post({ type: 'catalog', version: this.catalogVersion, models: this.catalogModels() });
    return this.catalogVersion;
  }

  private onMessage(m: FromEngines): void {
    if (m.type === 'hello') {
      this.engines.set(m.thread, { catalog: m.catalogVersion, experiments: m.experimentsVersion });
      // A thread that started from older start data: the current catalog and experiments.
      if (m.catalogVersion < this.catalogVersion) this.post({ type: 'catalog', version: this.catalogVersion, models: this.catalogModels() });
      if (m.experimentsVersion < this.experiments.version) this.post({ type: 'experiments', snapshot: this.experiments });
    } else if (m.type === 'loaded') {
      const e = this.engines.get(m.thread) ?? { catalog: 0, experiments: 0 };
      if (m.ok) e.catalog = Math.max(e.catalog, m.version);
      else e.error = m.error ?? 'load failed';
      this.engines.set(m.thread, e);
    } else if (m.type === 'experiments-applied') {
      const e = this.engines.get(m.thread) ?? { catalog: 0, experiments: 0 };
      e.experiments = Math.max(e.experiments, m.version);
      this.engines.set(m.thread, e);
    }
  }

  /** A metrics slot still owned by a thread (the main thread's always is); a dead worker's is released. */
  private isLive(slot: number): boolean {
    return slot === kMainSlot || Atomics.load(this.owners, slot) !== 0;
  }

  private liveEngines(): Map<number, EngineThread> {
    for (const slot of this.engines.keys()) if (!this.isLive(slot)) this.engines.delete(slot);
    return this.engines;
  }

  /** Wakes lagging pool workers (see options.wake) every kWakeEveryMs until every live engine is `done`. */
  private async waitForEngines(done: (e: EngineThread) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    let wokeAt = -Infinity;
    for (;;) {
      const lagging = [...this.liveEngines().values()].filter((e) => !done(e)).length;
      if (lagging === 0) return true;
      const now = performance.now();
      if (now > deadline) return false;
      if (now - wokeAt >= kWakeEveryMs) {
        wokeAt = now;
        this.waker?.(lagging, this.catalogVersion, this.experiments.version, kWakeHoldMs);
      }
      await sleep(5);
    }
  }

  /** Sets the pool's waker (the pool is built after the registry, from what the registry gives it). */
  setWaker(wake: NonNullable<ModelRegistryOptions['wake']>): void {
    this.waker = wake;
  }

  private waker: ModelRegistryOptions['wake'];

  private freeSlot(from: number): number {
    for (let s = from; s < kMaxModelSlots; s++) if (!this.catalog.some((c) => c.slot === s)) return s;
    return -1;
  }

  private refSlot(ref: unknown): number | LifecycleAnswer {
    if (typeof ref !== 'string' || ref.length === 0) return fail(400, 'MISSING_FIELD', ['model: a model name or name@version']);
    const slot = this.resolve(ref);
    if (slot < 0) return fail(404, 'MODEL_NOT_FOUND', [`${ref} is not loaded (loaded: ${this.catalog.map(modelLabel).join(', ')})`]);
    return slot;
  }

  private labelOf(slot: number): string {
    const c = this.catalog.find((x) => x.slot === slot);
    return c === undefined ? '' : modelLabel(c);
  }

  private post(m: ToEngines): void {
    this.channel.postMessage(m);
  }

  private async exclusive(work: () => Promise<LifecycleAnswer>): Promise<LifecycleAnswer> {
    if (this.busy) return fail(409, 'MODEL_BUSY', ['another model or experiments change is under way']);
    this.busy = true;
    try {
      return await work();
    } finally {
      this.busy = false;
    }
  }
}

/** The canary's bounds: the call's own where it gives them, else the configuration's. */
function canaryBounds(body: Record<string, unknown>, cfg: ModelConfig): CanaryBounds | LifecycleAnswer {
  const errors: string[] = [];
  const pick = (key: string, fallback: number, min: number, max: number): number => {
    const v = body[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      errors.push(`${key}: an integer from ${min} to ${max}`);
      return fallback;
    }
    return v;
  };
  const bounds: CanaryBounds = {
    stepSec: pick('stepSec', cfg.canaryStepSec, 1, 86_400),
    maxErrorPermille: pick('maxErrorPermille', cfg.canaryMaxErrorPermille, 0, 1000),
    maxRunUs: pick('maxRunUs', cfg.canaryMaxRunUs, 1, 10_000_000),
    minRuns: pick('minRuns', kMinRunsToJudge, 1, 1_000_000),
  };
  return errors.length > 0 ? fail(400, 'INVALID_VALUE', errors) : bounds;
}

function fail(status: number, code: string, errors: string[]): LifecycleAnswer {
  return { status, body: { code, errors } };
}

function ok(): LifecycleAnswer {
  return { status: 200, body: {} };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

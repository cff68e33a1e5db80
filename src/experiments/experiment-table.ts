/**
 * Experiments as the engine threads use them: compiled on the main thread from the file
 * (experiment-config.ts) against the model catalog, posted to every engine thread
 * (model-protocol.ts), and applied per request by ArmAssigner.
 *
 * Each request is assigned one arm in every experiment: by its user (unit "user": the
 * first usable of user.id, user.buyeruid, device.ifa, as privacy allows; see user-key.ts),
 * or by its request id (unit "request", and any request with no usable user id: such
 * requests are bucketed per request, so they are not sticky). The arms' labels travel in
 * the notice token and the event log as "experiment:arm" joined by ",". The first arm (in
 * file order) that names a model picks the model; the first with a strategy, the strategy.
 *
 * Metric series per arm live in fixed slots (kMaxArmSlots): a label keeps its slot across
 * reloads, so its counters keep counting; a new label takes a free slot.
 */
import type { ShadingParams } from '../strategy/shading-params';
import { strategyOverrides } from '../strategy/arm-strategy';
import { bucketBounds, bucketOf } from './bucketing';
import type { ExperimentsFile, ExperimentUnit } from './experiment-config';

/** Most (experiment, arm) labels with metric series over the process's life. */
export const kMaxArmSlots = 64;

export interface CompiledArm {
  experiment: string;
  id: string;
  /** "experiment:arm". */
  label: string;
  /** Exclusive upper bucket bound (bucketing.ts). */
  upTo: number;
  weight: number;
  /** Catalog slot of the arm's model; -1 keeps the active model. */
  modelSlot: number;
  /** The model as the file named it ("" none), for people. */
  model: string;
  shading: ShadingParams | null;
  metricSlot: number;
  control: boolean;
}

export interface CompiledExperiment {
  id: string;
  salt: string;
  unit: ExperimentUnit;
  arms: CompiledArm[];
}

export interface ArmLabel {
  slot: number;
  experiment: string;
  arm: string;
}

export interface ExperimentsSnapshot {
  version: number;
  experiments: CompiledExperiment[];
  /** Every label that ever had a metric slot (retired arms keep theirs, so their counters stay exported). */
  labels: ArmLabel[];
}

export function emptyExperiments(): ExperimentsSnapshot {
  return { version: 0, experiments: [], labels: [] };
}

/** Metric slots of arm labels; owned by the main thread, lives as long as the process. */
export class ArmSlots {
  private readonly slots = new Map<string, ArmLabel>();

  /** The slot of experiment:arm (a new one if it has none); -1 when every slot is taken. */
  slotOf(experiment: string, arm: string): number {
    const key = `${experiment}:${arm}`;
    const known = this.slots.get(key);
    if (known !== undefined) return known.slot;
    if (this.slots.size >= kMaxArmSlots) return -1;
    const label = { slot: this.slots.size, experiment, arm };
    this.slots.set(key, label);
    return label.slot;
  }

  labels(): ArmLabel[] {
    return [...this.slots.values()];
  }
}

export type CompileResult = { ok: true; snapshot: ExperimentsSnapshot } | { ok: false; errors: string[] };

/**
 * Compiles `file` as snapshot `version`; `resolveModel` gives a catalog slot for a model
 * reference ("name" or "name@version"), -1 when it is not loaded.
 */
export function compileExperiments(file: ExperimentsFile, version: number, resolveModel: (ref: string) => number, slots: ArmSlots): CompileResult {
  const errors: string[] = [];
  const experiments: CompiledExperiment[] = file.experiments.map((e, i) => {
    const bounds = bucketBounds(e.arms.map((a) => a.weight));
    const arms = e.arms.map((a, j): CompiledArm => {
      const modelSlot = a.model === null ? -1 : resolveModel(a.model);
      if (a.model !== null && modelSlot < 0) errors.push(`experiments[${i}].arms[${j}].model: ${a.model} is not loaded (GET /admin/models lists what is)`);
      const metricSlot = slots.slotOf(e.id, a.id);
      if (metricSlot < 0) errors.push(`experiments[${i}].arms[${j}]: more than ${kMaxArmSlots} experiment arms over the process's life`);
      return {
        experiment: e.id, id: a.id, label: `${e.id}:${a.id}`, upTo: bounds[j], weight: a.weight,
        modelSlot, model: a.model ?? '', shading: a.strategy?.shading ?? null, metricSlot,
        control: a.model === null && !strategyOverrides(a.strategy),
      };
    });
    return { id: e.id, salt: e.salt, unit: e.unit, arms };
  });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, snapshot: { version, experiments, labels: slots.labels() } };
}

/** One request's assignment, reused from request to request. */
export class Assignment {
  /** The arm in each experiment of the snapshot, in order. */
  readonly arms: CompiledArm[] = [];
  /** Arm labels joined by "," ('' outside every experiment). */
  label = '';
  /** The model the arms ask for; -1 none. */
  modelSlot = -1;
  shading: ShadingParams | null = null;

  clear(): void {
    this.arms.length = 0;
    this.label = '';
    this.modelSlot = -1;
    this.shading = null;
  }
}

/** Per-request arm assignment on an engine thread. */
export class ArmAssigner {
  /** Some arm shades first-price bids: the engine then tags every first-price bid with its segment. */
  readonly shades: boolean;

  constructor(readonly snapshot: ExperimentsSnapshot) {
    this.shades = snapshot.experiments.some((e) => e.arms.some((a) => a.shading !== null));
  }

  get active(): boolean {
    return this.snapshot.experiments.length > 0;
  }

  /** Assigns `out`; `userKey` is the request's usable user id (null: none), `requestId` the fallback unit. */
  assign(userKey: string | null, requestId: string, out: Assignment): void {
    out.clear();
    const experiments = this.snapshot.experiments;
    for (let i = 0; i < experiments.length; i++) {
      const e = experiments[i];
      const unit = e.unit === 'user' && userKey !== null ? userKey : requestId;
      const bucket = bucketOf(e.salt, unit);
      const arms = e.arms;
      let k = 0;
      while (k < arms.length - 1 && bucket >= arms[k].upTo) k++;
      const arm = arms[k];
      out.arms.push(arm);
      out.label = i === 0 ? arm.label : `${out.label},${arm.label}`;
      if (out.modelSlot < 0 && arm.modelSlot >= 0) out.modelSlot = arm.modelSlot;
      if (out.shading === null && arm.shading !== null) out.shading = arm.shading;
    }
  }
}

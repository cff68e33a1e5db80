/**
 * The experiments file (BIDDER_EXPERIMENTS_FILE; reloaded by POST /admin/experiments/reload):
 *
 *   {"experiments": [{"id": "e1", "salt": "s", "unit": "user",
 *     "arms": [{"id": "A", "weight": 50}, {"id": "B", "weight": 50, "model": "ctr-mlp",
 *              "strategy": {"shading": {"maxShade": 0.4}}}]}]}
 *
 * Validated as a whole: every error is collected with its path, and a file with any error
 * changes nothing (the running experiments stay). An arm that overrides neither the model
 * nor the strategy is a control.
 */
import { readFileSync } from 'node:fs';
import { parseStrategy, type ArmStrategy } from '../strategy/arm-strategy';

export type ExperimentUnit = 'user' | 'request';

export interface ArmConfig {
  id: string;
  weight: number;
  /** A model of the catalog: "name" (its newest loaded version) or "name@version"; null keeps the active model. */
  model: string | null;
  strategy: ArmStrategy | null;
}

export interface ExperimentConfig {
  id: string;
  salt: string;
  unit: ExperimentUnit;
  arms: ArmConfig[];
}

export interface ExperimentsFile {
  experiments: ExperimentConfig[];
}

export type ExperimentsParse = { ok: true; file: ExperimentsFile } | { ok: false; errors: string[] };

/** Ids travel in notice tokens and labels as "experiment:arm,experiment:arm": no ':' or ','. */
const kId = /^[A-Za-z0-9_.-]{1,64}$/;
const kMaxExperiments = 16;
const kMaxArms = 16;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unknownKeys(v: Record<string, unknown>, known: readonly string[], at: string, errors: string[]): void {
  for (const k of Object.keys(v)) if (!known.includes(k)) errors.push(`${at}.${k}: unknown key`);
}

export function parseExperiments(json: unknown): ExperimentsParse {
  const errors: string[] = [];
  if (!isObject(json)) return { ok: false, errors: ['$: must be an object with an "experiments" array'] };
  unknownKeys(json, ['experiments'], '$', errors);
  const list = json.experiments;
  if (!Array.isArray(list)) return { ok: false, errors: [...errors, 'experiments: must be an array'] };
  if (list.length > kMaxExperiments) errors.push(`experiments: at most ${kMaxExperiments}`);
  const experiments: ExperimentConfig[] = [];
  const ids = new Set<string>();
  list.forEach((e: unknown, i: number) => {
    const at = `experiments[${i}]`;
    if (!isObject(e)) {
      errors.push(`${at}: must be an object`);
      return;
    }
    unknownKeys(e, ['id', 'salt', 'unit', 'arms'], at, errors);
    const id = typeof e.id === 'string' && kId.test(e.id) ? e.id : null;
    if (id === null) errors.push(`${at}.id: must be 1-64 of A-Z a-z 0-9 _ . -`);
    else if (ids.has(id)) errors.push(`${at}.id: duplicate experiment ${id}`);
    else ids.add(id);
    const salt = typeof e.salt === 'string' && e.salt.length > 0 && e.salt.length <= 256 ? e.salt : null;
    if (salt === null) errors.push(`${at}.salt: must be a non-empty string (at most 256 characters)`);
    const unit = e.unit === undefined ? 'user' : e.unit;
    if (unit !== 'user' && unit !== 'request') errors.push(`${at}.unit: must be "user" or "request"`);
    const arms: ArmConfig[] = [];
    if (!Array.isArray(e.arms) || e.arms.length === 0) errors.push(`${at}.arms: must be a non-empty array`);
    else {
      if (e.arms.length > kMaxArms) errors.push(`${at}.arms: at most ${kMaxArms}`);
      const armIds = new Set<string>();
      let total = 0;
      e.arms.forEach((a: unknown, j: number) => {
        const aat = `${at}.arms[${j}]`;
        if (!isObject(a)) {
          errors.push(`${aat}: must be an object`);
          return;
        }
        unknownKeys(a, ['id', 'weight', 'model', 'strategy'], aat, errors);
        const armId = typeof a.id === 'string' && kId.test(a.id) ? a.id : null;
        if (armId === null) errors.push(`${aat}.id: must be 1-64 of A-Z a-z 0-9 _ . -`);
        else if (armIds.has(armId)) errors.push(`${aat}.id: duplicate arm ${armId}`);
        else armIds.add(armId);
        const weight = a.weight;
        if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) errors.push(`${aat}.weight: must be a number >= 0`);
        else total += weight;
        const model = a.model === undefined || a.model === null ? null : a.model;
        if (model !== null && (typeof model !== 'string' || model.length === 0)) errors.push(`${aat}.model: must be a model name or name@version`);
        const strategy = a.strategy === undefined || a.strategy === null ? null : parseStrategy(a.strategy, `${aat}.strategy`, errors);
        if (armId !== null && typeof weight === 'number') arms.push({ id: armId, weight, model: model as string | null, strategy });
      });
      if (!(total > 0)) errors.push(`${at}.arms: weights must add up to more than 0`);
    }
    if (id !== null && salt !== null && (unit === 'user' || unit === 'request')) experiments.push({ id, salt, unit, arms });
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, file: { experiments } };
}

/** Reads and validates the file; '' is no experiments. */
export function loadExperimentsFile(path: string): ExperimentsParse {
  if (path === '') return { ok: true, file: { experiments: [] } };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { ok: false, errors: [`${path}: ${(err as Error).message}`] };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, errors: [`${path}: not JSON (${(err as Error).message})`] };
  }
  const parsed = parseExperiments(json);
  return parsed.ok ? parsed : { ok: false, errors: parsed.errors.map((e) => `${path}: ${e}`) };
}

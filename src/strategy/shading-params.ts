/**
 * The shading part of an experiment arm's strategy object, read once when the arm is
 * loaded: `{"shading": {"maxShade": 0.4, "minObservations": 100}}`. Every problem is
 * collected with the path of its field and a stable code (never thrown), so an operator
 * fixes a bad arm in one pass. Keys of the strategy object other than `shading` belong to
 * other parts of the strategy and are left alone; inside `shading` an unknown key is an
 * error (a misspelt `maxshade` would otherwise silently shade by the default).
 */

export const ShadingErrorCode = {
  /** `shading` (or the strategy object) is not a JSON object. */
  NotObject: 'SHADING_NOT_OBJECT',
  /** A key inside `shading` that this version does not know. */
  UnknownField: 'SHADING_UNKNOWN_FIELD',
  /** A field of the wrong JSON type. */
  WrongType: 'SHADING_WRONG_TYPE',
  /** A number outside its allowed range. */
  OutOfRange: 'SHADING_OUT_OF_RANGE',
} as const;

export type ShadingErrorCode = (typeof ShadingErrorCode)[keyof typeof ShadingErrorCode];

export interface ShadingError {
  code: ShadingErrorCode;
  /** Where, e.g. `arms[2].strategy.shading.maxShade`. */
  path: string;
  message: string;
}

export interface ShadingParams {
  /** Largest fraction taken off the value, in [0, kMaxShadeLimit]; 0 never shades. */
  maxShade: number;
  /** Observations a segment's model needs before it is used instead of the global model's (which needs them too). */
  minObservations: number;
}

export const kDefaultShadingParams: Readonly<ShadingParams> = Object.freeze({ maxShade: 0.4, minObservations: 100 });
/** An arm may not shade by more than 90%: beyond that a model error costs nearly every auction. */
export const kMaxShadeLimit = 0.9;
export const kMaxMinObservations = 1_000_000_000;

/** `params` null: the arm does not shade (no `shading` key, or `"shading": null`). */
export type ShadingParse = { ok: true; params: ShadingParams | null } | { ok: false; errors: ShadingError[] };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads `strategy.shading`; fields left out take kDefaultShadingParams. `path` names the strategy object in errors. */
export function parseShadingParams(strategy: unknown, path = 'strategy'): ShadingParse {
  if (strategy === undefined || strategy === null) return { ok: true, params: null };
  const errors: ShadingError[] = [];
  if (!isObject(strategy)) {
    errors.push({ code: ShadingErrorCode.NotObject, path, message: `${path}: must be an object` });
    return { ok: false, errors };
  }
  const raw = strategy.shading;
  const at = path + '.shading';
  if (raw === undefined || raw === null) return { ok: true, params: null };
  if (!isObject(raw)) {
    errors.push({ code: ShadingErrorCode.NotObject, path: at, message: `${at}: must be an object` });
    return { ok: false, errors };
  }
  const params: ShadingParams = { ...kDefaultShadingParams };
  for (const key of Object.keys(raw)) {
    const v = raw[key];
    const field = at + '.' + key;
    switch (key) {
      case 'maxShade':
        if (typeof v !== 'number') errors.push({ code: ShadingErrorCode.WrongType, path: field, message: `${field}: must be a number, got ${JSON.stringify(v)}` });
        else if (!(v >= 0 && v <= kMaxShadeLimit)) errors.push({ code: ShadingErrorCode.OutOfRange, path: field, message: `${field}: must be from 0 to ${kMaxShadeLimit}, got ${v}` });
        else params.maxShade = v;
        break;
      case 'minObservations':
        if (typeof v !== 'number') errors.push({ code: ShadingErrorCode.WrongType, path: field, message: `${field}: must be a number, got ${JSON.stringify(v)}` });
        else if (!Number.isInteger(v) || v < 0 || v > kMaxMinObservations) errors.push({ code: ShadingErrorCode.OutOfRange, path: field, message: `${field}: must be an integer from 0 to ${kMaxMinObservations}, got ${v}` });
        else params.minObservations = v;
        break;
      default:
        errors.push({ code: ShadingErrorCode.UnknownField, path: field, message: `${field}: unknown setting` });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, params };
}

/**
 * An experiment arm's strategy: the bidding parameters the arm overrides. Today that is
 * first-price bid shading (shading-params.ts); other strategies add their own key beside
 * `shading`. Unknown top-level keys are refused here, so a misspelt strategy is an error
 * rather than a silent control.
 */
import { parseShadingParams, type ShadingParams } from './shading-params';

export interface ArmStrategy {
  /** First-price bid shading; null: bid the value. */
  shading: ShadingParams | null;
}

const kStrategyKeys = ['shading'];

/** Parses `value` (an arm's "strategy"); pushes every problem onto `errors` as "path: message". */
export function parseStrategy(value: unknown, at: string, errors: string[]): ArmStrategy | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push(`${at}: must be an object`);
    return null;
  }
  for (const k of Object.keys(value)) if (!kStrategyKeys.includes(k)) errors.push(`${at}.${k}: unknown strategy`);
  const shading = parseShadingParams(value, at);
  if (!shading.ok) {
    for (const e of shading.errors) errors.push(e.message);
    return null;
  }
  return { shading: shading.params };
}

/** Whether the strategy changes anything (an arm with no model and no effective strategy is a control). */
export function strategyOverrides(s: ArmStrategy | null): boolean {
  return s !== null && s.shading !== null;
}

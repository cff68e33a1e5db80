/**
 * Which creative sizes a banner impression admits: the one rule that decisioning (which
 * creatives fit), the campaign index (when it may narrow to one size) and the response
 * check (is a bid's w/h allowed) all apply.
 *
 * OpenRTB 2.6 3.2.10: a Format is either a fixed size (`w`/`h`) or a flexible one
 * (`wratio`/`hratio`, optional `wmin`). Sizes come from `banner.format[]` and `banner.w/h`;
 * zero or missing sizes are not sizes, and a format with a fixed size is read as that size
 * even when it also carries ratio fields.
 * - A fixed size admits exactly that size.
 * - A ratio format admits a creative whose aspect ratio is exactly wratio:hratio (integer
 *   cross-multiplication: no float rounding admits a near miss) and whose width is at least
 *   `wmin` when given. The spec types the ratios as integers; a ratio format whose parts
 *   are positive but not integers still says "a ratio, not any size", so it admits nothing.
 * - An impression with no size at all admits any size, except an interstitial
 *   (`instl=1`): exchanges send 0x0 for "full screen", and a leaderboard there is wrong, so
 *   only the IAB full-screen sizes fit. Sizes or ratios given on an interstitial govern.
 */
import type { Banner, Format } from './types';

/** IAB full-screen interstitial sizes (phone and tablet, both orientations). */
export const INTERSTITIAL_SIZES: readonly (readonly [number, number])[] = [
  [320, 480],
  [480, 320],
  [768, 1024],
  [1024, 768],
];

function positive(v: unknown): v is number {
  return typeof v === 'number' && v > 0;
}

function ratioPart(v: unknown): v is number {
  return typeof v === 'number' && v > 0 && Number.isSafeInteger(v);
}

/** A format that names a fixed size (which then takes precedence over any ratio fields). */
export function isFixedFormat(f: Format): boolean {
  return positive(f.w) && positive(f.h);
}

/** A flexible format: no fixed size, positive wratio and hratio. */
export function isRatioFormat(f: Format): boolean {
  return !isFixedFormat(f) && positive(f.wratio) && positive(f.hratio);
}

/**
 * Whether a w x h creative fits a ratio format (call only when `isRatioFormat(f)`).
 * Both products must be exact integers: past 2^53 equal-looking products may differ.
 */
export function ratioAdmits(f: Format, w: number, h: number): boolean {
  if (!ratioPart(f.wratio) || !ratioPart(f.hratio)) return false;
  const a = w * f.hratio;
  const b = h * f.wratio;
  if (a !== b || !Number.isSafeInteger(a) || !Number.isSafeInteger(b)) return false;
  const wmin = f.wmin;
  return !positive(wmin) || w >= wmin;
}

export function bannerSizeAllowed(banner: Banner, instl: unknown, w: number, h: number): boolean {
  let sized = false;
  const fmts = banner.format;
  if (Array.isArray(fmts)) {
    for (let i = 0; i < fmts.length; i++) {
      const f = fmts[i];
      if (typeof f !== 'object' || f === null) continue;
      if (isFixedFormat(f)) {
        sized = true;
        if (f.w === w && f.h === h) return true;
      } else if (isRatioFormat(f)) {
        sized = true;
        if (ratioAdmits(f, w, h)) return true;
      }
    }
  }
  if (positive(banner.w) && positive(banner.h)) {
    sized = true;
    if (banner.w === w && banner.h === h) return true;
  }
  if (sized) return false;
  if (instl !== 1) return true;
  for (let i = 0; i < INTERSTITIAL_SIZES.length; i++) {
    if (INTERSTITIAL_SIZES[i][0] === w && INTERSTITIAL_SIZES[i][1] === h) return true;
  }
  return false;
}

/** Whether the banner offers at least one ratio format (then no single size describes it). */
export function hasRatioFormat(banner: Banner): boolean {
  const fmts = banner.format;
  if (!Array.isArray(fmts)) return false;
  for (let i = 0; i < fmts.length; i++) {
    const f = fmts[i];
    if (typeof f === 'object' && f !== null && isRatioFormat(f)) return true;
  }
  return false;
}

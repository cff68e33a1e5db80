/**
 * Which creative sizes a banner impression admits: the one rule that decisioning (which
 * creatives fit) and the response check (is a bid's w/h allowed) both apply.
 *
 * Sizes come from `banner.format[]` and `banner.w/h`; zero or missing sizes are not sizes.
 * A flexible (ratio) format admits any size. An impression with no size at all admits any
 * size, except an interstitial (`instl=1`): exchanges send 0x0 for "full screen", and a
 * leaderboard there is wrong, so only the IAB full-screen sizes fit.
 */
import type { Banner } from './types';

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

export function bannerSizeAllowed(banner: Banner, instl: unknown, w: number, h: number): boolean {
  let sized = false;
  const fmts = banner.format;
  if (Array.isArray(fmts)) {
    for (let i = 0; i < fmts.length; i++) {
      const f = fmts[i];
      if (typeof f !== 'object' || f === null) continue;
      if (positive(f.w) && positive(f.h)) {
        sized = true;
        if (f.w === w && f.h === h) return true;
      } else if (positive(f.wratio) && positive(f.hratio)) {
        return true;
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

/**
 * Whether a native creative can answer an impression's native request, and with what:
 * the one asset-by-asset decision that eligibility (does it bid) and the markup builder
 * (which assets the answer holds) share, so a bid never promises an asset it then omits.
 *
 * IAB Native 1.2, where it is silent we choose the strict reading:
 * - title (4.3): the creative's title must be at most `len` characters (Unicode code
 *   points); advertiser copy is never truncated.
 * - img (4.4): type 1 (icon) and 2 (logo, which 1.2 folds into icon) are served by the
 *   creative's icon, type 3 (main) or no type by its main image; other types by nothing.
 *   `wmin`/`hmin` are minimums; `w`/`h` given without the minimum are exact (4.4: "If only
 *   w is included, it should be considered an exact requirement"). An image whose size is
 *   unknown cannot satisfy a size constraint.
 * - data (4.6): type 1 sponsored, 2 desc, 12 ctatext, each within `len`; other types and
 *   video assets (4.5) we cannot fill.
 * - A required asset (`required: 1`) we cannot fill, or cannot echo (no id), means no bid;
 *   an optional one is left out. An answer with no asset at all is no ad: no bid.
 * - Trackers (5.8): when the request lists `eventtrackers` our impression pixels go out as
 *   eventtrackers, which needs event 1 with method 1 (img) among those listed; a creative
 *   with impression trackers the exchange cannot fire does not bid, since the advertiser
 *   would not count the impression it pays for.
 */
import type { NativeAssetSpec, NativeRequestSpec } from '../openrtb/native-request';
import { kAssetData, kAssetImg, kAssetTitle } from '../openrtb/native-request';
import type { NativeCreative } from './campaign-types';

/** Where an answered asset's content comes from. */
export const kSrcNone = 0;
export const kSrcTitle = 1;
export const kSrcImage = 2;
export const kSrcIcon = 3;
export const kSrcSponsored = 4;
export const kSrcDesc = 5;
export const kSrcCta = 6;

// Native 1.2 7.4 image types and 7.3 data types.
const kImgIcon = 1;
const kImgLogo = 2;
const kImgMain = 3;
const kDataSponsored = 1;
const kDataDesc = 2;
const kDataCta = 12;

/** What the fit rules read from a creative, computed once per creative. */
export interface NativeFacts {
  /** Text lengths in code points; -1 when the creative has no such text. */
  readonly titleLen: number;
  readonly bodyLen: number;
  readonly sponsoredLen: number;
  readonly ctaLen: number;
  /** Image sizes; 0 when unknown. */
  readonly imageW: number;
  readonly imageH: number;
  readonly hasIcon: boolean;
  readonly iconW: number;
  readonly iconH: number;
  readonly hasTrackers: boolean;
}

/** Code points, not UTF-16 units: an emoji is one character to the reader. */
function codePoints(s: string | undefined): number {
  if (s === undefined) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

const factsCache = new WeakMap<NativeCreative, NativeFacts>();

/** The creative's facts, computed on first use (at campaign compile) and shared. */
export function nativeFactsOf(n: NativeCreative): NativeFacts {
  let f = factsCache.get(n);
  if (f === undefined) {
    f = Object.freeze({
      titleLen: codePoints(n.title),
      bodyLen: codePoints(n.body),
      sponsoredLen: codePoints(n.sponsoredBy),
      ctaLen: codePoints(n.cta),
      imageW: n.imageW ?? 0,
      imageH: n.imageH ?? 0,
      hasIcon: n.iconUrl !== undefined,
      iconW: n.iconW ?? 0,
      iconH: n.iconH ?? 0,
      hasTrackers: n.impressionTrackers !== undefined && n.impressionTrackers.length > 0,
    });
    factsCache.set(n, f);
  }
  return f;
}

function textFits(len: number, max: number): boolean {
  return len >= 0 && (max === 0 || len <= max);
}

/** One axis: a minimum when given, else an exact size when given, else anything. */
function axisFits(size: number, exact: number, min: number): boolean {
  if (min > 0) return size >= min;
  if (exact > 0) return size === exact;
  return true;
}

function imageFits(a: NativeAssetSpec, w: number, h: number): boolean {
  // An unknown size (0) fails any constraint on its axis and passes none.
  return axisFits(w, a.w, a.wmin) && axisFits(h, a.h, a.hmin);
}

/** Which part of the creative answers this asset; kSrcNone when none can. */
export function assetSource(a: NativeAssetSpec, f: NativeFacts): number {
  switch (a.kind) {
    case kAssetTitle:
      return textFits(f.titleLen, a.len) ? kSrcTitle : kSrcNone;
    case kAssetImg:
      if (a.type === kImgIcon || a.type === kImgLogo) return f.hasIcon && imageFits(a, f.iconW, f.iconH) ? kSrcIcon : kSrcNone;
      if (a.type === kImgMain || a.type === 0) return imageFits(a, f.imageW, f.imageH) ? kSrcImage : kSrcNone;
      return kSrcNone;
    case kAssetData:
      switch (a.type) {
        case kDataSponsored:
          return textFits(f.sponsoredLen, a.len) ? kSrcSponsored : kSrcNone;
        case kDataDesc:
          return textFits(f.bodyLen, a.len) ? kSrcDesc : kSrcNone;
        case kDataCta:
          return textFits(f.ctaLen, a.len) ? kSrcCta : kSrcNone;
      }
      return kSrcNone;
  }
  return kSrcNone;
}

/** Whether the creative can answer the request (see the rules above). Allocates nothing. */
export function nativeFits(req: NativeRequestSpec, f: NativeFacts): boolean {
  if (req.eventTrackers && f.hasTrackers && !req.impressionPixel) return false;
  const assets = req.assets;
  // No readable requirements: the default layout (title, image, ...) always has a title and image.
  if (assets === null) return true;
  let filled = 0;
  for (let i = 0; i < assets.length; i++) {
    const a = assets[i];
    if (a.id >= 0 && assetSource(a, f) !== kSrcNone) filled++;
    else if (a.required) return false;
  }
  return filled > 0;
}

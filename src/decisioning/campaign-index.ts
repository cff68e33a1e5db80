/**
 * Candidate lookup without scanning every campaign. At load each indexed dimension (media
 * mix, country, device type, OS, deal gate, single banner size) gets one posting list per
 * value, already merged with the campaigns that do not target that dimension. Per imp we
 * take the shortest applicable list as the driver and probe the others as bitsets, then run
 * the residual predicates on the few survivors. Nothing is allocated for open-auction bids.
 */
import type { BidRequest, Imp } from '../openrtb/types';
import type { Campaign, Candidate } from './campaign-types';
import type { CompiledCampaign } from './eligibility';
import {
  appendCandidates,
  compileCampaign,
  fullMatch,
  hasDeals,
  impMediaMask,
  isPrivateAuction,
  kBanner,
  residualMatch,
  sizeKey,
} from './eligibility';
import type { RequestContext } from './request-context';
import { impFloorUsd } from './request-context';
import { isRatioFormat } from '../openrtb/banner-sizes';

/** A set of campaign ordinals: a sorted list to drive from, a bitset to probe. */
interface Posting {
  readonly list: Int32Array;
  readonly bits: Uint32Array;
}

const kMaxDims = 6;

function posting(ordinals: number[], n: number): Posting {
  const bits = new Uint32Array((n + 31) >>> 5);
  for (const o of ordinals) bits[o >>> 5] |= 1 << (o & 31);
  return { list: Int32Array.from(ordinals).sort(), bits };
}

/** Builds value -> posting, where each value's list also holds the untargeted campaigns. */
function dimension<K>(
  compiled: readonly CompiledCampaign[],
  valuesOf: (c: CompiledCampaign) => ReadonlySet<K> | null,
): { byValue: Map<K, Posting>; any: Posting } {
  const untargeted: number[] = [];
  const byValueOrd = new Map<K, number[]>();
  for (const c of compiled) {
    const vals = valuesOf(c);
    if (vals === null) {
      untargeted.push(c.ordinal);
      continue;
    }
    for (const v of vals) {
      let l = byValueOrd.get(v);
      if (l === undefined) byValueOrd.set(v, (l = []));
      l.push(c.ordinal);
    }
  }
  const n = compiled.length;
  const byValue = new Map<K, Posting>();
  for (const [v, l] of byValueOrd) byValue.set(v, posting(l.concat(untargeted), n));
  return { byValue, any: posting(untargeted, n) };
}

export class CampaignIndex {
  readonly compiled: readonly CompiledCampaign[];
  private readonly byMedia: Posting[];
  private readonly country: { byValue: Map<string, Posting>; any: Posting };
  private readonly deviceType: { byValue: Map<number, Posting>; any: Posting };
  private readonly os: { byValue: Map<string, Posting>; any: Posting };
  /** Campaigns that may bid without a deal. */
  private readonly openGate: Posting;
  /** Campaigns that hold deal ids (the only ones allowed into a private auction). */
  private readonly dealGate: Posting;
  private readonly empty: Posting;
  /** Campaigns with a banner creative of that size (respecting targeting.sizes). */
  private readonly bannerSize: Map<number, Posting>;
  private readonly dims: Posting[] = new Array<Posting>(kMaxDims);

  constructor(campaigns: Campaign[]) {
    const compiled = campaigns.map((c, i) => compileCampaign(c, i));
    const n = compiled.length;
    this.compiled = compiled;
    this.byMedia = [];
    for (let mask = 0; mask < 16; mask++) {
      this.byMedia.push(posting(compiled.filter((c) => (c.mediaMask & mask) !== 0).map((c) => c.ordinal), n));
    }
    this.country = dimension(compiled, (c) => c.countries);
    this.deviceType = dimension(compiled, (c) => c.deviceTypes);
    this.os = dimension(compiled, (c) => c.os);
    this.openGate = posting(compiled.filter((c) => !c.dealOnly).map((c) => c.ordinal), n);
    this.dealGate = posting(compiled.filter((c) => c.dealIds !== null).map((c) => c.ordinal), n);
    this.empty = posting([], n);
    const sizes = new Map<number, number[]>();
    for (const c of compiled) {
      const seen = new Set<number>();
      for (const cc of c.creatives) {
        if (cc.media !== kBanner) continue;
        const k = sizeKey(cc.w, cc.h);
        if (seen.has(k) || (c.sizes !== null && !c.sizes.has(k))) continue;
        seen.add(k);
        let l = sizes.get(k);
        if (l === undefined) sizes.set(k, (l = []));
        l.push(c.ordinal);
      }
    }
    this.bannerSize = new Map();
    for (const [k, l] of sizes) this.bannerSize.set(k, posting(l, n));
  }

  get size(): number {
    return this.compiled.length;
  }

  /**
   * Fills `out` from index 0 with this imp's candidates, in campaign file order, and returns
   * how many; entries past the count are stale. An imp whose floor currency we cannot
   * convert gets none. `req` is accepted for symmetry with the pipeline; ctx holds what we read.
   */
  candidatesFor(req: BidRequest, imp: Imp, reqCtx: RequestContext, out: Candidate[]): number {
    // An imp floor in a currency without a rate: only deals with their own floor can bid.
    const ownFloorOnly = Number.isNaN(impFloorUsd(imp, reqCtx));
    if (ownFloorOnly && !hasDeals(imp)) return 0;
    const mask = impMediaMask(imp);
    if (mask === 0) return 0;
    const dims = this.dims;
    let d = 0;
    dims[d++] = this.byMedia[mask];
    dims[d++] = reqCtx.country === null ? this.country.any : (this.country.byValue.get(reqCtx.country) ?? this.country.any);
    dims[d++] = reqCtx.deviceType < 0 ? this.deviceType.any : (this.deviceType.byValue.get(reqCtx.deviceType) ?? this.deviceType.any);
    dims[d++] = reqCtx.os === null ? this.os.any : (this.os.byValue.get(reqCtx.os) ?? this.os.any);
    dims[d++] = this.dealDimension(imp);
    if (mask === kBanner) {
      const k = singleBannerSize(imp);
      if (k > 0) dims[d++] = this.bannerSize.get(k) ?? this.empty;
    }

    let driver = 0;
    for (let i = 1; i < d; i++) if (dims[i].list.length < dims[driver].list.length) driver = i;
    const list = dims[driver].list;
    const compiled = this.compiled;
    let n = 0;
    outer: for (let j = 0; j < list.length; j++) {
      const o = list[j];
      const word = o >>> 5;
      const bit = 1 << (o & 31);
      for (let i = 0; i < d; i++) if (i !== driver && (dims[i].bits[word] & bit) === 0) continue outer;
      const c = compiled[o];
      if (!residualMatch(c, reqCtx)) continue;
      n = appendCandidates(c, imp, reqCtx, out, n, ownFloorOnly);
    }
    return n;
  }

  private dealDimension(imp: Imp): Posting {
    const pmp = imp.pmp;
    const deals = typeof pmp === 'object' && pmp !== null && Array.isArray(pmp.deals) && pmp.deals.length > 0;
    if (isPrivateAuction(imp)) return deals ? this.dealGate : this.empty;
    return deals ? this.byMedia[15] : this.openGate;
  }
}

/**
 * The one size a banner-only imp accepts, as a size key; 0 when it offers several or none,
 * or any ratio format (which admits sizes beyond the fixed one: narrowing would drop them).
 */
function singleBannerSize(imp: Imp): number {
  const b = imp.banner!;
  let key = 0;
  const fmts = b.format;
  if (Array.isArray(fmts)) {
    for (let i = 0; i < fmts.length; i++) {
      const f = fmts[i];
      if (typeof f !== 'object' || f === null) continue;
      if (isRatioFormat(f)) return 0;
      if (typeof f.w !== 'number' || typeof f.h !== 'number' || f.w <= 0 || f.h <= 0) continue;
      const k = sizeKey(f.w, f.h);
      if (key !== 0 && key !== k) return 0;
      key = k;
    }
  }
  if (typeof b.w === 'number' && typeof b.h === 'number' && b.w > 0 && b.h > 0) {
    const k = sizeKey(b.w, b.h);
    if (key !== 0 && key !== k) return 0;
    key = k;
  }
  return key;
}

/**
 * Reference implementation: every campaign, every predicate, no index. Tests compare the
 * index with it; it is not for the request path.
 */
export function scanCandidates(compiled: readonly CompiledCampaign[], imp: Imp, ctx: RequestContext, out: Candidate[]): number {
  const ownFloorOnly = Number.isNaN(impFloorUsd(imp, ctx));
  if (ownFloorOnly && !hasDeals(imp)) return 0;
  let n = 0;
  for (const c of compiled) if (fullMatch(c, imp, ctx)) n = appendCandidates(c, imp, ctx, out, n, ownFloorOnly);
  return n;
}


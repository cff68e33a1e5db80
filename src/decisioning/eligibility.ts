/**
 * Campaigns compiled for matching (lower-cased Sets, bitmasks, shared open-auction
 * candidates), and the per-campaign predicates. The index decides the indexed dimensions
 * with posting lists and calls `residualMatch` for the rest; `fullMatch` checks everything
 * directly and exists so tests can prove the index returns exactly what a scan would.
 */
import type { Imp } from '../openrtb/types';
import type { Campaign, Candidate, Creative, MediaType } from './campaign-types';
import { mediaOf } from './campaign-loader';
import type { RequestContext } from './request-context';
import { currencyRate, domainKeys, floorAmount } from './request-context';
import { isSecureCreative } from './creative-security';
import { dealOpenTo, kFixedPriceAuction } from './deal-terms';
import { bannerSizeAllowed } from '../openrtb/banner-sizes';
import { nativeRequestOf } from '../openrtb/native-request';
import type { NativeFacts } from './native-fit';
import { nativeFactsOf, nativeFits } from './native-fit';

export const kBanner = 1;
export const kVideo = 2;
export const kNative = 4;
export const kAudio = 8;

const MEDIA_BIT: Record<MediaType, number> = { banner: kBanner, video: kVideo, native: kNative, audio: kAudio };

export interface CompiledCreative {
  readonly creative: Creative;
  readonly media: number;
  /** Banner or video size; 0 when the creative has none. */
  readonly w: number;
  readonly h: number;
  readonly durationSec: number;
  readonly mimes: ReadonlySet<string> | null;
  readonly protocols: ReadonlySet<number> | null;
  readonly attr: readonly number[];
  /** No `http://` in its markup or URLs: it may serve where imp.secure = 1 (creative-security.ts). */
  readonly secure: boolean;
  /** What the native fit rules read from a native creative; null for other media. */
  readonly native: NativeFacts | null;
  /** Shared, read-only candidate for open-auction bids: no allocation per request. */
  readonly open: Candidate;
}

export interface CompiledCampaign {
  readonly ordinal: number;
  readonly campaign: Campaign;
  /** Union of the media bits of creatives allowed by targeting.impTypes. */
  readonly mediaMask: number;
  readonly countries: ReadonlySet<string> | null;
  readonly regions: ReadonlySet<string> | null;
  readonly deviceTypes: ReadonlySet<number> | null;
  readonly os: ReadonlySet<string> | null;
  readonly siteAllow: ReadonlySet<string> | null;
  readonly siteDeny: ReadonlySet<string> | null;
  readonly appAllow: ReadonlySet<string> | null;
  readonly appDeny: ReadonlySet<string> | null;
  readonly publisherIds: ReadonlySet<string> | null;
  /** Campaign-side lists are short; iterating them against the request's Set avoids iterators. */
  readonly contentCats: readonly string[] | null;
  readonly userSegments: readonly string[] | null;
  readonly sizes: ReadonlySet<number> | null;
  /** Categories and their IAB parents, lower-case: bcat "IAB25" blocks "IAB25-3". */
  readonly catKeys: readonly string[];
  /** Advertiser domain and its parents, lower-case: badv "example.com" blocks "ads.example.com". */
  readonly advKeys: readonly string[];
  readonly appBundle: string | null;
  readonly dealOnly: boolean;
  readonly dealIds: ReadonlySet<string> | null;
  readonly creatives: readonly CompiledCreative[];
}

/** Sizes as one number (w * 65536 + h) so fit checks compare integers. */
export function sizeKey(w: number, h: number): number {
  return w * 65536 + h;
}

function lowerSet(v: readonly string[] | undefined): Set<string> | null {
  return v === undefined ? null : new Set(v.map((s) => s.trim().toLowerCase()));
}

function catKeysOf(cats: readonly string[]): string[] {
  const out = new Set<string>();
  for (const c of cats) {
    const l = c.toLowerCase();
    out.add(l);
    const dash = l.indexOf('-');
    if (dash > 0) out.add(l.slice(0, dash));
  }
  return [...out];
}

export function compileCampaign(campaign: Campaign, ordinal: number): CompiledCampaign {
  const t = campaign.targeting;
  const impTypes = t.impTypes === undefined ? null : new Set(t.impTypes);
  const creatives: CompiledCreative[] = [];
  let mediaMask = 0;
  for (const creative of campaign.creatives) {
    const m = mediaOf(creative);
    if (impTypes !== null && !impTypes.has(m)) continue;
    mediaMask |= MEDIA_BIT[m];
    const v = creative.video;
    const a = creative.audio;
    const b = creative.banner;
    const mimes = v?.mimes ?? a?.mimes;
    creatives.push({
      creative,
      media: MEDIA_BIT[m],
      w: b?.w ?? v?.w ?? 0,
      h: b?.h ?? v?.h ?? 0,
      durationSec: v?.durationSec ?? a?.durationSec ?? 0,
      mimes: mimes === undefined ? null : new Set(mimes.map((s) => s.toLowerCase())),
      protocols: v === undefined ? null : new Set(v.protocols),
      secure: isSecureCreative(creative),
      attr: creative.attr ?? [],
      native: creative.native === undefined ? null : nativeFactsOf(creative.native),
      open: Object.freeze({ campaign, creative }),
    });
  }
  return {
    ordinal,
    campaign,
    mediaMask,
    countries: t.countries === undefined ? null : new Set(t.countries.map((s) => s.toUpperCase())),
    regions: lowerSet(t.regions),
    deviceTypes: t.deviceTypes === undefined ? null : new Set(t.deviceTypes),
    os: lowerSet(t.os),
    siteAllow: lowerSet(t.siteDomains?.allow),
    siteDeny: lowerSet(t.siteDomains?.deny),
    appAllow: lowerSet(t.appBundles?.allow),
    appDeny: lowerSet(t.appBundles?.deny),
    publisherIds: t.publisherIds === undefined ? null : new Set(t.publisherIds),
    contentCats: t.contentCategories === undefined ? null : [...new Set(t.contentCategories.map((s) => s.toLowerCase()))],
    userSegments: t.userSegments === undefined ? null : [...new Set(t.userSegments)],
    sizes: t.sizes === undefined ? null : new Set(t.sizes.map((s) => {
      const x = s.indexOf('x');
      return sizeKey(Number(s.slice(0, x)), Number(s.slice(x + 1)));
    })),
    catKeys: catKeysOf(campaign.iabCategories),
    advKeys: domainKeys(campaign.advertiserDomain.toLowerCase()),
    appBundle: campaign.appBundle === undefined ? null : campaign.appBundle.toLowerCase(),
    dealOnly: campaign.dealOnly,
    dealIds: campaign.dealIds.length === 0 ? null : new Set(campaign.dealIds),
    creatives,
  };
}

/** Media bits the impression offers. */
export function impMediaMask(imp: Imp): number {
  let m = 0;
  if (isObj(imp.banner)) m |= kBanner;
  if (isObj(imp.video)) m |= kVideo;
  if (isObj(imp.native)) m |= kNative;
  if (isObj(imp.audio)) m |= kAudio;
  return m;
}

function isObj(v: unknown): boolean {
  return typeof v === 'object' && v !== null;
}

function anyIn(keys: readonly string[], set: ReadonlySet<string>): boolean {
  for (let i = 0; i < keys.length; i++) if (set.has(keys[i])) return true;
  return false;
}

export function hasDeals(imp: Imp): boolean {
  const pmp = imp.pmp;
  return isObj(pmp) && Array.isArray(pmp!.deals) && pmp!.deals.length > 0;
}

export function isPrivateAuction(imp: Imp): boolean {
  return isObj(imp.pmp) && imp.pmp!.private_auction === 1;
}

/**
 * The dimensions the index answers with posting lists: media, country, device type, OS,
 * and the deal gate. Kept as a separate predicate so the equivalence test can use it.
 */
export function indexedMatch(c: CompiledCampaign, imp: Imp, ctx: RequestContext): boolean {
  if ((c.mediaMask & impMediaMask(imp)) === 0) return false;
  if (c.countries !== null && (ctx.country === null || !c.countries.has(ctx.country))) return false;
  if (c.deviceTypes !== null && (ctx.deviceType < 0 || !c.deviceTypes.has(ctx.deviceType))) return false;
  if (c.os !== null && (ctx.os === null || !c.os.has(ctx.os))) return false;
  // Deal gate: deal-only campaigns need deals on the imp; a private auction needs a deal campaign.
  if (c.dealOnly || isPrivateAuction(imp)) {
    if (c.dealIds === null || !hasDeals(imp)) return false;
  }
  return true;
}

/** Targeting and blocking that the index does not cover; checked per surviving campaign. */
export function residualMatch(c: CompiledCampaign, ctx: RequestContext): boolean {
  if (c.regions !== null && (ctx.region === null || !c.regions.has(ctx.region))) return false;
  if (c.publisherIds !== null && (ctx.publisherId === null || !c.publisherIds.has(ctx.publisherId))) return false;
  // Allow lists together name the only placements the campaign runs on, site or app.
  if (c.siteAllow !== null || c.appAllow !== null) {
    const siteOk = c.siteAllow !== null && anyIn(ctx.siteDomainKeys, c.siteAllow);
    const appOk = c.appAllow !== null && ctx.appBundle !== null && c.appAllow.has(ctx.appBundle);
    if (!siteOk && !appOk) return false;
  }
  if (c.siteDeny !== null && anyIn(ctx.siteDomainKeys, c.siteDeny)) return false;
  if (c.appDeny !== null && ctx.appBundle !== null && c.appDeny.has(ctx.appBundle)) return false;
  if (c.contentCats !== null && !anyIn(c.contentCats, ctx.contentCats)) return false;
  // User-data targeting needs the user's permission (COPPA, GDPR consent, no opt-out).
  if (c.userSegments !== null && (!ctx.userDataAllowed || !anyIn(c.userSegments, ctx.userSegments))) return false;
  if (ctx.bcat.size > 0 && anyIn(c.catKeys, ctx.bcat)) return false;
  if (ctx.badv.size > 0 && anyIn(c.advKeys, ctx.badv)) return false;
  if (c.appBundle !== null && ctx.bapp.size > 0 && ctx.bapp.has(c.appBundle)) return false;
  return true;
}


export function fullMatch(c: CompiledCampaign, imp: Imp, ctx: RequestContext): boolean {
  return indexedMatch(c, imp, ctx) && residualMatch(c, ctx);
}

function bannerFits(cc: CompiledCreative, imp: Imp): boolean {
  return bannerSizeAllowed(imp.banner!, imp.instl, cc.w, cc.h);
}

function mimesFit(cc: CompiledCreative, mimes: unknown): boolean {
  if (!Array.isArray(mimes) || mimes.length === 0 || cc.mimes === null) return true;
  for (let i = 0; i < mimes.length; i++) {
    const m = mimes[i];
    if (typeof m === 'string' && cc.mimes.has(m.toLowerCase())) return true;
  }
  return false;
}

function durationFits(d: number, min: unknown, max: unknown): boolean {
  if (typeof min === 'number' && min > 0 && d < min) return false;
  if (typeof max === 'number' && max > 0 && d > max) return false;
  return true;
}

function videoFits(cc: CompiledCreative, imp: Imp): boolean {
  const v = imp.video!;
  if (!durationFits(cc.durationSec, v.minduration, v.maxduration)) return false;
  if (!mimesFit(cc, v.mimes)) return false;
  if (cc.protocols !== null) {
    const ps = v.protocols;
    if (Array.isArray(ps) && ps.length > 0) {
      let hit = false;
      for (let i = 0; i < ps.length; i++) if (cc.protocols.has(ps[i])) { hit = true; break; }
      if (!hit) return false;
    } else if (typeof v.protocol === 'number' && !cc.protocols.has(v.protocol)) {
      return false;
    }
  }
  return true;
}

function audioFits(cc: CompiledCreative, imp: Imp): boolean {
  const a = imp.audio!;
  return durationFits(cc.durationSec, a.minduration, a.maxduration) && mimesFit(cc, a.mimes);
}

function blockedByAttr(cc: CompiledCreative, battr: unknown): boolean {
  if (cc.attr.length === 0 || !Array.isArray(battr) || battr.length === 0) return false;
  for (let i = 0; i < cc.attr.length; i++) if (battr.indexOf(cc.attr[i]) >= 0) return true;
  return false;
}

/** Whether a creative can serve this impression: media, size, duration, mimes, protocols, native assets, battr. */
export function creativeFits(c: CompiledCampaign, cc: CompiledCreative, imp: Imp): boolean {
  // OpenRTB 2.6 3.2.4: secure = 1 needs https markup and assets; absent or 0 accepts either.
  if (imp.secure === 1 && !cc.secure) return false;
  switch (cc.media) {
    case kBanner:
      if (!isObj(imp.banner) || !bannerFits(cc, imp) || blockedByAttr(cc, imp.banner!.battr)) return false;
      break;
    case kVideo:
      if (!isObj(imp.video) || !videoFits(cc, imp) || blockedByAttr(cc, imp.video!.battr)) return false;
      break;
    case kNative:
      // The imp's native request is parsed once and cached per imp (nativeRequestOf).
      if (!isObj(imp.native) || blockedByAttr(cc, imp.native!.battr) || !nativeFits(nativeRequestOf(imp), cc.native!)) return false;
      break;
    default:
      if (!isObj(imp.audio) || !audioFits(cc, imp) || blockedByAttr(cc, imp.audio!.battr)) return false;
  }
  if (c.sizes !== null && (cc.media === kBanner || cc.media === kVideo) && cc.w > 0) {
    if (!c.sizes.has(sizeKey(cc.w, cc.h))) return false;
  }
  return true;
}

/**
 * The deal this campaign bids through on this imp: the first deal in the exchange's order
 * that the campaign lists and that is open to it (deal-terms.ts: wseat, wadomain, a floor we
 * can convert, a price for a fixed-price deal). Returns the deal index or -1.
 * `ownFloorOnly`: the imp's floor cannot be priced against (no rate for its currency), so
 * only a deal with a floor of its own, which then governs alone, can be bid through.
 */
export function matchDeal(c: CompiledCampaign, imp: Imp, ctx: RequestContext, ownFloorOnly = false): number {
  if (c.dealIds === null || !hasDeals(imp)) return -1;
  const deals = imp.pmp!.deals!;
  for (let i = 0; i < deals.length; i++) {
    const d = deals[i];
    if (!isObj(d) || typeof d.id !== 'string' || !c.dealIds.has(d.id)) continue;
    if (ownFloorOnly && floorAmount(d.bidfloor) === 0) continue;
    if (dealOpenTo(d, c.advKeys, ctx)) return i;
  }
  return -1;
}

/**
 * Appends this campaign's candidates for the imp to `out` from `n`; returns the new count.
 * Deal candidates are allocated (they carry per-request floors); open ones are shared.
 * `ownFloorOnly` (the imp's floor currency has no rate): open-auction bids and deals
 * without a floor of their own would answer to a floor we cannot price, so only deals
 * with their own convertible floor are candidates.
 */
export function appendCandidates(c: CompiledCampaign, imp: Imp, ctx: RequestContext, out: Candidate[], n: number, ownFloorOnly = false): number {
  let dealIdx = -1;
  if (c.dealIds !== null) dealIdx = matchDeal(c, imp, ctx, ownFloorOnly);
  if (dealIdx < 0 && (ownFloorOnly || c.dealOnly || isPrivateAuction(imp))) return n;
  const deal = dealIdx >= 0 ? imp.pmp!.deals![dealIdx] : undefined;
  // The deal's own floor, in its own currency (dealOpenTo made sure we hold its rate).
  const dealFloor = deal === undefined ? 0 : floorAmount(deal.bidfloor);
  const dealFloorRate = dealFloor > 0 ? currencyRate(deal!.bidfloorcur, ctx) : 1;
  for (let i = 0; i < c.creatives.length; i++) {
    const cc = c.creatives[i];
    if (!creativeFits(c, cc, imp)) continue;
    const cand: Candidate = deal === undefined
      ? cc.open
      : { campaign: c.campaign, creative: cc.creative, dealId: deal.id, dealFloor, dealFloorRate, fixedPrice: deal.at === kFixedPriceAuction };
    if (n < out.length) out[n] = cand;
    else out.push(cand);
    n++;
  }
  return n;
}

/**
 * Builds the Bid for an impression's winning candidate and names the no-bid reason when
 * there is none. Markup that does not depend on the request (VAST wrappers, JSON-escaped
 * native strings) is built once per creative and cached.
 */
import type { Imp } from '../openrtb/types';
import type { Candidate, Creative, NativeCreative } from './campaign-types';
import { NoBidReason } from './no-bid-reasons';
import { round4 } from './pricing';
import type { RequestContext } from './request-context';

/**
 * The request-level no-bid reason from counts over all impressions: nothing eligible is
 * `no_candidates`; eligible but nothing priced at or above its floor is `below_floor`.
 * Null when at least one bid was made.
 */
export function noBidReasonFor(candidateCount: number, bidCount: number): NoBidReason | null {
  if (bidCount > 0) return null;
  return candidateCount === 0 ? NoBidReason.NoCandidates : NoBidReason.BelowFloor;
}

/** Index of the highest price among the first `count` (first wins ties), or -1 if none is positive. */
export function pickBest(prices: ArrayLike<number>, count: number): number {
  let best = -1;
  let bestPrice = 0;
  for (let i = 0; i < count; i++) {
    if (prices[i] > bestPrice) {
      bestPrice = prices[i];
      best = i;
    }
  }
  return best;
}

// OpenRTB 2.6 mtype values; the shared `const enum MarkupType` is not used so that
// transpile-only test runs (no cross-file const enum inlining) see the same numbers.
const kMtypeBanner = 1;
const kMtypeVideo = 2;
const kMtypeAudio = 3;
const kMtypeNative = 4;

const vastCache = new WeakMap<Creative, string>();

function vastWrapper(creativeId: string, url: string): string {
  return (
    '<VAST version="3.0"><Ad id="' + xmlAttr(creativeId) + '"><Wrapper><AdSystem>rtb-bidder</AdSystem>' +
    '<VASTAdTagURI><![CDATA[' + url.replace(/]]>/g, ']]]]><![CDATA[>') + ']]></VASTAdTagURI>' +
    '<Impression/><Creatives/></Wrapper></Ad></VAST>'
  );
}

function xmlAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

function videoAdm(cr: Creative): string {
  const v = cr.video!;
  if (v.vastXml !== undefined) return v.vastXml;
  let adm = vastCache.get(cr);
  if (adm === undefined) {
    adm = vastWrapper(cr.id, v.vastUrl!);
    vastCache.set(cr, adm);
  }
  return adm;
}

/** JSON-escaped pieces of a native creative, so building a response is concatenation. */
interface NativeParts {
  title: string;
  body: string | null;
  image: string;
  icon: string | null;
  sponsored: string | null;
  cta: string | null;
  /** `"link":{...}` and optional `"imptrackers":[...]`. */
  tail: string;
}

const nativeCache = new WeakMap<NativeCreative, NativeParts>();

function nativeParts(n: NativeCreative): NativeParts {
  let p = nativeCache.get(n);
  if (p !== undefined) return p;
  const img = (url: string, w?: number, h?: number): string =>
    '{"url":' + JSON.stringify(url) + (w !== undefined && h !== undefined ? ',"w":' + w + ',"h":' + h : '') + '}';
  let tail = '"link":{"url":' + JSON.stringify(n.clickUrl) + '}';
  if (n.impressionTrackers !== undefined && n.impressionTrackers.length > 0) tail += ',"imptrackers":' + JSON.stringify(n.impressionTrackers);
  p = {
    title: JSON.stringify(n.title),
    body: n.body === undefined ? null : JSON.stringify(n.body),
    image: img(n.imageUrl, n.imageW, n.imageH),
    icon: n.iconUrl === undefined ? null : img(n.iconUrl),
    sponsored: n.sponsoredBy === undefined ? null : JSON.stringify(n.sponsoredBy),
    cta: n.cta === undefined ? null : JSON.stringify(n.cta),
    tail,
  };
  nativeCache.set(n, p);
  return p;
}

// Native 1.2 asset type ids (image type 1 icon, 3 main; data type 1 sponsored, 2 desc, 12 ctatext).
const kImgIcon = 1;
const kDataSponsored = 1;
const kDataDesc = 2;
const kDataCta = 12;

interface NativeAssetReq {
  id?: unknown;
  title?: unknown;
  img?: { type?: unknown };
  data?: { type?: unknown };
}

/** The request's asset list, from either the 1.0 `{"native":{...}}` or the 1.1+ bare shape. */
function requestedAssets(imp: Imp): NativeAssetReq[] | null {
  const raw = imp.native?.request;
  if (typeof raw !== 'string' || raw.length < 2 || raw.charCodeAt(0) !== 123 /* { */) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const root = (parsed as { native?: unknown }).native ?? parsed;
  const assets = (root as { assets?: unknown }).assets;
  return Array.isArray(assets) && assets.length > 0 ? (assets as NativeAssetReq[]) : null;
}

/**
 * Native response JSON with asset ids echoing the request's. Assets we cannot fill are left
 * out; without a parseable request we answer title 1, image 2, description 3, sponsor 4.
 */
export function nativeAdm(imp: Imp, n: NativeCreative): string {
  const p = nativeParts(n);
  const assets = requestedAssets(imp);
  let out = '';
  const add = (id: number, body: string): void => {
    out += (out === '' ? '' : ',') + '{"id":' + id + ',' + body + '}';
  };
  if (assets === null) {
    add(1, '"title":{"text":' + p.title + '}');
    add(2, '"img":' + p.image);
    if (p.body !== null) add(3, '"data":{"value":' + p.body + '}');
    if (p.sponsored !== null) add(4, '"data":{"value":' + p.sponsored + '}');
  } else {
    for (const a of assets) {
      if (typeof a !== 'object' || a === null || typeof a.id !== 'number') continue;
      if (a.title !== undefined) add(a.id, '"title":{"text":' + p.title + '}');
      else if (typeof a.img === 'object' && a.img !== null) {
        add(a.id, '"img":' + (a.img.type === kImgIcon && p.icon !== null ? p.icon : p.image));
      } else if (typeof a.data === 'object' && a.data !== null) {
        const t = a.data.type;
        const v = t === kDataDesc ? p.body : t === kDataSponsored ? p.sponsored : t === kDataCta ? p.cta : null;
        if (v !== null) add(a.id, '"data":{"value":' + v + '}');
      }
    }
  }
  return '{"native":{"ver":"1.2","assets":[' + out + '],' + p.tail + '}}';
}

/**
 * The JSON of everything in a bid that depends only on its campaign and creative (ids,
 * domains, categories, fixed markup, notice URLs), escaped once at first use. A bid is
 * then its few per-request fields followed by this fragment: no object is built and no
 * markup is re-escaped per request.
 */
const fixedJsonCache = new WeakMap<Creative, string>();

function fixedJson(campaign: Candidate['campaign'], creative: Creative): string {
  let s = fixedJsonCache.get(creative);
  if (s !== undefined) return s;
  s = ',"adomain":' + JSON.stringify([campaign.advertiserDomain]) +
    ',"cid":' + JSON.stringify(campaign.id) +
    ',"crid":' + JSON.stringify(creative.id) +
    ',"cat":' + JSON.stringify(campaign.iabCategories);
  if (creative.banner !== undefined) {
    const b = creative.banner;
    s += ',"adm":' + JSON.stringify(b.adm) + ',"w":' + b.w + ',"h":' + b.h + ',"mtype":' + kMtypeBanner;
  } else if (creative.video !== undefined) {
    s += ',"adm":' + JSON.stringify(videoAdm(creative)) + ',"dur":' + creative.video.durationSec + ',"mtype":' + kMtypeVideo;
  } else if (creative.native !== undefined) {
    s += ',"mtype":' + kMtypeNative;
  } else if (creative.audio !== undefined) {
    s += ',"adm":' + JSON.stringify(creative.audio.vastXml) + ',"dur":' + creative.audio.durationSec + ',"mtype":' + kMtypeAudio;
  }
  if (creative.nurl !== undefined) s += ',"nurl":' + JSON.stringify(creative.nurl);
  if (creative.burl !== undefined) s += ',"burl":' + JSON.stringify(creative.burl);
  if (creative.lurl !== undefined) s += ',"lurl":' + JSON.stringify(creative.lurl);
  if (creative.attr !== undefined && creative.attr.length > 0) s += ',"attr":' + JSON.stringify(creative.attr);
  if (campaign.appBundle !== undefined) s += ',"bundle":' + JSON.stringify(campaign.appBundle);
  fixedJsonCache.set(creative, s);
  return s;
}

/**
 * The bid (OpenRTB `Bid` JSON) for `candidate` on `imp` at `priceUsd` (already priced and
 * floor-checked), priced in the request context's currency. Notice URLs keep their macros
 * for the exchange. `bidId` must be JSON-safe (our own generated ids are).
 */
export function bidJson(imp: Imp, candidate: Candidate, priceUsd: number, ctx: RequestContext, bidId: string): string {
  const { campaign, creative } = candidate;
  const price = ctx.usdToBidCur === 1 ? priceUsd : round4(priceUsd * ctx.usdToBidCur);
  let s = '{"id":"' + bidId + '","impid":' + JSON.stringify(imp.id) + ',"price":' + price;
  if (candidate.dealId !== undefined) s += ',"dealid":' + JSON.stringify(candidate.dealId);
  if (creative.video !== undefined) {
    // A video creative without its own size takes the player size the imp asks for.
    const w = creative.video.w ?? imp.video?.w;
    const h = creative.video.h ?? imp.video?.h;
    if (typeof w === 'number' && typeof h === 'number') s += ',"w":' + w + ',"h":' + h;
  } else if (creative.native !== undefined) {
    s += ',"adm":' + JSON.stringify(nativeAdm(imp, creative.native));
  }
  return s + fixedJson(campaign, creative) + '}';
}

/** The BidResponse JSON around bids from `bidJson`: one seat, in the context's currency. */
export function bidResponseJson(requestId: string, bidid: string, currency: string, seat: string, bids: readonly string[]): string {
  return '{"id":' + JSON.stringify(requestId) + ',"seatbid":[{"bid":[' + bids.join(',') + '],"seat":' +
    JSON.stringify(seat) + '}],"bidid":"' + bidid + '","cur":' + JSON.stringify(currency) + '}';
}

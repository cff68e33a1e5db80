/**
 * Builds the Bid for an impression's winning candidate and names the no-bid reason when
 * there is none. Markup that does not depend on the request (VAST wrappers, JSON-escaped
 * native strings) is built once per creative and cached.
 */
import type { Imp } from '../openrtb/types';
import type { Candidate, Creative } from './campaign-types';
import { nativeAdm } from './native-adm';
import { NoBidReason } from './no-bid-reasons';
import type { RequestContext } from './request-context';

/**
 * The request-level no-bid reason from counts over all impressions: an impression dropped
 * for a floor currency we hold no rate for is `currency_unsupported` (pricing.ts
 * floorCurrencyUnsupported); otherwise nothing eligible is `no_candidates`, and eligible but
 * nothing priced at or above its floor is `below_floor`. Null when at least one bid was made.
 */
export function noBidReasonFor(candidateCount: number, bidCount: number, currencyDropped = false): NoBidReason | null {
  if (bidCount > 0) return null;
  if (currencyDropped) return NoBidReason.CurrencyUnsupported;
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

// Native markup (request reading, asset fit, response shape) lives in native-adm.ts.
export { nativeAdm };

/**
 * The JSON of everything in a bid that depends only on its campaign and creative (ids,
 * domains, categories, fixed markup, notice URLs), escaped once at first use. A bid is
 * then its few per-request fields followed by this fragment: no object is built and no
 * markup is re-escaped per request.
 */
const fixedJsonCache = new WeakMap<Creative, string>();

/** The rest of a bid after bidHeadJson, closing brace included: the same for every bid of the creative. */
export function bidFixedJson(campaign: Candidate['campaign'], creative: Creative): string {
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
  // A creative's own nurl/burl/lurl are the advertiser's trackers: the bid's notice URLs
  // point at the bidder (notice-urls.ts), which fires them when our notice comes
  // (docs/campaigns.md, "Notices and the advertiser's trackers").
  if (creative.attr !== undefined && creative.attr.length > 0) s += ',"attr":' + JSON.stringify(creative.attr);
  if (campaign.appBundle !== undefined) s += ',"bundle":' + JSON.stringify(campaign.appBundle);
  s += '}';
  fixedJsonCache.set(creative, s);
  return s;
}

/**
 * The bid (OpenRTB `Bid` JSON) for `candidate` on `imp` at `price`: the number
 * priceCandidate returned, already in the request context's currency, rounded and
 * floor-checked, so it is written verbatim (converting here again could undo the floor
 * check). `notices` is the bid's nurl/burl/lurl JSON (NoticeUrls.fragment), '' for none.
 * `bidId` must be JSON-safe (our own generated ids are).
 */
export function bidJson(imp: Imp, candidate: Candidate, price: number, _ctx: RequestContext, bidId: string, notices = ''): string {
  return bidHeadJson(imp, candidate, price, bidId, notices) + bidFixedJson(candidate.campaign, candidate.creative);
}

/** A bid's JSON up to what depends only on its creative: ids, price, notice URLs, deal, request-sized fields. */
export function bidHeadJson(imp: Imp, candidate: Candidate, price: number, bidId: string, notices = ''): string {
  const creative = candidate.creative;
  let s = '{"id":"' + bidId + '","impid":' + jsonString(imp.id) + ',"price":' + price + notices;
  if (candidate.dealId !== undefined) s += ',"dealid":' + jsonString(candidate.dealId);
  if (creative.video !== undefined) {
    // A video creative without its own size takes the player size the imp asks for.
    const w = creative.video.w ?? imp.video?.w;
    const h = creative.video.h ?? imp.video?.h;
    if (typeof w === 'number' && typeof h === 'number') s += ',"w":' + w + ',"h":' + h;
  } else if (creative.native !== undefined) {
    s += ',"adm":' + JSON.stringify(nativeAdm(imp, creative.native));
  }
  return s;
}

/** The BidResponse JSON around bids from `bidJson`: one seat, in the context's currency. */
export function bidResponseJson(requestId: string, bidid: string, currency: string, seat: string, bids: readonly string[]): string {
  // Nearly every answer has one bid: join would only copy it.
  const joined = bids.length === 1 ? bids[0] : bids.join(',');
  return responseHeadJson(requestId) + joined + responseTailJson(bidid, currency, seat);
}

/** A BidResponse's JSON before its first bid; bids follow, separated by commas. */
export function responseHeadJson(requestId: string): string {
  return '{"id":' + jsonString(requestId) + ',"seatbid":[{"bid":[';
}

/** A BidResponse's JSON after its last bid. */
export function responseTailJson(bidid: string, currency: string, seat: string): string {
  return '],"seat":' + jsonString(seat) + '}],"bidid":"' + bidid + '","cur":' + jsonString(currency) + '}';
}

/**
 * JSON.stringify(s) for a string, without its cost when nothing needs escaping. Request
 * ids, imp ids, seats and currency codes are nearly always printable ASCII without a quote
 * or a backslash, for which the JSON string is the text in quotes; JSON.stringify is a
 * call into the runtime costing about as much as building the rest of the bid (~0.2 us
 * each, four per answer). Anything else, including every non-ASCII code unit (lone
 * surrogates are escaped by JSON.stringify), takes JSON.stringify itself. The test is a
 * regular expression because V8 compiles it to native code: ~2x a charCodeAt loop on a
 * 40-character request id.
 */
const kNeedsStringify = /[\u0000-\u001f"\\\u007f-\uffff]/;

export function jsonString(s: string): string {
  return kNeedsStringify.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

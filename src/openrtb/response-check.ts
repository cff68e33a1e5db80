/**
 * Strict conformance check of a BidResponse against the request it answers, for the
 * conformance and integration suites (not the hot path). Returns every problem found, each
 * naming its path (`seatbid[0].bid[1].price: ...`); an empty list means conformant.
 *
 * Matching rules, chosen to be strict without inventing policy:
 * - currencies compare case-insensitively; an absent response `cur` means USD (spec default);
 * - a floor (imp or deal) is enforced when its currency equals the response currency; a bid
 *   through a deal with a bidfloor answers to the deal floor only (OpenRTB 2.6 3.2.12);
 * - `badv` matches `adomain` exactly, case-insensitively;
 * - `bcat` matches `cat` exactly, and an IAB tier-1 entry ("IAB25") also blocks its
 *   subcategories ("IAB25-3");
 * - banner sizes are enforced for banner-only imps by the rule decisioning uses
 *   (banner-sizes.ts): listed sizes, sizes of exactly a listed ratio (and at least its wmin),
 *   any size when unsized, full-screen sizes for 0x0 interstitials. A bid must name its
 *   w/h when the imp offers several sizes or any ratio format.
 * - native bids (mtype 4) carry markup that answers the native request (native-request.ts):
 *   see `checkNativeAdm`.
 */
import type { Banner, BidRequest, Imp } from './types';
import { bannerSizeAllowed, hasRatioFormat, isFixedFormat } from './banner-sizes';
import { kAssetData, kAssetImg, kAssetTitle, readNativeRequest } from './native-request';
import { advertiserListed } from '../decisioning/deal-terms';
import { domainKeys } from '../decisioning/request-context';
import { seatListed } from '../decisioning/seat-rules';

const DEFAULT_CUR = 'USD';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function upper(s: unknown): string | undefined {
  return typeof s === 'string' ? s.toUpperCase() : undefined;
}

function lowerSet(a: readonly string[] | undefined): Set<string> {
  const out = new Set<string>();
  if (a !== undefined && a !== null) for (const s of a) if (typeof s === 'string') out.add(s.toLowerCase());
  return out;
}

function catBlocked(cat: string, bcat: readonly string[]): boolean {
  for (const b of bcat) {
    if (cat === b) return true;
    if (b.startsWith('IAB') && b.indexOf('-') < 0 && cat.startsWith(b + '-')) return true;
  }
  return false;
}

function bannerOnly(imp: Imp): boolean {
  return typeof imp.banner === 'object' && imp.banner !== null && !imp.video && !imp.audio && !imp.native;
}

/**
 * How many sizes a banner offers (a bid must say which one it takes when several); a ratio
 * format offers many, so it counts as Infinity.
 */
function offeredSizeCount(b: Banner): number {
  if (hasRatioFormat(b)) return Infinity;
  let n = 0;
  if (Array.isArray(b.format)) for (const f of b.format) if (f && isFixedFormat(f)) n++;
  if (b.w! > 0 && b.h! > 0) n++;
  return n;
}

function mediaForMtype(imp: Imp, mtype: number): unknown {
  switch (mtype) {
    case 1:
      return imp.banner;
    case 2:
      return imp.video;
    case 3:
      return imp.audio;
    case 4:
      return imp.native;
  }
  return undefined;
}

function battrFor(imp: Imp, mtype: unknown): number[] | undefined {
  switch (mtype) {
    case 1:
      return imp.banner?.battr;
    case 2:
      return imp.video?.battr;
    case 3:
      return imp.audio?.battr;
    case 4:
      return imp.native?.battr;
  }
  // Without mtype the bid may be any offered type; only a banner-only imp is unambiguous.
  return imp.banner && !imp.video && !imp.audio && !imp.native ? imp.banner.battr : undefined;
}

function isStrArray(v: unknown): v is string[] {
  if (!Array.isArray(v)) return false;
  for (const s of v) if (typeof s !== 'string') return false;
  return true;
}

export function checkResponseForRequest(req: BidRequest, res: unknown): string[] {
  const problems: string[] = [];
  if (!isObj(res)) {
    problems.push('response: must be a JSON object');
    return problems;
  }
  if (res.id !== req.id) {
    problems.push('id: ' + JSON.stringify(res.id) + ' does not echo the request id ' + JSON.stringify(req.id));
  }
  if (res.cur !== undefined && typeof res.cur !== 'string') problems.push('cur: must be a string');
  const resCur = upper(res.cur) ?? DEFAULT_CUR;
  if (Array.isArray(req.cur) && req.cur.length > 0) {
    let allowed = false;
    for (const c of req.cur) if (upper(c) === resCur) allowed = true;
    if (!allowed) problems.push('cur: ' + resCur + ' is not among the request cur ' + JSON.stringify(req.cur));
  }
  if (res.bidid !== undefined && typeof res.bidid !== 'string') problems.push('bidid: must be a string');
  if (res.nbr !== undefined && res.seatbid !== undefined) {
    if (Array.isArray(res.seatbid) && res.seatbid.length > 0) problems.push('nbr: a no-bid reason must not come with bids');
  }
  if (res.seatbid === undefined) return problems;
  if (!Array.isArray(res.seatbid)) {
    problems.push('seatbid: must be an array');
    return problems;
  }

  const imps = new Map<string, Imp>();
  for (const imp of req.imp) imps.set(imp.id, imp);
  const badv = lowerSet(req.badv);
  const bcat = isStrArray(req.bcat) ? req.bcat : [];
  const wseat = req.wseat && req.wseat.length > 0 ? new Set(req.wseat) : null;
  const bseat = req.bseat && req.bseat.length > 0 ? new Set(req.bseat) : null;

  for (let s = 0; s < res.seatbid.length; s++) {
    const sb: unknown = res.seatbid[s];
    const sp = 'seatbid[' + s + ']';
    if (!isObj(sb)) {
      problems.push(sp + ': must be an object');
      continue;
    }
    if (sb.seat !== undefined) {
      if (typeof sb.seat !== 'string') problems.push(sp + '.seat: must be a string');
      else {
        if (wseat !== null && !wseat.has(sb.seat)) problems.push(sp + '.seat: ' + JSON.stringify(sb.seat) + ' is not in wseat');
        if (bseat !== null && bseat.has(sb.seat)) problems.push(sp + '.seat: ' + JSON.stringify(sb.seat) + ' is in bseat');
      }
    }
    if (!Array.isArray(sb.bid) || sb.bid.length === 0) {
      problems.push(sp + '.bid: must be a non-empty array');
      continue;
    }
    for (let b = 0; b < sb.bid.length; b++) {
      const bid: unknown = sb.bid[b];
      const bp = sp + '.bid[' + b + ']';
      if (!isObj(bid)) {
        problems.push(bp + ': must be an object');
        continue;
      }
      if (typeof bid.id !== 'string' || bid.id.length === 0) problems.push(bp + '.id: must be a non-empty string');

      const price = bid.price;
      const priceOk = typeof price === 'number' && Number.isFinite(price) && price > 0;
      if (!priceOk) problems.push(bp + '.price: must be a finite number > 0, got ' + JSON.stringify(price));

      for (const k of ['nurl', 'burl', 'lurl', 'adm', 'adid', 'cid', 'crid', 'dealid'] as const) {
        if (bid[k] !== undefined && typeof bid[k] !== 'string') problems.push(bp + '.' + k + ': must be a string');
      }

      // Checks against the request, whether or not the imp is found.
      if (bid.adomain !== undefined) {
        if (!isStrArray(bid.adomain)) problems.push(bp + '.adomain: must be an array of strings');
        else for (const d of bid.adomain) {
          if (badv.has(d.toLowerCase())) problems.push(bp + '.adomain: ' + JSON.stringify(d) + ' is blocked by badv');
        }
      }
      if (bid.cat !== undefined) {
        if (!isStrArray(bid.cat)) problems.push(bp + '.cat: must be an array of strings');
        else for (const c of bid.cat) {
          if (catBlocked(c, bcat)) problems.push(bp + '.cat: ' + JSON.stringify(c) + ' is blocked by bcat');
        }
      }

      if (typeof bid.impid !== 'string') {
        problems.push(bp + '.impid: must be a string');
        continue;
      }
      const imp = imps.get(bid.impid);
      if (imp === undefined) {
        problems.push(bp + '.impid: ' + JSON.stringify(bid.impid) + ' names no imp of the request');
        continue;
      }

      // A bid through a deal with its own floor answers to that floor, not the imp's (the
      // rule pricing.ts applies); a deal without a floor leaves the imp floor in force.
      const viaFlooredDeal = typeof bid.dealid === 'string' && Array.isArray(imp.pmp?.deals) &&
        imp.pmp!.deals!.some((d) => d.id === bid.dealid && typeof d.bidfloor === 'number' && d.bidfloor > 0);
      if (priceOk && !viaFlooredDeal && typeof imp.bidfloor === 'number' && (upper(imp.bidfloorcur) ?? DEFAULT_CUR) === resCur) {
        if ((price as number) < imp.bidfloor) {
          problems.push(bp + '.price: ' + price + ' is below the imp bidfloor ' + imp.bidfloor);
        }
      }

      const deals = imp.pmp?.deals;
      if (bid.dealid !== undefined && typeof bid.dealid === 'string') {
        const deal = Array.isArray(deals) ? deals.find((d) => d.id === bid.dealid) : undefined;
        if (deal === undefined) {
          problems.push(bp + '.dealid: ' + JSON.stringify(bid.dealid) + ' is not a deal of imp ' + JSON.stringify(imp.id));
        } else {
          if (priceOk && typeof deal.bidfloor === 'number' && (upper(deal.bidfloorcur) ?? DEFAULT_CUR) === resCur) {
            if ((price as number) < deal.bidfloor) {
              problems.push(bp + '.price: ' + price + ' is below the deal bidfloor ' + deal.bidfloor);
            }
          }
          // The bidder's own rules (deal-terms.ts, seat-rules.ts): a listed parent domain admits its subdomains.
          if (isStrArray(bid.adomain)) {
            for (const d of bid.adomain) {
              if (!advertiserListed(deal.wadomain, domainKeys(d.trim().toLowerCase()))) {
                problems.push(bp + '.adomain: ' + JSON.stringify(d) + ' is not in the deal wadomain');
              }
            }
          }
          if (typeof sb.seat === 'string' && !seatListed(deal.wseat, sb.seat)) {
            problems.push(sp + '.seat: ' + JSON.stringify(sb.seat) + ' is not in the wseat of deal ' + JSON.stringify(deal.id));
          }
        }
      } else if (imp.pmp?.private_auction === 1) {
        problems.push(bp + '.dealid: imp ' + JSON.stringify(imp.id) + ' is a private auction; a bid must name one of its deals');
      }

      const mtype = bid.mtype;
      if (mtype !== undefined) {
        if (mtype !== 1 && mtype !== 2 && mtype !== 3 && mtype !== 4) {
          problems.push(bp + '.mtype: must be 1, 2, 3 or 4, got ' + JSON.stringify(mtype));
        } else if (mediaForMtype(imp, mtype) === undefined || mediaForMtype(imp, mtype) === null) {
          problems.push(bp + '.mtype: ' + mtype + ' but imp ' + JSON.stringify(imp.id) + ' offers no such media object');
        }
      } else if (!imp.banner && !imp.video && !imp.audio && !imp.native) {
        problems.push(bp + ': imp ' + JSON.stringify(imp.id) + ' offers no media type to bid on');
      }

      if (bid.attr !== undefined) {
        if (!Array.isArray(bid.attr)) problems.push(bp + '.attr: must be an array of integers');
        else {
          const battr = battrFor(imp, mtype);
          if (Array.isArray(battr)) {
            for (const a of bid.attr) if (battr.includes(a as number)) problems.push(bp + '.attr: ' + a + ' is blocked by battr');
          }
        }
      }

      if (mtype === 4 && typeof bid.adm === 'string' && isObj(imp.native)) checkNativeAdm(imp, bid.adm, bp + '.adm', problems);

      if ((mtype === undefined || mtype === 1) && bannerOnly(imp)) {
        const w = bid.w;
        const h = bid.h;
        if (w === undefined && h === undefined) {
          const sizes = offeredSizeCount(imp.banner!);
          if (sizes > 1) problems.push(bp + '.w/h: required to tell which of ' + (sizes === Infinity ? 'the ratio' : sizes) + ' banner sizes is bid on');
        } else if (typeof w !== 'number' || typeof h !== 'number' || !bannerSizeAllowed(imp.banner!, imp.instl, w, h)) {
          problems.push(bp + '.w/h: ' + w + 'x' + h + ' is not an allowed size of imp ' + JSON.stringify(imp.id));
        }
      }
    }
  }
  return problems;
}

function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function sizeProblem(got: unknown, exact: number, min: number): string | null {
  if (typeof got !== 'number') return null;
  if (min > 0) return got >= min ? null : got + ' is under the minimum ' + min;
  if (exact > 0) return got === exact ? null : got + ' is not the exact ' + exact;
  return null;
}

/**
 * A native bid's markup against the imp's native request (IAB Native 1.2 section 5):
 * a JSON object in the shape the request calls for (the 1.2 root object, or the 1.0
 * `{"native":...}` wrapper for a wrapped 1.0/1.1 request), a link, asset ids that the
 * request names, every required asset answered, titles and data within `len`, image sizes
 * within the asset's w/h or wmin/hmin when the answer states them, and impression
 * trackers as `eventtrackers` (methods the request lists) when the request lists any.
 */
export function checkNativeAdm(imp: Imp, adm: string, path: string, problems: string[]): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(adm);
  } catch {
    problems.push(path + ': native markup is not JSON');
    return;
  }
  if (!isObj(parsed)) {
    problems.push(path + ': native markup must be a JSON object');
    return;
  }
  const spec = readNativeRequest(imp.native!.request, imp.native!.ver);
  let root: Obj = parsed;
  if (spec.legacy) {
    if (!isObj(parsed.native)) {
      problems.push(path + ': a wrapped ' + spec.legacyVer + ' request expects the {"native":{...}} wrapper');
      return;
    }
    root = parsed.native;
  } else if (parsed.native !== undefined) {
    problems.push(path + ': Native 1.2 5.1: the response object is the root, not wrapped in "native"');
    return;
  }
  if (!isObj(root.link) || typeof root.link.url !== 'string') problems.push(path + '.link.url: required');
  if (!Array.isArray(root.assets)) {
    problems.push(path + '.assets: must be an array');
    return;
  }
  const asked = spec.assets;
  const answered = new Set<number>();
  for (let i = 0; i < root.assets.length; i++) {
    const a: unknown = root.assets[i];
    const ap = path + '.assets[' + i + ']';
    if (!isObj(a) || typeof a.id !== 'number') {
      problems.push(ap + '.id: must be a number');
      continue;
    }
    answered.add(a.id);
    if (asked === null) continue;
    const req = asked.find((r) => r.id === a.id);
    if (req === undefined) {
      problems.push(ap + '.id: ' + a.id + ' names no asset of the request');
      continue;
    }
    if (req.kind === kAssetTitle) {
      if (!isObj(a.title) || typeof a.title.text !== 'string') problems.push(ap + ': asset ' + a.id + ' asks for a title');
      else if (req.len > 0 && codePointLength(a.title.text) > req.len) problems.push(ap + '.title.text: longer than len ' + req.len);
    } else if (req.kind === kAssetImg) {
      if (!isObj(a.img) || typeof a.img.url !== 'string') problems.push(ap + ': asset ' + a.id + ' asks for an image');
      else {
        const pw = sizeProblem(a.img.w, req.w, req.wmin);
        const ph = sizeProblem(a.img.h, req.h, req.hmin);
        if (pw !== null) problems.push(ap + '.img.w: ' + pw);
        if (ph !== null) problems.push(ap + '.img.h: ' + ph);
      }
    } else if (req.kind === kAssetData) {
      if (!isObj(a.data) || typeof a.data.value !== 'string') problems.push(ap + ': asset ' + a.id + ' asks for data');
      else if (req.len > 0 && codePointLength(a.data.value) > req.len) problems.push(ap + '.data.value: longer than len ' + req.len);
    } else {
      problems.push(ap + ': asset ' + a.id + ' is of a kind the answer does not carry');
    }
  }
  if (asked !== null) {
    for (const r of asked) if (r.required && !answered.has(r.id)) problems.push(path + '.assets: required asset ' + r.id + ' is not answered');
  }
  if (spec.eventTrackers) {
    if (root.imptrackers !== undefined) problems.push(path + '.imptrackers: the request lists eventtrackers; trackers go there');
    const listed = eventMethods(imp.native!.request);
    if (root.eventtrackers !== undefined) {
      if (!Array.isArray(root.eventtrackers)) problems.push(path + '.eventtrackers: must be an array');
      else root.eventtrackers.forEach((e: unknown, i: number) => {
        const ep = path + '.eventtrackers[' + i + ']';
        if (!isObj(e) || typeof e.url !== 'string') problems.push(ep + '.url: required');
        else if (!listed.has(e.event + ':' + e.method)) problems.push(ep + ': event ' + e.event + ' method ' + e.method + ' is not among those the request lists');
      });
    }
  } else if (root.eventtrackers !== undefined) {
    problems.push(path + '.eventtrackers: the request lists none');
  }
}

/** "event:method" pairs the native request's eventtrackers list. */
function eventMethods(raw: unknown): Set<string> {
  const out = new Set<string>();
  try {
    const p = JSON.parse(String(raw)) as Obj;
    const root = isObj(p.native) ? p.native : p;
    if (Array.isArray(root.eventtrackers)) {
      for (const e of root.eventtrackers) {
        if (isObj(e) && Array.isArray(e.methods)) for (const m of e.methods) out.add(e.event + ':' + m);
      }
    }
  } catch {
    // readNativeRequest already said whether the request is readable.
  }
  return out;
}

/**
 * Everything about a request that targeting reads, normalised once per request so that the
 * per-campaign checks are Set lookups. Field shapes in real traffic vary (missing geo, odd
 * types), so every read is defensive: a malformed optional field counts as absent.
 */
import type { BidRequest, Imp } from '../openrtb/types';
import { NoBidReason } from './no-bid-reasons';
import type { DecisionConfig } from './campaign-types';
import { requestAllowsSeat } from './seat-rules';
import { ifaAllowed, userDataAllowed } from '../privacy/privacy-bits';

export interface RequestContext {
  /** Currency we bid in; USD unless the request forbids it and a configured rate allows another. */
  currency: string;
  /** Units of `currency` per 1 USD (1 for USD). */
  usdToBidCur: number;
  /** Upper-case `geo.country` (device first, then user), or null. */
  country: string | null;
  /** Lower-case `geo.region`, or null. */
  region: string | null;
  /** Lower-case `device.os`, or null. */
  os: string | null;
  /** `device.devicetype`, or -1. */
  deviceType: number;
  isApp: boolean;
  /** Lower-case site domain (from site.domain, else the host of site.page), or null. */
  siteDomain: string | null;
  /** The site domain and each parent domain ("a.b.com", "b.com"): suffix matching by lookup. */
  siteDomainKeys: string[];
  /** Lower-case app bundle, or null. */
  appBundle: string | null;
  publisherId: string | null;
  /** Lower-case content categories of site/app, sections, pages and content, plus their IAB parents. */
  contentCats: Set<string>;
  userSegments: Set<string>;
  /**
   * Whether user data may be used (src/privacy/privacy-bits.ts): false for a child (COPPA),
   * under GDPR without our consent, or after an opt-out of sale (USP, GPP). Then no
   * campaign targeting userSegments matches, and user ids, buyeruid and the IFA stay unused.
   */
  userDataAllowed: boolean;
  /**
   * Whether the IFA may be used, for targeting and for frequency capping: userDataAllowed
   * and neither device.lmt nor device.dnt is 1. The one flag IFA-based code reads.
   */
  ifaAllowed: boolean;
  /** Lower-case blocked categories as sent. */
  bcat: Set<string>;
  /** Lower-case blocked advertiser domains as sent. */
  badv: Set<string>;
  /** Lower-case blocked app bundles as sent. */
  bapp: Set<string>;
  /** Upper-case currency code -> units per USD, from config. */
  fxRates: ReadonlyMap<string, number>;
  seatId: string | null;
}

export type PrepareResult = { ok: true; ctx: RequestContext } | { ok: false; reason: NoBidReason };

const EMPTY_SET: Set<string> = new Set();
const fxCache = new WeakMap<object, ReadonlyMap<string, number>>();

/** Config rates as an upper-cased Map; memoised per config object so requests do not rebuild it. */
function ratesOf(cfg: DecisionConfig): ReadonlyMap<string, number> {
  const raw = cfg.fxRates;
  if (raw === undefined) return EMPTY_RATES;
  let m = fxCache.get(raw);
  if (m === undefined) {
    const built = new Map<string, number>();
    for (const k of Object.keys(raw)) {
      const v = raw[k];
      if (typeof v === 'number' && Number.isFinite(v) && v > 0) built.set(k.toUpperCase(), v);
    }
    built.set('USD', 1);
    m = built;
    fxCache.set(raw, m);
  }
  return m;
}
const EMPTY_RATES: ReadonlyMap<string, number> = new Map([['USD', 1]]);

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function lowerSet(v: unknown): Set<string> {
  if (!Array.isArray(v) || v.length === 0) return EMPTY_SET;
  const s = new Set<string>();
  for (const x of v) if (typeof x === 'string') s.add(x.trim().toLowerCase());
  return s;
}

/** "IAB3-1" also files the request under "IAB3", so a campaign targeting IAB3 matches it. */
function addCats(into: Set<string>, v: unknown): void {
  if (!Array.isArray(v)) return;
  for (const x of v) {
    if (typeof x !== 'string') continue;
    const c = x.trim().toLowerCase();
    into.add(c);
    const dash = c.indexOf('-');
    if (dash > 0) into.add(c.slice(0, dash));
  }
}

/** "a.b.example.com" -> ["a.b.example.com", "b.example.com", "example.com"]. */
export function domainKeys(domain: string): string[] {
  const keys = [domain];
  let i = domain.indexOf('.');
  while (i >= 0) {
    const rest = domain.slice(i + 1);
    if (rest.indexOf('.') < 0) break; // never a bare TLD
    keys.push(rest);
    i = domain.indexOf('.', i + 1);
  }
  return keys;
}

function hostOf(page: string): string | null {
  const scheme = page.indexOf('://');
  let start = scheme >= 0 ? scheme + 3 : 0;
  let end = page.length;
  for (let i = start; i < page.length; i++) {
    const ch = page.charCodeAt(i);
    if (ch === 47 /* / */ || ch === 63 /* ? */ || ch === 35 /* # */ || ch === 58 /* : */) {
      end = i;
      break;
    }
  }
  const at = page.lastIndexOf('@', end);
  if (at >= start) start = at + 1;
  const host = page.slice(start, end).trim().toLowerCase();
  return host === '' ? null : host;
}

/**
 * Picks the bid currency: USD when allowed (or nothing is said), else the first allowed
 * currency we hold a rate for. Null means no currency we can bid in.
 */
function pickCurrency(cur: unknown, rates: ReadonlyMap<string, number>): string | null {
  if (!Array.isArray(cur) || cur.length === 0) return 'USD';
  for (const c of cur) if (typeof c === 'string' && c.toUpperCase() === 'USD') return 'USD';
  for (const c of cur) {
    if (typeof c !== 'string') continue;
    const u = c.toUpperCase();
    if (rates.has(u)) return u;
  }
  return null;
}

/** `privacy`: the request's privacy bits (src/privacy, resolved by the engine); 0 is a request with no privacy signal. */
export function prepareRequest(req: BidRequest, cfg: DecisionConfig, privacy = 0): PrepareResult {
  // Seats first: a request that excludes our seat is answered before any other work.
  if (!requestAllowsSeat(req.wseat, req.bseat, cfg.seatId ?? null)) return { ok: false, reason: NoBidReason.SeatBlocked };
  const rates = ratesOf(cfg);
  const currency = pickCurrency(req.cur, rates);
  if (currency === null) return { ok: false, reason: NoBidReason.CurrencyUnsupported };

  const device = typeof req.device === 'object' && req.device !== null ? req.device : undefined;
  const user = typeof req.user === 'object' && req.user !== null ? req.user : undefined;
  const dgeo = device?.geo;
  const ugeo = user?.geo;
  const countryRaw = str(dgeo?.country) ?? str(ugeo?.country);
  const regionRaw = str(dgeo?.region) ?? str(ugeo?.region);
  const osRaw = str(device?.os);
  const dt = device?.devicetype;

  const site = typeof req.site === 'object' && req.site !== null ? req.site : undefined;
  const app = site === undefined && typeof req.app === 'object' && req.app !== null ? req.app : undefined;
  const inv = site ?? app;

  let siteDomain: string | null = null;
  if (site !== undefined) {
    const d = str(site.domain);
    siteDomain = d !== null ? d.trim().toLowerCase() : typeof site.page === 'string' ? hostOf(site.page) : null;
  }
  const bundleRaw = app !== undefined ? str(app.bundle) : null;

  const contentCats = new Set<string>();
  if (inv !== undefined) {
    addCats(contentCats, inv.cat);
    addCats(contentCats, inv.sectioncat);
    addCats(contentCats, inv.pagecat);
    if (typeof inv.content === 'object' && inv.content !== null) addCats(contentCats, inv.content.cat);
  }

  let userSegments = EMPTY_SET;
  const data = user?.data;
  if (Array.isArray(data)) {
    for (const d of data) {
      const segs = d?.segment;
      if (!Array.isArray(segs)) continue;
      for (const s of segs) {
        const id = str(s?.id);
        if (id === null) continue;
        if (userSegments === EMPTY_SET) userSegments = new Set();
        userSegments.add(id);
      }
    }
  }

  const pubId = inv?.publisher?.id;
  const ctx: RequestContext = {
    currency,
    usdToBidCur: rates.get(currency) ?? 1,
    country: countryRaw === null ? null : countryRaw.trim().toUpperCase(),
    region: regionRaw === null ? null : regionRaw.trim().toLowerCase(),
    os: osRaw === null ? null : osRaw.trim().toLowerCase(),
    deviceType: typeof dt === 'number' && Number.isInteger(dt) ? dt : -1,
    isApp: app !== undefined,
    siteDomain,
    siteDomainKeys: siteDomain === null ? [] : domainKeys(siteDomain),
    appBundle: bundleRaw === null ? null : bundleRaw.trim().toLowerCase(),
    publisherId: typeof pubId === 'string' && pubId !== '' ? pubId : typeof pubId === 'number' ? String(pubId) : null,
    contentCats,
    // Segments the user may not be targeted by are not even carried.
    userSegments: userDataAllowed(privacy) ? userSegments : EMPTY_SET,
    userDataAllowed: userDataAllowed(privacy),
    ifaAllowed: ifaAllowed(privacy),
    bcat: lowerSet(req.bcat),
    badv: lowerSet(req.badv),
    bapp: lowerSet(req.bapp),
    fxRates: rates,
    seatId: cfg.seatId ?? null,
  };
  return { ok: true, ctx };
}

/** A floor as sent (`bidfloor`): a positive finite amount, else 0 (no floor). */
export function floorAmount(amount: unknown): number {
  return typeof amount === 'number' && Number.isFinite(amount) && amount > 0 ? amount : 0;
}

/**
 * Units of `cur` per 1 USD: 1 for USD or no currency (the OpenRTB default for floors), NaN
 * when no rate is configured for it.
 */
export function currencyRate(cur: unknown, ctx: RequestContext): number {
  if (cur === undefined || cur === null || cur === '') return 1;
  if (typeof cur !== 'string') return NaN;
  const u = cur.length === 3 ? cur.toUpperCase() : cur.trim().toUpperCase();
  if (u === 'USD') return 1;
  return ctx.fxRates.get(u) ?? NaN;
}

/**
 * Converts an amount in `cur` (default USD) to USD. NaN when the currency has no configured
 * rate: the caller treats the impression or deal as one we cannot price against. A zero
 * amount needs no rate.
 */
export function toUsd(amount: unknown, cur: unknown, ctx: RequestContext): number {
  const a = floorAmount(amount);
  if (a === 0) return 0;
  return a / currencyRate(cur, ctx);
}

/** The impression's floor in USD; NaN when its currency cannot be converted. */
export function impFloorUsd(imp: Imp, ctx: RequestContext): number {
  return toUsd(imp.bidfloor, imp.bidfloorcur, ctx);
}

/**
 * A request's privacy signals to its privacy bits (privacy-bits.ts), per request on the bid
 * path: regs.coppa; GDPR (regs.gdpr, 2.5's regs.ext.gdpr) with the TC string of
 * user.consent (2.5's user.ext.consent); regs.us_privacy (2.5's regs.ext.us_privacy);
 * GPP (regs.gpp with regs.gpp_sid); device.lmt and device.dnt.
 *
 * Consent strings are decoded at most once per thread and string: a bounded local cache,
 * then the process-wide shared table (consent-table.ts), then, only in 'decode' mode (pool
 * workers), the decoder, whose answer goes into both. In 'defer' mode (the inline lane on
 * the front-end thread) a string in neither cache is not decoded: resolve() answers
 * kPrivacyDeferred and the engine hands the request back for the pool to answer.
 *
 * Precedence: GDPR applies when regs.gdpr says so or gpp_sid lists tcfeuv2 (2); the TC
 * string is user.consent when present, else GPP's tcfeuv2 section; GDPR with neither is no
 * consent. A child's request (coppa) decodes nothing: no consent could allow user data.
 */
import type { BidRequest } from '../openrtb/types';
import { BoundedCache } from './bounded-cache';
import type { ConsentTable } from './consent-table';
import { kTableMiss } from './consent-table';
import { gppSectionApplies, gppSidKey, kGppSidTcfEuV2 } from './gpp-sections';
import {
  kPrivacyBitsLimit,
  kPrivacyCoppa,
  kPrivacyDeferred,
  kPrivacyGdprApplies,
  kPrivacyGdprConsent,
  kPrivacyGppOptOut,
  kPrivacyLimitedTracking,
  kPrivacyMalformedGpp,
  kPrivacyMalformedUsp,
  kPrivacyUspOptOut,
} from './privacy-bits';
import { hash64, kHashHi, kHashLo } from './string-hash';

/** 'decode': decode on a miss (pool workers). 'defer': never decode; defer on a miss (the inline lane). */
export type ConsentMode = 'decode' | 'defer';

/** Turns one consent string into its decision bits; never throws (consent-decoder.ts). */
export interface ConsentDecoder {
  tcf(consent: string, vendorId: number): number;
  gpp(gpp: string, sidKey: number, vendorId: number): number;
  /** Runs the decoders on sample strings so that the first real one meets compiled code. */
  warm(): void;
}

export interface ConsentResolverOptions {
  /** Our IAB Global Vendor List id (privacy.vendorId); 0: none, so GDPR never consents. */
  vendorId: number;
  /** Entries of each local cache (TC strings, GPP strings): privacy.consentCacheEntries. */
  cacheEntries: number;
  mode: ConsentMode;
  /** The process-wide table, or null for an engine on its own (tools, tests). */
  table: ConsentTable | null;
  /** For 'decode' mode; loaded from consent-decoder.ts when absent. Never used in 'defer' mode. */
  decoder?: ConsentDecoder;
}

/** The privacy.consentCacheEntries default (config.ts), for engines built without the privacy section. */
export const kDefaultConsentCacheEntries = 4_096;

/** Loads the IAB libraries only where decoding happens, so the front-end thread never pays for them. */
function loadConsentDecoder(): ConsentDecoder {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./consent-decoder') as typeof import('./consent-decoder')).consentDecoder;
}

/** Key spaces of the shared table: the format in the low bit, the vendor id above it. */
const kKindTcf = 0;
const kKindGpp = 1;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/**
 * Bits of a US Privacy string (IAB CCPA Compliance Framework, "1YNN"): version 1, then
 * notice, opt-out of sale and LSPA, each Y, N or '-'. Four characters need no library.
 * Anything else is malformed and counts as an opt-out.
 */
export function uspBits(usp: string): number {
  if (usp.length !== 4 || usp.charCodeAt(0) !== 49 /* 1 */) return kPrivacyUspOptOut | kPrivacyMalformedUsp;
  for (let i = 1; i < 4; i++) {
    const c = usp.charCodeAt(i) | 32; // ASCII lower case; '-' (45) has the bit already
    if (c !== 121 /* y */ && c !== 110 /* n */ && c !== 45 /* - */) return kPrivacyUspOptOut | kPrivacyMalformedUsp;
  }
  return (usp.charCodeAt(2) | 32) === 121 ? kPrivacyUspOptOut : 0;
}

export class ConsentResolver {
  readonly mode: ConsentMode;
  private readonly vendorId: number;
  private readonly table: ConsentTable | null;
  private readonly decoder: ConsentDecoder | null;
  private readonly tcfCache: BoundedCache;
  /** GPP string -> sidKey * kPrivacyBitsLimit + bits: one entry per string, its last sid key. */
  private readonly gppCache: BoundedCache;
  private readonly key = new Int32Array(2);

  constructor(opts: ConsentResolverOptions) {
    if (opts.mode !== 'decode' && opts.mode !== 'defer') throw new Error(`consent mode must be 'decode' or 'defer', got ${String(opts.mode)}`);
    if (!Number.isInteger(opts.vendorId) || opts.vendorId < 0 || opts.vendorId > 0xffff) {
      throw new Error(`vendor id must be an integer in [0, 65535], got ${opts.vendorId}`);
    }
    this.mode = opts.mode;
    this.vendorId = opts.vendorId;
    this.table = opts.table;
    this.decoder = opts.mode === 'decode' ? (opts.decoder ?? loadConsentDecoder()) : null;
    this.tcfCache = new BoundedCache(opts.cacheEntries);
    this.gppCache = new BoundedCache(opts.cacheEntries);
  }

  /** Warms the decoder ('decode' mode); nothing to do in 'defer' mode. Results are not cached. */
  warm(): void {
    this.decoder?.warm();
  }

  /**
   * The request's privacy bits, or kPrivacyDeferred ('defer' mode, a string not yet decoded
   * anywhere). `republish`: the inline lane deferred this request, so its decisions are
   * written to the shared table even when this thread's cache holds them: the table may
   * have lost them (an overwrite, a publish that met a busy slot) while this cache did not,
   * and the lane would otherwise defer that string again and again.
   */
  resolve(req: BidRequest, republish = false): number {
    let bits = 0;
    const device = req.device;
    if (isObj(device) && (device.lmt === 1 || device.dnt === 1)) bits |= kPrivacyLimitedTracking;
    const regs: unknown = req.regs;
    if (!isObj(regs)) return bits;
    if (regs.coppa === 1) return bits | kPrivacyCoppa;
    const ext = isObj(regs.ext) ? regs.ext : undefined;

    let gppBits = 0;
    const gpp = regs.gpp;
    const sidKey = gppSidKey(regs.gpp_sid);
    if (typeof gpp === 'string' && gpp !== '') {
      gppBits = this.gppDecision(gpp, sidKey, republish);
      if (gppBits === kPrivacyDeferred) return kPrivacyDeferred;
      bits |= gppBits & (kPrivacyGppOptOut | kPrivacyMalformedGpp);
    } else if (gppSectionApplies(sidKey, kGppSidTcfEuV2, false)) {
      // gpp_sid says the EU TCF section applies but no GPP string came: GDPR applies, and
      // unless user.consent carries a TC string, without consent.
      gppBits = kPrivacyGdprApplies;
    }

    const gdpr = regs.gdpr !== undefined ? regs.gdpr : ext?.gdpr;
    if (gdpr === 1 || (gppBits & kPrivacyGdprApplies) !== 0) {
      bits |= kPrivacyGdprApplies;
      const consent = consentOf(req.user);
      if (consent !== null) {
        const tcf = this.tcfDecision(consent, republish);
        if (tcf === kPrivacyDeferred) return kPrivacyDeferred;
        bits |= tcf;
      } else {
        bits |= gppBits & kPrivacyGdprConsent;
      }
    }

    const usp = regs.us_privacy !== undefined ? regs.us_privacy : ext?.us_privacy;
    if (typeof usp === 'string' && usp !== '') bits |= uspBits(usp);
    return bits;
  }

  private tcfDecision(consent: string, republish: boolean): number {
    // Without a vendor id nothing consents to us: no string needs decoding.
    if (this.vendorId === 0) return 0;
    const prefix = this.vendorId * 2 + kKindTcf;
    const hit = this.tcfCache.get(consent);
    if (hit !== undefined) {
      if (republish) this.publish(consent, prefix, 0, hit);
      return hit;
    }
    const bits = this.shared(consent, prefix, null);
    if (bits !== kPrivacyDeferred) this.tcfCache.set(consent, bits);
    return bits;
  }

  private gppDecision(gpp: string, sidKey: number, republish: boolean): number {
    // No section we read applies: nothing in the string can change the decision.
    if (sidKey === 0) return 0;
    const prefix = this.vendorId * 2 + kKindGpp;
    const hit = this.gppCache.get(gpp);
    if (hit !== undefined && Math.floor(hit / kPrivacyBitsLimit) === sidKey) {
      const bits = hit % kPrivacyBitsLimit;
      if (republish) this.publish(gpp, prefix, sidKey, bits);
      return bits;
    }
    const bits = this.shared(gpp, prefix, sidKey);
    if (bits !== kPrivacyDeferred) this.gppCache.set(gpp, sidKey * kPrivacyBitsLimit + bits);
    return bits;
  }

  private publish(s: string, prefix: number, suffix: number, bits: number): void {
    const table = this.table;
    if (table === null) return;
    hash64(prefix, s, suffix, this.key);
    table.publish(this.key[kHashHi], this.key[kHashLo], bits);
  }

  /** The shared table, then (decode mode) the decoder, whose answer is published. `sidKey` null: a TC string. */
  private shared(s: string, prefix: number, sidKey: number | null): number {
    const key = this.key;
    const table = this.table;
    if (table !== null) {
      hash64(prefix, s, sidKey ?? 0, key);
      const found = table.lookup(key[kHashHi], key[kHashLo]);
      if (found !== kTableMiss) return found;
    }
    const decoder = this.decoder;
    if (decoder === null) return kPrivacyDeferred;
    const bits = sidKey === null ? decoder.tcf(s, this.vendorId) : decoder.gpp(s, sidKey, this.vendorId);
    table?.publish(key[kHashHi], key[kHashLo], bits);
    return bits;
  }
}

/** user.consent, else 2.5's user.ext.consent; null when neither is a non-empty string. */
function consentOf(user: unknown): string | null {
  if (!isObj(user)) return null;
  let c = user.consent;
  if (c === undefined && isObj(user.ext)) c = user.ext.consent;
  return typeof c === 'string' && c !== '' ? c : null;
}

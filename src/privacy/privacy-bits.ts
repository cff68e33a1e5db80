/**
 * A request's privacy situation as one small integer, so that it can be cached per consent
 * string, published in shared memory (consent-table.ts) and read on the hot path without
 * allocating. The decision for one consent string uses the same bits as the request it
 * came from, so the resolver combines them with `|`.
 *
 * Pure: no decoding here (consent-decoder.ts owns the IAB libraries).
 */

/** regs.coppa = 1: the user is a child (COPPA). */
export const kPrivacyCoppa = 1 << 0;
/** GDPR applies (regs.gdpr, 2.5's regs.ext.gdpr, or GPP section 2 in gpp_sid). */
export const kPrivacyGdprApplies = 1 << 1;
/** TCF v2 consent for our vendor id and purposes 1, 3 and 4. Meaningful only with kPrivacyGdprApplies. */
export const kPrivacyGdprConsent = 1 << 2;
/** regs.us_privacy says opted out of sale (third character 'Y'), or is malformed. */
export const kPrivacyUspOptOut = 1 << 3;
/** An applicable GPP US section (uspv1, usnat, a state) says opted out, or the GPP string is malformed. */
export const kPrivacyGppOptOut = 1 << 4;
/** device.lmt = 1 or device.dnt = 1. */
export const kPrivacyLimitedTracking = 1 << 5;
/** The TCF string did not decode; it counts as no consent. */
export const kPrivacyMalformedTcf = 1 << 6;
/** The GPP string did not decode; it counts as an opt-out (and no consent where TCF applies). */
export const kPrivacyMalformedGpp = 1 << 7;
/** regs.us_privacy is not a version-1 USP string; it counts as an opt-out. */
export const kPrivacyMalformedUsp = 1 << 8;
/** Every bit a decision can carry; the shared table and the caches store values in [0, kPrivacyBitsLimit). */
export const kPrivacyBitsLimit = 1 << 9;

/**
 * What the resolver returns instead of bits when it may not decode (the inline lane) and
 * the decision is in neither cache: the request goes to the pool, whose workers decode.
 */
export const kPrivacyDeferred = -1;

/** The primary privacy signal of a request: the label of bidder_privacy_requests_total. Fixed; never renamed. */
export const PRIVACY_SIGNALS = [
  'none',
  'coppa',
  'gdpr_consent',
  'gdpr_no_consent',
  'us_privacy_opt_out',
  'gpp_opt_out',
  'lmt',
] as const;
export type PrivacySignal = (typeof PRIVACY_SIGNALS)[number];

export const kSignalNone = 0;
export const kSignalCoppa = 1;
export const kSignalGdprConsent = 2;
export const kSignalGdprNoConsent = 3;
export const kSignalUspOptOut = 4;
export const kSignalGppOptOut = 5;
export const kSignalLmt = 6;

/** How the request was answered: the other label of bidder_privacy_requests_total. */
export const PRIVACY_OUTCOMES = ['bid', 'no_bid', 'error'] as const;

/** Formats whose malformed strings are counted (bidder_privacy_malformed_total{format}). */
export const CONSENT_FORMATS = ['tcf', 'gpp', 'us_privacy'] as const;

const kNoUserData = kPrivacyCoppa | kPrivacyUspOptOut | kPrivacyGppOptOut;

/**
 * Whether user data may be used: user.data segments, user ids, buyeruid, IFA, personal
 * model features. Not for a child, not under GDPR without our consent, not after an
 * opt-out of sale. Such a request may still get a contextual bid.
 */
export function userDataAllowed(bits: number): boolean {
  if ((bits & kNoUserData) !== 0) return false;
  return (bits & (kPrivacyGdprApplies | kPrivacyGdprConsent)) !== kPrivacyGdprApplies;
}

/** Whether the IFA may be used (targeting, frequency capping): user data allowed and no lmt/dnt. */
export function ifaAllowed(bits: number): boolean {
  return (bits & kPrivacyLimitedTracking) === 0 && userDataAllowed(bits);
}

/**
 * The one signal a request is counted under: the most restrictive that applies, so a child
 * in the EU counts as coppa, and gdpr_consent means consent with nothing else restricting.
 */
export function primarySignal(bits: number): number {
  if ((bits & kPrivacyCoppa) !== 0) return kSignalCoppa;
  const gdpr = (bits & kPrivacyGdprApplies) !== 0;
  if (gdpr && (bits & kPrivacyGdprConsent) === 0) return kSignalGdprNoConsent;
  if ((bits & kPrivacyUspOptOut) !== 0) return kSignalUspOptOut;
  if ((bits & kPrivacyGppOptOut) !== 0) return kSignalGppOptOut;
  if ((bits & kPrivacyLimitedTracking) !== 0) return kSignalLmt;
  if (gdpr) return kSignalGdprConsent;
  return kSignalNone;
}

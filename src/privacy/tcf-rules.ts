/**
 * When a decoded TCF v2 string lets us use personal data for ads: our vendor id has vendor
 * consent, and each of purposes 1 (store/access on a device), 3 (create a personalised ads
 * profile) and 4 (use it to select ads) has purpose consent. TCF policy v2.2 allows no
 * legitimate-interest basis for these purposes, so legitimate-interest signals are never
 * read. The same rule serves a plain TC string (@iabtcf/core) and GPP's tcfeuv2 section
 * (@iabgpp/cmpapi) through TcfView.
 */

/** Purposes that need consent before we use user data (TCF v2 purpose ids). */
export const TCF_REQUIRED_PURPOSES: readonly number[] = [1, 3, 4];

/** TCF publisher restriction types (TCF v2 Consent string and Vendor List format, PubRestrictionEntry). */
export const kRestrictionNone = -1;
export const kRestrictionNotAllowed = 0;
export const kRestrictionRequireConsent = 1;
export const kRestrictionRequireLegInt = 2;

/** What the rule reads from a decoded string, whichever library decoded it. */
export interface TcfView {
  purposeConsent(purpose: number): boolean;
  vendorConsent(vendorId: number): boolean;
  /** The publisher's restriction on (purpose, vendor), or kRestrictionNone. */
  restriction(purpose: number, vendorId: number): number;
}

/**
 * True when the string gives `vendorId` consent for every required purpose. Vendor id 0
 * means we have none in the Global Vendor List, so nothing can consent to us.
 * A publisher restriction "not allowed" on a required purpose denies it; one that requires
 * legitimate interest cannot be met for a consent-only purpose and denies it too.
 */
export function tcfConsents(view: TcfView, vendorId: number): boolean {
  if (vendorId <= 0 || !view.vendorConsent(vendorId)) return false;
  for (let i = 0; i < TCF_REQUIRED_PURPOSES.length; i++) {
    const p = TCF_REQUIRED_PURPOSES[i];
    if (!view.purposeConsent(p)) return false;
    const r = view.restriction(p, vendorId);
    if (r === kRestrictionNotAllowed || r === kRestrictionRequireLegInt) return false;
  }
  return true;
}

/**
 * The GPP section ids this bidder reads (IAB GPP, Section Information) and regs.gpp_sid as
 * one 32-bit key: bit n set when section n applies. The key is what a decision depends on
 * besides the string, so caches key GPP decisions by (string, sid key) without building a
 * string per request. Pure: the decoder (consent-decoder.ts) maps ids to the library's
 * section names.
 */

/** tcfeuv2: the TCF v2 consent inside the GPP string; GDPR applies when it is in gpp_sid. */
export const kGppSidTcfEuV2 = 2;
/** uspv1: the CCPA string as a GPP section (OptOutSale 'Y' is an opt-out). */
export const kGppSidUspV1 = 6;
/** usnat, then the state sections (usca 8 ... usri 27): SaleOptOut / SharingOptOut / TargetedAdvertisingOptOut = 1 is an opt-out. */
export const kGppSidUsNat = 7;
export const kGppSidLastUsState = 27;

/** gpp_sid was absent (or not an array): every section present in the string applies. */
export const kGppSidUnspecified = 0x8000_0000;

function usMask(): number {
  let m = 0;
  for (let sid = kGppSidUsNat; sid <= kGppSidLastUsState; sid++) m |= 1 << sid;
  return m;
}

/** The US sections as a sid-key mask. */
export const kGppUsSectionsMask = usMask() >>> 0;
/** Every section whose content changes a decision; other ids in gpp_sid are ignored. */
export const kGppRelevantMask = ((1 << kGppSidTcfEuV2) | (1 << kGppSidUspV1) | kGppUsSectionsMask) >>> 0;

/**
 * The sid key of regs.gpp_sid: the relevant listed sections, or kGppSidUnspecified when it
 * is absent. An empty array means no section applies. Entries that are not small integers
 * are ignored (a malformed optional field counts as absent, element by element).
 */
export function gppSidKey(gppSid: unknown): number {
  if (!Array.isArray(gppSid)) return kGppSidUnspecified;
  let key = 0;
  for (let i = 0; i < gppSid.length; i++) {
    const sid = gppSid[i];
    if (typeof sid === 'number' && sid >= 0 && sid <= 30 && Number.isInteger(sid)) key |= 1 << sid;
  }
  return (key & kGppRelevantMask) >>> 0;
}

/** Whether section `sid` applies under `sidKey`, given whether the string carries it. */
export function gppSectionApplies(sidKey: number, sid: number, present: boolean): boolean {
  if (sidKey === kGppSidUnspecified) return present;
  return ((sidKey >>> sid) & 1) === 1;
}

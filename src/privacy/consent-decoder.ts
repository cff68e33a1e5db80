/**
 * Consent strings to decisions, with the IAB's own libraries: @iabtcf/core for TC strings,
 * @iabgpp/cmpapi for GPP. This is the only module that loads them (about 110 ms and a few
 * MB at first import, 30-130 us per decode), and only pool workers load it: the
 * inline lane on the front-end thread never decodes (consent-resolver.ts defers instead).
 *
 * Never throws: a string the libraries reject is a malformed string, which counts as no
 * consent (TCF) or an opt-out (GPP), and carries its malformed bit for metrics.
 */
import { TCString, type TCModel } from '@iabtcf/core';
import { GppModel, Sections } from '@iabgpp/cmpapi';
import type { ConsentDecoder } from './consent-resolver';
import { gppSectionApplies, kGppSidLastUsState, kGppSidTcfEuV2, kGppSidUnspecified, kGppSidUsNat, kGppSidUspV1 } from './gpp-sections';
import {
  kPrivacyGdprApplies,
  kPrivacyGdprConsent,
  kPrivacyGppOptOut,
  kPrivacyMalformedGpp,
  kPrivacyMalformedTcf,
} from './privacy-bits';
import { kRestrictionNone, tcfConsents, type TcfView } from './tcf-rules';

/**
 * Longer strings are refused undecoded: real TC and GPP strings are well under 4 KB even
 * with a full vendor bitfield, and a decode is linear in the length.
 */
export const kMaxConsentChars = 16 * 1024;

/** GPP US fields where 1 means the user opted out (2 = did not, 0 = not applicable). */
const US_OPT_OUT_FIELDS = ['SaleOptOut', 'SharingOptOut', 'TargetedAdvertisingOptOut'] as const;
const kOptedOut = 1;

/** Section names by id, read from the library so that its numbering is the only one. */
function sectionName(sid: number): string {
  const name = Sections.SECTION_ID_NAME_MAP.get(sid);
  if (name === undefined) throw new Error(`@iabgpp/cmpapi has no GPP section ${sid}`);
  return name;
}

const TCF_EU = sectionName(kGppSidTcfEuV2);
const USP_V1 = sectionName(kGppSidUspV1);
const US_SECTIONS: { sid: number; name: string }[] = [];
for (let sid = kGppSidUsNat; sid <= kGppSidLastUsState; sid++) US_SECTIONS.push({ sid, name: sectionName(sid) });

class TcModelView implements TcfView {
  constructor(private readonly m: TCModel) {}
  purposeConsent(p: number): boolean {
    return this.m.purposeConsents.has(p);
  }
  vendorConsent(v: number): boolean {
    return this.m.vendorConsents.has(v);
  }
  restriction(p: number, v: number): number {
    for (const r of this.m.publisherRestrictions.getRestrictions(v)) if (r.purposeId === p) return r.restrictionType;
    return kRestrictionNone;
  }
}

interface RangeEntry {
  getKey(): number;
  getType(): number;
  getIds(): number[];
}

/** GPP's tcfeuv2 section as fields: PurposeConsents[p - 1], VendorConsents ids, PublisherRestrictions ranges. */
class GppTcfView implements TcfView {
  constructor(private readonly model: GppModel) {}
  purposeConsent(p: number): boolean {
    const consents = this.model.getFieldValue(TCF_EU, 'PurposeConsents') as unknown;
    return Array.isArray(consents) && consents[p - 1] === true;
  }
  vendorConsent(v: number): boolean {
    const ids = this.model.getFieldValue(TCF_EU, 'VendorConsents') as unknown;
    return Array.isArray(ids) && ids.includes(v);
  }
  restriction(p: number, v: number): number {
    const entries = this.model.getFieldValue(TCF_EU, 'PublisherRestrictions') as unknown;
    if (!Array.isArray(entries)) return kRestrictionNone;
    for (const e of entries as RangeEntry[]) if (e.getKey() === p && e.getIds().includes(v)) return e.getType();
    return kRestrictionNone;
  }
}

/** Decision bits for a TC string: kPrivacyGdprConsent when it consents to `vendorId`, else 0 or kPrivacyMalformedTcf. */
export function decodeTcf(consent: string, vendorId: number): number {
  if (consent.length > kMaxConsentChars) return kPrivacyMalformedTcf;
  try {
    const model = TCString.decode(consent);
    return tcfConsents(new TcModelView(model), vendorId) ? kPrivacyGdprConsent : 0;
  } catch {
    return kPrivacyMalformedTcf;
  }
}

/**
 * Decision bits for a GPP string under a sid key (gpp-sections.ts): kPrivacyGdprApplies
 * when tcfeuv2 applies, kPrivacyGdprConsent when that section consents to `vendorId`,
 * kPrivacyGppOptOut when an applicable US section (uspv1, usnat, a state) says opted out.
 * An applicable section the string lacks says nothing, except tcfeuv2: GDPR then applies
 * without a consent string, which is no consent.
 */
export function decodeGpp(gpp: string, sidKey: number, vendorId: number): number {
  const tcfListed = gppSectionApplies(sidKey, kGppSidTcfEuV2, false);
  const malformed = kPrivacyMalformedGpp | kPrivacyGppOptOut | (tcfListed ? kPrivacyGdprApplies : 0);
  if (gpp.length > kMaxConsentChars) return malformed;
  try {
    const model = new GppModel(gpp);
    let bits = 0;
    if (gppSectionApplies(sidKey, kGppSidTcfEuV2, model.hasSection(TCF_EU))) {
      bits |= kPrivacyGdprApplies;
      if (model.hasSection(TCF_EU) && tcfConsents(new GppTcfView(model), vendorId)) bits |= kPrivacyGdprConsent;
    }
    if (model.hasSection(USP_V1) && gppSectionApplies(sidKey, kGppSidUspV1, true)) {
      if (model.getFieldValue(USP_V1, 'OptOutSale') === 'Y') bits |= kPrivacyGppOptOut;
    }
    for (let i = 0; i < US_SECTIONS.length; i++) {
      const { sid, name } = US_SECTIONS[i];
      if (!model.hasSection(name) || !gppSectionApplies(sidKey, sid, true)) continue;
      for (const field of US_OPT_OUT_FIELDS) {
        if (model.hasField(name, field) && model.getFieldValue(name, field) === kOptedOut) bits |= kPrivacyGppOptOut;
      }
    }
    return bits;
  } catch {
    return malformed;
  }
}

/** Real strings made with the libraries' encoders: a TC string (8 vendors, purposes 1-4, 7) and GPP tcfeuv2 + uspv1 + usnat + usca. */
const WARM_TCF = 'CQumbsAQumbsAAKABAENBkFgAPIAAAAAAAAAF5wBoAAgAGAAoADIANAAtgLzAAAAAAAA.YAAAAAAAAAAA';
const WARM_GPP = 'DBACPbA~CQumbsAQumbsAAAAAAENAAFgAPAAAAAAAAAAF5wAoAAgAGAvMAAAAAAA.IAAA.YAAAAAAAAAAA~1YN-~CEAgAAAAAABA.QA~BAgAAABA.QA';
/** A vendor id both samples consent to, so the warm-up runs the whole consent check. */
const kWarmVendor = 755;
/** Decodes the samples this many times at start, so a worker's first consent string is not decoded by cold code. */
const kWarmRounds = 50;

function warm(): void {
  for (let i = 0; i < kWarmRounds; i++) {
    decodeTcf(WARM_TCF, kWarmVendor);
    decodeGpp(WARM_GPP, kGppSidUnspecified, kWarmVendor);
  }
}

export const consentDecoder: ConsentDecoder = { tcf: decodeTcf, gpp: decodeGpp, warm };

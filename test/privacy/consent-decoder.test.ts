/**
 * Consent strings to decisions with the IAB libraries (src/privacy/consent-decoder.ts), on
 * real strings made by the libraries' own encoders (fixtures/consent-strings.ts).
 */
import t from 'tap';
import { Sections } from '@iabgpp/cmpapi';
import { decodeGpp, decodeTcf, kMaxConsentChars } from '../../src/privacy/consent-decoder';
import { gppSidKey, kGppRelevantMask, kGppSidUnspecified, kGppUsSectionsMask } from '../../src/privacy/gpp-sections';
import {
  kPrivacyGdprApplies,
  kPrivacyGdprConsent,
  kPrivacyGppOptOut,
  kPrivacyMalformedGpp,
  kPrivacyMalformedTcf,
} from '../../src/privacy/privacy-bits';
import { kRestrictionNotAllowed, kRestrictionRequireConsent, kRestrictionRequireLegInt } from '../../src/privacy/tcf-rules';
import { gppString, gppTcf, OTHER_VENDOR, OUR_VENDOR, tcString } from './fixtures/consent-strings';

t.test('TCF: consent needs our vendor and purposes 1, 3 and 4', async (t) => {
  t.equal(decodeTcf(tcString(), OUR_VENDOR), kPrivacyGdprConsent, 'vendor and purposes 1-4: consent');
  t.equal(decodeTcf(tcString({ purposes: [1, 3, 4] }), OUR_VENDOR), kPrivacyGdprConsent, 'purpose 2 is not needed');
  t.equal(decodeTcf(tcString({ vendors: [OTHER_VENDOR] }), OUR_VENDOR), 0, 'our vendor missing: no consent');
  t.equal(decodeTcf(tcString({ vendors: [OUR_VENDOR, OTHER_VENDOR] }), OTHER_VENDOR), kPrivacyGdprConsent, 'the configured id is the one checked');
  for (const missing of [1, 3, 4]) {
    const purposes = [1, 2, 3, 4].filter((p) => p !== missing);
    t.equal(decodeTcf(tcString({ purposes }), OUR_VENDOR), 0, `purpose ${missing} missing: no consent`);
  }
  t.equal(decodeTcf(tcString(), 0), 0, 'vendor id 0 (none): never consent');
});

t.test('TCF: legitimate interest never stands in for consent to 1, 3, 4', async (t) => {
  t.equal(decodeTcf(tcString({ purposes: [1], legIntPurposes: [3, 4] }), OUR_VENDOR), 0);
});

t.test('TCF: publisher restrictions on a required purpose', async (t) => {
  t.equal(decodeTcf(tcString({ restrictions: [[3, kRestrictionNotAllowed, OUR_VENDOR]] }), OUR_VENDOR), 0, 'not allowed: denied');
  t.equal(decodeTcf(tcString({ restrictions: [[4, kRestrictionRequireLegInt, OUR_VENDOR]] }), OUR_VENDOR), 0, 'require LI: cannot be met');
  t.equal(decodeTcf(tcString({ restrictions: [[3, kRestrictionRequireConsent, OUR_VENDOR]] }), OUR_VENDOR), kPrivacyGdprConsent, 'require consent: we have it');
  t.equal(
    decodeTcf(tcString({ vendors: [OUR_VENDOR, OTHER_VENDOR], restrictions: [[3, kRestrictionNotAllowed, OTHER_VENDOR]] }), OUR_VENDOR),
    kPrivacyGdprConsent,
    "another vendor's restriction is not ours",
  );
});

t.test('TCF: a malformed string is no consent and never throws', async (t) => {
  const good = tcString();
  const bad = ['', 'not-a-tc-string', '!!!!', 'COw', good.slice(0, 10), 'a.b.c', '...', 'BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA' /* TCF v1 */, 'C'.repeat(kMaxConsentChars + 1)];
  for (const s of bad) t.equal(decodeTcf(s, OUR_VENDOR), kPrivacyMalformedTcf, JSON.stringify(s.slice(0, 40)));
});

const ALL = kGppSidUnspecified;

t.test('GPP: the tcfeuv2 section carries the TCF consent', async (t) => {
  const consenting = gppString({ tcfeuv2: gppTcf() });
  t.equal(decodeGpp(consenting, gppSidKey([2]), OUR_VENDOR), kPrivacyGdprApplies | kPrivacyGdprConsent);
  t.equal(decodeGpp(consenting, ALL, OUR_VENDOR), kPrivacyGdprApplies | kPrivacyGdprConsent, 'no gpp_sid: what the string carries applies');
  t.equal(decodeGpp(gppString({ tcfeuv2: gppTcf([OTHER_VENDOR]) }), gppSidKey([2]), OUR_VENDOR), kPrivacyGdprApplies, 'vendor missing');
  t.equal(decodeGpp(gppString({ tcfeuv2: gppTcf([OUR_VENDOR], [1, 2, 4]) }), gppSidKey([2]), OUR_VENDOR), kPrivacyGdprApplies, 'purpose 3 missing');
  t.equal(decodeGpp(consenting, gppSidKey([7]), OUR_VENDOR), 0, 'tcfeuv2 present but not in gpp_sid: GDPR does not apply through GPP');
  t.equal(decodeGpp(consenting, gppSidKey([2]), 0), kPrivacyGdprApplies, 'vendor id 0: no consent');
  const usOnly = gppString({ usnat: { SaleOptOutNotice: 1, SaleOptOut: 2 } });
  t.equal(decodeGpp(usOnly, gppSidKey([2]), OUR_VENDOR), kPrivacyGdprApplies, 'listed but absent: GDPR with no consent string');
});

t.test('GPP: US sections opt out with SaleOptOut, SharingOptOut or TargetedAdvertisingOptOut = 1', async (t) => {
  const usnat = (f: Record<string, number>) => gppString({ usnat: { SaleOptOutNotice: 1, SharingOptOutNotice: 1, TargetedAdvertisingOptOutNotice: 1, ...f } });
  t.equal(decodeGpp(usnat({ SaleOptOut: 1 }), gppSidKey([7]), OUR_VENDOR), kPrivacyGppOptOut, 'sale');
  t.equal(decodeGpp(usnat({ SharingOptOut: 1 }), gppSidKey([7]), OUR_VENDOR), kPrivacyGppOptOut, 'sharing');
  t.equal(decodeGpp(usnat({ TargetedAdvertisingOptOut: 1 }), gppSidKey([7]), OUR_VENDOR), kPrivacyGppOptOut, 'targeted advertising');
  t.equal(decodeGpp(usnat({ SaleOptOut: 2, SharingOptOut: 2, TargetedAdvertisingOptOut: 2 }), gppSidKey([7]), OUR_VENDOR), 0, '2 = did not opt out');
  t.equal(decodeGpp(usnat({}), gppSidKey([7]), OUR_VENDOR), 0, '0 = not applicable');
  t.equal(decodeGpp(gppString({ usca: { SaleOptOutNotice: 1, SaleOptOut: 1 } }), gppSidKey([8]), OUR_VENDOR), kPrivacyGppOptOut, 'a state section (usca)');
  t.equal(decodeGpp(gppString({ usva: { TargetedAdvertisingOptOutNotice: 1, TargetedAdvertisingOptOut: 1 } }), gppSidKey([9]), OUR_VENDOR), kPrivacyGppOptOut, 'usva');
  t.equal(decodeGpp(gppString({ uspv1: { Notice: 'Y', OptOutSale: 'Y' } }), gppSidKey([6]), OUR_VENDOR), kPrivacyGppOptOut, 'uspv1 OptOutSale Y');
  t.equal(decodeGpp(gppString({ uspv1: { Notice: 'Y', OptOutSale: 'N' } }), gppSidKey([6]), OUR_VENDOR), 0, 'uspv1 OptOutSale N');
});

t.test('GPP: only the sections in gpp_sid apply', async (t) => {
  const s = gppString({ usnat: { SaleOptOutNotice: 1, SaleOptOut: 1 }, usca: { SaleOptOutNotice: 1, SaleOptOut: 2 } });
  t.equal(decodeGpp(s, gppSidKey([7]), OUR_VENDOR), kPrivacyGppOptOut, 'usnat applies');
  t.equal(decodeGpp(s, gppSidKey([8]), OUR_VENDOR), 0, 'only usca applies');
  t.equal(decodeGpp(s, ALL, OUR_VENDOR), kPrivacyGppOptOut, 'no gpp_sid: every section present applies');
  t.equal(decodeGpp(s, gppSidKey([2, 6]), OUR_VENDOR), kPrivacyGdprApplies, 'tcfeuv2 listed, not present; uspv1 listed, not present');
});

t.test('GPP: a malformed string is an opt-out and never throws', async (t) => {
  for (const s of ['xyz', 'DBABM', 'DBACNY~garbage', 'DBABL~garbage', 'DB', 'D', 'DBABMA~!!', 'D'.repeat(kMaxConsentChars + 1)]) {
    t.equal(decodeGpp(s, gppSidKey([7]), OUR_VENDOR), kPrivacyMalformedGpp | kPrivacyGppOptOut, JSON.stringify(s.slice(0, 20)));
  }
  t.equal(decodeGpp('DBABM', gppSidKey([2]), OUR_VENDOR), kPrivacyMalformedGpp | kPrivacyGppOptOut | kPrivacyGdprApplies, 'tcfeuv2 listed: GDPR applies, no consent');
});

t.test('section ids agree with the library', async (t) => {
  const ids = [...Sections.SECTION_ID_NAME_MAP.entries()];
  const us = ids.filter(([, name]) => name.startsWith('us') && name !== 'uspv1').map(([id]) => id);
  const mask = us.reduce((m, id) => m | (1 << id), 0) >>> 0;
  t.equal(kGppUsSectionsMask, mask, 'every US state section the library knows, and no other');
  t.equal(Sections.SECTION_ID_NAME_MAP.get(2), 'tcfeuv2');
  t.equal(Sections.SECTION_ID_NAME_MAP.get(6), 'uspv1');
  t.equal((kGppRelevantMask & (1 << 5)) >>> 0, 0, 'tcfcav1 (Canada) is not read');
});

t.test('gppSidKey', async (t) => {
  t.equal(gppSidKey(undefined), kGppSidUnspecified);
  t.equal(gppSidKey('7'), kGppSidUnspecified, 'not an array: as if absent');
  t.equal(gppSidKey([]), 0, 'empty: no section applies');
  t.equal(gppSidKey([7, 7, 2]), ((1 << 7) | (1 << 2)) >>> 0);
  t.equal(gppSidKey([3, 4, 5, 99, -1, 7.5, '7']), 0, 'header, signal integrity, Canada, out of range, fractions, strings are ignored');
});

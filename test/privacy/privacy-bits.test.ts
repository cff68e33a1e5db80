/** What privacy bits allow, and the one signal a request is counted under (src/privacy/privacy-bits.ts). */
import t from 'tap';
import {
  ifaAllowed,
  kPrivacyCoppa,
  kPrivacyGdprApplies,
  kPrivacyGdprConsent,
  kPrivacyGppOptOut,
  kPrivacyLimitedTracking,
  kPrivacyMalformedTcf,
  kPrivacyUspOptOut,
  primarySignal,
  PRIVACY_SIGNALS,
  userDataAllowed,
} from '../../src/privacy/privacy-bits';

const cases: [string, number, boolean, boolean, string][] = [
  // name, bits, user data, IFA, signal
  ['nothing', 0, true, true, 'none'],
  ['gdpr with consent', kPrivacyGdprApplies | kPrivacyGdprConsent, true, true, 'gdpr_consent'],
  ['gdpr without consent', kPrivacyGdprApplies, false, false, 'gdpr_no_consent'],
  ['malformed tc string', kPrivacyGdprApplies | kPrivacyMalformedTcf, false, false, 'gdpr_no_consent'],
  ['consent bit without gdpr is meaningless', kPrivacyGdprConsent, true, true, 'none'],
  ['coppa', kPrivacyCoppa, false, false, 'coppa'],
  ['coppa beats consent', kPrivacyCoppa | kPrivacyGdprApplies | kPrivacyGdprConsent, false, false, 'coppa'],
  ['usp opt-out', kPrivacyUspOptOut, false, false, 'us_privacy_opt_out'],
  ['gpp opt-out', kPrivacyGppOptOut, false, false, 'gpp_opt_out'],
  ['usp beats gpp', kPrivacyUspOptOut | kPrivacyGppOptOut, false, false, 'us_privacy_opt_out'],
  ['no consent beats usp', kPrivacyGdprApplies | kPrivacyUspOptOut, false, false, 'gdpr_no_consent'],
  ['lmt', kPrivacyLimitedTracking, true, false, 'lmt'],
  ['lmt beats gdpr consent', kPrivacyLimitedTracking | kPrivacyGdprApplies | kPrivacyGdprConsent, true, false, 'lmt'],
  ['opt-out beats lmt', kPrivacyLimitedTracking | kPrivacyGppOptOut, false, false, 'gpp_opt_out'],
];

for (const [name, bits, user, ifa, signal] of cases) {
  t.test(name, async (t) => {
    t.equal(userDataAllowed(bits), user, 'user data');
    t.equal(ifaAllowed(bits), ifa, 'IFA');
    t.equal(PRIVACY_SIGNALS[primarySignal(bits)], signal, 'signal');
  });
}

t.test('the signal list is the fixed label set', async (t) => {
  t.same([...PRIVACY_SIGNALS], ['none', 'coppa', 'gdpr_consent', 'gdpr_no_consent', 'us_privacy_opt_out', 'gpp_opt_out', 'lmt']);
});

/**
 * From a request's privacy signals to its privacy bits (src/privacy/consent-resolver.ts):
 * which fields are read, what they mean, that each string is decoded once per thread and
 * cache bound, and that 'defer' mode never decodes.
 */
import t from 'tap';
import { ConsentResolver, uspBits, type ConsentDecoder, type ConsentMode } from '../../src/privacy/consent-resolver';
import { allocateConsentTable, ConsentTable } from '../../src/privacy/consent-table';
import { gppSidKey, kGppSidUnspecified } from '../../src/privacy/gpp-sections';
import {
  ifaAllowed,
  kPrivacyCoppa,
  kPrivacyDeferred,
  kPrivacyGdprApplies,
  kPrivacyGdprConsent,
  kPrivacyGppOptOut,
  kPrivacyLimitedTracking,
  kPrivacyMalformedUsp,
  kPrivacyUspOptOut,
  primarySignal,
  PRIVACY_SIGNALS,
  userDataAllowed,
} from '../../src/privacy/privacy-bits';
import type { BidRequest } from '../../src/openrtb/types';
import { gppString, gppTcf, OTHER_VENDOR, OUR_VENDOR, tcString } from './fixtures/consent-strings';

/** A decoder that answers from a table and counts its calls. */
class FakeDecoder implements ConsentDecoder {
  readonly calls: string[] = [];
  constructor(private readonly tcfAnswer = kPrivacyGdprConsent, private readonly gppAnswer = kPrivacyGppOptOut) {}
  tcf(consent: string): number {
    this.calls.push(`tcf:${consent}`);
    return this.tcfAnswer;
  }
  gpp(gpp: string, sidKey: number): number {
    this.calls.push(`gpp:${gpp}:${sidKey}`);
    return this.gppAnswer;
  }
  warm(): void {}
}

/** A decoder that must never be called. */
const NEVER: ConsentDecoder = {
  tcf: () => { throw new Error('decoded in defer mode'); },
  gpp: () => { throw new Error('decoded in defer mode'); },
  warm: () => { throw new Error('warmed in defer mode'); },
};

function resolver(opts: { mode?: ConsentMode; decoder?: ConsentDecoder; table?: ConsentTable | null; vendorId?: number; entries?: number } = {}): ConsentResolver {
  return new ConsentResolver({
    vendorId: opts.vendorId ?? OUR_VENDOR,
    cacheEntries: opts.entries ?? 16,
    mode: opts.mode ?? 'decode',
    table: opts.table ?? null,
    decoder: opts.decoder,
  });
}

function req(extra: Partial<BidRequest> & Record<string, unknown>): BidRequest {
  return { id: 'r', imp: [{ id: '1', banner: { w: 300, h: 250 } }], ...extra } as BidRequest;
}

t.test('no signal: nothing restricted', async (t) => {
  const bits = resolver({ decoder: NEVER }).resolve(req({}));
  t.equal(bits, 0);
  t.ok(userDataAllowed(bits) && ifaAllowed(bits));
  t.equal(PRIVACY_SIGNALS[primarySignal(bits)], 'none');
});

t.test('COPPA: no user data, and no string is decoded', async (t) => {
  const bits = resolver({ decoder: NEVER }).resolve(req({ regs: { coppa: 1, gdpr: 1, gpp: 'DBABMA~x', gpp_sid: [2] }, user: { consent: 'C' } as never }));
  t.equal(bits & kPrivacyCoppa, kPrivacyCoppa);
  t.notOk(userDataAllowed(bits));
  t.equal(PRIVACY_SIGNALS[primarySignal(bits)], 'coppa');
});

t.test('GDPR: consent string from user.consent or 2.5 user.ext.consent; none means no consent', async (t) => {
  const dec = new FakeDecoder();
  const r = resolver({ decoder: dec });
  t.equal(r.resolve(req({ regs: { gdpr: 1 }, user: { consent: 'A' } as never })), kPrivacyGdprApplies | kPrivacyGdprConsent);
  t.equal(r.resolve(req({ regs: { ext: { gdpr: 1 } }, user: { ext: { consent: 'B' } } })), kPrivacyGdprApplies | kPrivacyGdprConsent, '2.5 ext fields');
  const none = r.resolve(req({ regs: { gdpr: 1 } }));
  t.equal(none, kPrivacyGdprApplies, 'no string: GDPR applies without consent');
  t.notOk(userDataAllowed(none));
  t.equal(PRIVACY_SIGNALS[primarySignal(none)], 'gdpr_no_consent');
  t.equal(r.resolve(req({ regs: { gdpr: 0 }, user: { consent: 'C' } as never })), 0, 'gdpr 0: the string is not read');
  t.equal(r.resolve(req({ regs: { gdpr: 0, ext: { gdpr: 1 } }, user: { consent: 'C' } as never })), 0, 'regs.gdpr wins over regs.ext.gdpr');
  t.same(dec.calls, ['tcf:A', 'tcf:B']);
});

t.test('gpp_sid listing tcfeuv2 without a GPP string: GDPR applies, consent only from user.consent', async (t) => {
  const dec = new FakeDecoder();
  const r = resolver({ decoder: dec });
  const none = r.resolve(req({ regs: { gpp_sid: [2] } as never }));
  t.equal(none, kPrivacyGdprApplies, 'no string anywhere: GDPR without consent');
  t.notOk(userDataAllowed(none));
  t.equal(r.resolve(req({ regs: { gpp_sid: [2] } as never, user: { consent: 'A' } as never })), kPrivacyGdprApplies | kPrivacyGdprConsent, 'a TC string in user.consent');
  t.equal(r.resolve(req({ regs: { gpp_sid: [7] } as never })), 0, 'another section listed: nothing applies without its string');
});

t.test('GDPR without a vendor id: never consent, nothing decoded', async (t) => {
  const bits = resolver({ vendorId: 0, decoder: NEVER }).resolve(req({ regs: { gdpr: 1 }, user: { consent: tcString() } as never }));
  t.equal(bits, kPrivacyGdprApplies);
});

t.test('US privacy: the third character Y opts out; 2.5 regs.ext.us_privacy; malformed counts as an opt-out', async (t) => {
  t.equal(uspBits('1YYN'), kPrivacyUspOptOut);
  t.equal(uspBits('1yyn'), kPrivacyUspOptOut, 'case-insensitive');
  t.equal(uspBits('1YNN'), 0);
  t.equal(uspBits('1NNY'), 0, 'LSPA is not an opt-out');
  t.equal(uspBits('1---'), 0, 'not applicable');
  for (const bad of ['1YY', '2YYN', '1YXN', '1YYNN', 'YYN1']) t.equal(uspBits(bad), kPrivacyUspOptOut | kPrivacyMalformedUsp, bad);
  const r = resolver({ decoder: NEVER });
  t.equal(r.resolve(req({ regs: { us_privacy: '1YYN' } })), kPrivacyUspOptOut);
  t.equal(r.resolve(req({ regs: { ext: { us_privacy: '1YYN' } } })), kPrivacyUspOptOut);
  t.equal(r.resolve(req({ regs: { us_privacy: '' } })), 0, 'empty: absent');
  t.equal(PRIVACY_SIGNALS[primarySignal(kPrivacyUspOptOut)], 'us_privacy_opt_out');
});

t.test('lmt / dnt: user data allowed, the IFA not', async (t) => {
  const r = resolver({ decoder: NEVER });
  for (const device of [{ lmt: 1 }, { dnt: 1 }]) {
    const bits = r.resolve(req({ device }));
    t.equal(bits, kPrivacyLimitedTracking);
    t.ok(userDataAllowed(bits));
    t.notOk(ifaAllowed(bits));
    t.equal(PRIVACY_SIGNALS[primarySignal(bits)], 'lmt');
  }
  t.equal(r.resolve(req({ device: { lmt: 0, dnt: 0 } })), 0);
});

t.test('GPP: decision per (string, gpp_sid); tcfeuv2 makes GDPR apply; user.consent wins over the GPP TCF section', async (t) => {
  const dec = new FakeDecoder(0, kPrivacyGdprApplies | kPrivacyGdprConsent);
  const r = resolver({ decoder: dec });
  t.equal(r.resolve(req({ regs: { gpp: 'G1', gpp_sid: [2] } })), kPrivacyGdprApplies | kPrivacyGdprConsent, "GPP's TCF consent");
  t.equal(r.resolve(req({ regs: { gpp: 'G1', gpp_sid: [2] } })), kPrivacyGdprApplies | kPrivacyGdprConsent, 'cached');
  t.equal(r.resolve(req({ regs: { gpp: 'G1', gpp_sid: [2] }, user: { consent: 'T' } as never })), kPrivacyGdprApplies, 'user.consent (no consent) wins');
  r.resolve(req({ regs: { gpp: 'G1', gpp_sid: [2, 7] } }));
  r.resolve(req({ regs: { gpp: 'G1' } }));
  t.equal(r.resolve(req({ regs: { gpp: 'G1', gpp_sid: [] } })), 0, 'empty gpp_sid: nothing applies, nothing decoded');
  t.equal(r.resolve(req({ regs: { gpp: 'G1', gpp_sid: [3, 4] } })), 0, 'only sections we do not read: nothing decoded');
  t.same(dec.calls, [`gpp:G1:${gppSidKey([2])}`, 'tcf:T', `gpp:G1:${gppSidKey([2, 7])}`, `gpp:G1:${kGppSidUnspecified}`]);
  t.equal(PRIVACY_SIGNALS[primarySignal(kPrivacyGppOptOut)], 'gpp_opt_out');
});

t.test('each thread decodes a string once, within its cache bound', async (t) => {
  const dec = new FakeDecoder();
  const r = resolver({ decoder: dec, entries: 2 });
  const gdpr = (consent: string) => req({ regs: { gdpr: 1 }, user: { consent } as never });
  for (const c of ['A', 'A', 'B', 'A', 'B']) r.resolve(gdpr(c));
  t.same(dec.calls, ['tcf:A', 'tcf:B'], 'hits do not decode');
  r.resolve(gdpr('C')); // evicts A, the oldest
  r.resolve(gdpr('B'));
  r.resolve(gdpr('A'));
  t.same(dec.calls, ['tcf:A', 'tcf:B', 'tcf:C', 'tcf:A'], 'bounded: the oldest entry went first');
});

t.test('defer mode: never decodes; answers from the shared table a decoding thread filled', async (t) => {
  const table = new ConsentTable(allocateConsentTable(64));
  const inline = resolver({ mode: 'defer', decoder: NEVER, table });
  const worker = resolver({ mode: 'decode', table });
  const consented = tcString();
  const gdpr = req({ regs: { gdpr: 1 }, user: { consent: consented } as never });
  const gpp = req({ regs: { gpp: gppString({ usnat: { SaleOptOutNotice: 1, SaleOptOut: 1 } }), gpp_sid: [7] } });
  t.equal(inline.resolve(gdpr), kPrivacyDeferred, 'unknown TC string: deferred');
  t.equal(inline.resolve(gpp), kPrivacyDeferred, 'unknown GPP string: deferred');
  t.equal(inline.resolve(req({ regs: { us_privacy: '1YYN', gdpr: 0 } })), kPrivacyUspOptOut, 'no string to decode: never deferred');
  t.equal(worker.resolve(gdpr), kPrivacyGdprApplies | kPrivacyGdprConsent, 'the worker decodes (real decoder) and publishes');
  t.equal(worker.resolve(gpp), kPrivacyGppOptOut);
  t.equal(inline.resolve(gdpr), kPrivacyGdprApplies | kPrivacyGdprConsent, 'the lane finds the TC decision');
  t.equal(inline.resolve(gpp), kPrivacyGppOptOut, 'and the GPP one');
  const otherSid = req({ regs: { gpp: (gpp.regs as { gpp: string }).gpp, gpp_sid: [8] } });
  t.equal(inline.resolve(otherSid), kPrivacyDeferred, 'the same GPP string under another gpp_sid is another key');
  t.equal(inline.mode, 'defer');
});

t.test('a deferred request makes the worker publish again what the table lost', async (t) => {
  const buffer = allocateConsentTable(64);
  const table = new ConsentTable(buffer);
  const inline = resolver({ mode: 'defer', decoder: NEVER, table });
  const dec = new FakeDecoder();
  const worker = resolver({ mode: 'decode', decoder: dec, table });
  const gdpr = req({ regs: { gdpr: 1, gpp: 'G', gpp_sid: [7] }, user: { consent: 'T' } as never });
  worker.resolve(gdpr);
  t.not(inline.resolve(gdpr), kPrivacyDeferred, 'published');
  new Int32Array(buffer).fill(0); // the table lost both entries; the worker's cache did not
  const fresh = () => resolver({ mode: 'defer', decoder: NEVER, table }); // a lane that has not cached them
  t.equal(fresh().resolve(gdpr), kPrivacyDeferred);
  worker.resolve(gdpr);
  t.equal(fresh().resolve(gdpr), kPrivacyDeferred, 'a plain cache hit does not touch the table');
  worker.resolve(gdpr, true);
  t.equal(fresh().resolve(gdpr), kPrivacyGdprApplies | kPrivacyGdprConsent | kPrivacyGppOptOut, 'republished, both strings');
  t.equal(dec.calls.length, 2, 'from cache: nothing decoded twice');
});

t.test('the shared table keeps vendor ids apart', async (t) => {
  const table = new ConsentTable(allocateConsentTable(64));
  const s = tcString({ vendors: [OUR_VENDOR] });
  const gdpr = req({ regs: { gdpr: 1 }, user: { consent: s } as never });
  t.equal(resolver({ table }).resolve(gdpr), kPrivacyGdprApplies | kPrivacyGdprConsent);
  t.equal(resolver({ table, mode: 'defer', vendorId: OTHER_VENDOR }).resolve(gdpr), kPrivacyDeferred, "OUR_VENDOR's decision is not OTHER_VENDOR's");
  t.equal(resolver({ table, vendorId: OTHER_VENDOR }).resolve(gdpr), kPrivacyGdprApplies, 'decoded for OTHER_VENDOR: no consent');
});

t.test('real strings end to end, malformed ones included, never throw', async (t) => {
  const r = resolver();
  const gdpr = (consent: string) => r.resolve(req({ regs: { gdpr: 1 }, user: { consent } as never }));
  t.ok(userDataAllowed(gdpr(tcString())), 'consent');
  t.notOk(userDataAllowed(gdpr(tcString({ vendors: [OTHER_VENDOR] }))), 'vendor missing');
  t.notOk(userDataAllowed(gdpr(tcString({ purposes: [1, 3] }))), 'purpose 4 missing');
  t.notOk(userDataAllowed(gdpr('%%%')), 'malformed');
  t.ok(userDataAllowed(r.resolve(req({ regs: { gpp: gppString({ tcfeuv2: gppTcf() }), gpp_sid: [2] } }))), 'GPP TCF consent');
  t.notOk(userDataAllowed(r.resolve(req({ regs: { gpp: 'DBABM~junk', gpp_sid: [7] } }))), 'malformed GPP');
  t.equal(r.resolve(req({ regs: { gpp: 42, gpp_sid: 'x' } as never })), 0, 'a gpp that is not a string is absent');
});

t.test('options are checked once, at construction', async (t) => {
  t.throws(() => resolver({ vendorId: -1 }), /vendor id/);
  t.throws(() => resolver({ vendorId: 70_000 }), /vendor id/);
  t.throws(() => new ConsentResolver({ vendorId: 1, cacheEntries: 0, mode: 'decode', table: null, decoder: NEVER }), /capacity/);
  t.throws(() => new ConsentResolver({ vendorId: 1, cacheEntries: 4, mode: 'inline' as ConsentMode, table: null }), /consent mode/);
});

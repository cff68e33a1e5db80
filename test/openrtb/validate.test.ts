import fc from 'fast-check';
import t from 'tap';
import { validateBidRequest, MAX_IMPS } from '../../src/openrtb/validate';

const base = () => ({
  id: 'r',
  imp: [{ id: '1', banner: { format: [{ w: 300, h: 250 }] } }] as Record<string, unknown>[],
  site: { id: 's' } as Record<string, unknown>,
} as Record<string, any>);

function expectErr(t: Tap, mutate: (r: Record<string, any>) => void, code: string, field?: string) {
  const r = base();
  mutate(r);
  const e = validateBidRequest(r);
  t.equal(e?.code, code, code + ' ' + (field ?? ''));
  if (field !== undefined) t.equal(e?.field, field);
  if (e && field !== undefined) t.ok(e.message.startsWith(field + ': '), 'message names the field: ' + e.message);
}
type Tap = Pick<typeof t, "equal" | "ok">;

t.equal(validateBidRequest(base()), null, 'base request is valid');

t.test('request id', (t) => {
  expectErr(t, (r) => delete r.id, 'MISSING_FIELD', 'id');
  expectErr(t, (r) => (r.id = null), 'MISSING_FIELD', 'id');
  expectErr(t, (r) => (r.id = 5), 'INVALID_TYPE', 'id');
  expectErr(t, (r) => (r.id = ''), 'INVALID_VALUE', 'id');
  t.end();
});

t.test('imp array', (t) => {
  expectErr(t, (r) => delete r.imp, 'MISSING_FIELD', 'imp');
  expectErr(t, (r) => (r.imp = {}), 'INVALID_TYPE', 'imp');
  expectErr(t, (r) => (r.imp = []), 'EMPTY_IMP', 'imp');
  expectErr(t, (r) => (r.imp = Array.from({ length: MAX_IMPS + 1 }, (_, i) => ({ id: String(i), banner: {} }))), 'TOO_MANY_IMPS', 'imp');
  expectErr(t, (r) => r.imp.push(null), 'INVALID_TYPE', 'imp[1]');
  t.end();
});

t.test('imp ids', (t) => {
  expectErr(t, (r) => delete r.imp[0].id, 'MISSING_FIELD', 'imp[0].id');
  expectErr(t, (r) => (r.imp[0].id = 1), 'INVALID_TYPE', 'imp[0].id');
  expectErr(t, (r) => (r.imp[0].id = ''), 'INVALID_VALUE', 'imp[0].id');
  expectErr(t, (r) => r.imp.push({ id: '1', video: {} }), 'DUPLICATE_IMP_ID', 'imp[1].id');
  const e = validateBidRequest({ ...base(), imp: [{ id: '1', banner: {} }, { id: '1', banner: {} }] });
  t.equal(e?.message, 'imp[1].id: duplicate imp id "1"');
  const many = Array.from({ length: 50 }, (_, i) => ({ id: String(i), banner: {} }));
  many.push({ id: '7', banner: {} });
  t.equal(validateBidRequest({ id: 'r', imp: many })?.field, 'imp[50].id', 'set path for many imps');
  t.end();
});

t.test('media objects', (t) => {
  expectErr(t, (r) => (r.imp[0].banner = []), 'INVALID_TYPE', 'imp[0].banner');
  expectErr(t, (r) => (r.imp[0].video = 'x'), 'INVALID_TYPE', 'imp[0].video');
  expectErr(t, (r) => (r.imp[0].audio = 1), 'INVALID_TYPE', 'imp[0].audio');
  expectErr(t, (r) => (r.imp[0].native = true), 'INVALID_TYPE', 'imp[0].native');
  expectErr(t, (r) => (r.imp[0].banner.format = [{ w: 300, h: '250' }]), 'INVALID_TYPE', 'imp[0].banner.format[0].h');
  expectErr(t, (r) => (r.imp[0].banner.format = [{ w: 300, h: 250 }, 5]), 'INVALID_TYPE', 'imp[0].banner.format[1]');
  expectErr(t, (r) => (r.imp[0].banner.battr = [1, 'x']), 'INVALID_TYPE', 'imp[0].banner.battr[1]');
  expectErr(t, (r) => (r.imp[0].banner.battr = [1.5]), 'INVALID_VALUE', 'imp[0].banner.battr[0]');
  expectErr(t, (r) => (r.imp[0].video = { mimes: 'video/mp4' }), 'INVALID_TYPE', 'imp[0].video.mimes');
  expectErr(t, (r) => (r.imp[0].native = { request: 1 }), 'INVALID_TYPE', 'imp[0].native.request');
  const noMedia = { id: 'r', imp: [{ id: '1' }] };
  t.equal(validateBidRequest(noMedia), null, 'an imp without media is valid (no spec MUST), just not biddable');
  const nativeObj = { id: 'r', imp: [{ id: '1', native: { request: { ver: '1.2', assets: [] } } }] };
  t.equal(validateBidRequest(nativeObj), null, 'native.request object tolerated');
  t.equal(nativeObj.imp[0].native.request as unknown, '{"ver":"1.2","assets":[]}', 'and re-encoded to a string');
  t.end();
});

t.test('floors and currencies', (t) => {
  expectErr(t, (r) => (r.imp[0].bidfloor = -1), 'INVALID_VALUE', 'imp[0].bidfloor');
  expectErr(t, (r) => (r.imp[0].bidfloor = '1'), 'INVALID_TYPE', 'imp[0].bidfloor');
  expectErr(t, (r) => (r.imp[0].bidfloorcur = 'US1'), 'INVALID_VALUE', 'imp[0].bidfloorcur');
  expectErr(t, (r) => (r.cur = 'USD'), 'INVALID_TYPE', 'cur');
  expectErr(t, (r) => (r.cur = ['USD', 'DOLLAR']), 'INVALID_VALUE', 'cur[1]');
  const ok = base();
  ok.imp[0].bidfloor = 0;
  ok.cur = ['usd', 'EUR'];
  t.equal(validateBidRequest(ok), null, 'zero floor and lower-case currency are fine');
  t.end();
});

t.test('request-level types', (t) => {
  expectErr(t, (r) => (r.tmax = 0), 'INVALID_VALUE', 'tmax');
  expectErr(t, (r) => (r.tmax = 10.5), 'INVALID_VALUE', 'tmax');
  expectErr(t, (r) => (r.tmax = '100'), 'INVALID_TYPE', 'tmax');
  expectErr(t, (r) => (r.bcat = 'IAB1'), 'INVALID_TYPE', 'bcat');
  expectErr(t, (r) => (r.badv = ['a.com', 1]), 'INVALID_TYPE', 'badv[1]');
  expectErr(t, (r) => (r.bapp = [{}]), 'INVALID_TYPE', 'bapp[0]');
  expectErr(t, (r) => (r.wlang = [true]), 'INVALID_TYPE', 'wlang[0]');
  expectErr(t, (r) => (r.at = '1'), 'INVALID_TYPE', 'at');
  t.end();
});

t.test('site, app, dooh', (t) => {
  expectErr(t, (r) => (r.app = { bundle: 'x' }), 'SITE_AND_APP', 'app');
  expectErr(t, (r) => (r.dooh = { id: 'x' }), 'SITE_AND_APP', 'dooh');
  expectErr(t, (r) => (r.site = 'x'), 'INVALID_TYPE', 'site');
  expectErr(t, (r) => (r.site = { publisher: [] }), 'INVALID_TYPE', 'site.publisher');
  expectErr(t, (r) => (r.site = { content: { cat: 'IAB1' } }), 'INVALID_TYPE', 'site.content.cat');
  expectErr(t, (r) => { delete r.site; r.app = { bundle: 1 }; }, 'INVALID_TYPE', 'app.bundle');
  t.end();
});

t.test('device, user, regs, source', (t) => {
  expectErr(t, (r) => (r.device = []), 'INVALID_TYPE', 'device');
  expectErr(t, (r) => (r.device = { devicetype: '4' }), 'INVALID_TYPE', 'device.devicetype');
  expectErr(t, (r) => (r.device = { geo: { lon: 'x' } }), 'INVALID_TYPE', 'device.geo.lon');
  expectErr(t, (r) => (r.user = { yob: 'x' }), 'INVALID_TYPE', 'user.yob');
  expectErr(t, (r) => (r.user = { data: [{ segment: 'x' }] }), 'INVALID_TYPE', 'user.data[0].segment');
  expectErr(t, (r) => (r.regs = { gdpr: '1' }), 'INVALID_TYPE', 'regs.gdpr');
  expectErr(t, (r) => (r.source = 1), 'INVALID_TYPE', 'source');
  t.end();
});

t.test('deals', (t) => {
  expectErr(t, (r) => (r.imp[0].pmp = { deals: [{}] }), 'MISSING_FIELD', 'imp[0].pmp.deals[0].id');
  expectErr(t, (r) => (r.imp[0].pmp = { deals: [{ id: 3 }] }), 'INVALID_TYPE', 'imp[0].pmp.deals[0].id');
  expectErr(t, (r) => (r.imp[0].pmp = { deals: [{ id: 'd', bidfloor: -2 }] }), 'INVALID_VALUE', 'imp[0].pmp.deals[0].bidfloor');
  expectErr(t, (r) => (r.imp[0].pmp = { deals: 'd' }), 'INVALID_TYPE', 'imp[0].pmp.deals');
  t.end();
});

t.test('tolerance: unknown fields, ext, nulls', (t) => {
  const r = base();
  r.ext = { anything: [1, { deep: { deeper: null } }] };
  r.imp[0].ext = 'even a string';
  r.imp[0].banner.ext = 5;
  r.newfield = { a: 1 };
  r.device = { ua: 'x', geo: null };
  r.bcat = null;
  t.equal(validateBidRequest(r), null);
  t.equal(r.bcat, undefined, 'null rewritten to absent');
  t.equal(r.device.geo, undefined, 'nested null rewritten to absent');
  t.end();
});

// checkFields walks an object's own keys and, on a problem, checks again in spec order
// (validate.ts): whatever the key order, the problem reported must be the first in spec order.
t.test('two wrong fields: the first in spec order is reported, whatever the object order', (t) => {
  const cases: [string, Record<string, unknown>, string][] = [
    // REQUEST_FIELDS lists test before tmax, tmax before cur.
    ['request', { cur: 5, tmax: 'x', test: 'y' }, 'test'],
    ['request', { cur: 5, tmax: 'x' }, 'tmax'],
  ];
  for (const [, extra, field] of cases) {
    const forward = { ...base(), ...extra };
    const reversed: Record<string, unknown> = { ...base() };
    for (const k of Object.keys(extra).reverse()) reversed[k] = extra[k];
    t.equal(validateBidRequest(forward)?.field, field, 'object order ' + Object.keys(extra).join(','));
    t.equal(validateBidRequest(reversed)?.field, field, 'object order ' + Object.keys(extra).reverse().join(','));
  }
  // Nested: BANNER_FIELDS lists w before h before pos; IMP_FIELDS bidfloor before secure.
  const r = base();
  r.imp[0] = { secure: 'x', bidfloor: -1, id: '1', banner: { pos: 'p', h: 'h', w: 'w' } };
  t.equal(validateBidRequest(r)?.field, 'imp[0].bidfloor');
  const r2 = base();
  r2.imp[0] = { id: '1', banner: { pos: 'p', h: 'h', w: 'w' } };
  t.equal(validateBidRequest(r2)?.field, 'imp[0].banner.w');
  t.end();
});

t.test('a null field beside a wrong one: still rewritten or reported as before', (t) => {
  const r = base();
  r.site = { page: null, domain: 7, id: 's' };
  const e = validateBidRequest(r);
  t.equal(e?.field, 'site.domain');
  const ok = base();
  ok.site = { page: null, domain: 'a.com', id: 's' };
  t.equal(validateBidRequest(ok), null);
  t.equal(ok.site.page, undefined, 'null rewritten to absent');
  t.ok('page' in ok.site, 'the key stays (as it always did)');
  t.end();
});

t.test('property: the answer does not depend on the order of any object\'s keys', async (t) => {
  const scalar = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -3, max: 3 }), fc.double({ noNaN: true }), fc.constantFrom('', 'x', 'USD', 'usd', 'EURO'),
    fc.constant([]), fc.constant(['a', 1]), fc.constant([1, 2]), fc.constant(['USD']), fc.constant({}), fc.constant([{}]));
  const obj = (keys: string[]) => fc.dictionary(fc.constantFrom(...keys), scalar, { maxKeys: 6 });
  const imp = fc.record({ id: fc.constantFrom('1', '2'), banner: fc.option(obj(['w', 'h', 'pos', 'format', 'btype', 'mimes', 'x']), { nil: undefined }),
    video: fc.option(obj(['w', 'h', 'mimes', 'protocols', 'minduration']), { nil: undefined }) }, { requiredKeys: ['id'] });
  const arb = fc.record({
    top: obj(['test', 'at', 'tmax', 'wseat', 'bseat', 'cur', 'bcat', 'badv', 'allimps', 'ext']),
    site: obj(['id', 'name', 'domain', 'page', 'cat', 'cattax', 'publisher', 'keywords']),
    device: fc.option(obj(['ua', 'ip', 'dnt', 'lmt', 'devicetype', 'w', 'h', 'geo', 'ifa']), { nil: undefined }),
    imps: fc.array(imp, { minLength: 1, maxLength: 3 }),
  });
  const reverseKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(reverseKeys);
    if (typeof v !== 'object' || v === null) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).reverse()) out[k] = reverseKeys((v as Record<string, unknown>)[k]);
    return out;
  };
  fc.assert(
    fc.property(arb, ({ top, site, device, imps }) => {
      const req: Record<string, unknown> = { id: 'r', imp: imps, site, ...top };
      if (device !== undefined) req.device = device;
      const text = JSON.stringify(req);
      const a = validateBidRequest(JSON.parse(text));
      const b = validateBidRequest(reverseKeys(JSON.parse(text)));
      return JSON.stringify(a) === JSON.stringify(b);
    }),
    { numRuns: 3000, seed: 4242 },
  );
  t.pass('same answer for every key order');
});

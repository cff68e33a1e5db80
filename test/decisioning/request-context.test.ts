import t from 'tap';
import { prepareRequest, toUsd, impFloorUsd } from '../../src/decisioning/request-context';
import { ctxOf, request } from './fixtures/builders';

t.test('currency: USD when allowed or unspecified', async (t) => {
  t.equal(ctxOf(request()).currency, 'USD');
  t.equal(ctxOf(request({ cur: ['EUR', 'usd'] })).currency, 'USD');
  t.equal(ctxOf(request({ cur: [] })).usdToBidCur, 1);
});

t.test('currency: another allowed currency only with a configured rate', async (t) => {
  t.same(prepareRequest(request({ cur: ['EUR'] }), {}), { ok: false, reason: 'currency_unsupported' });
  t.same(prepareRequest(request({ cur: ['RUB'] }), { fxRates: { EUR: 0.9 } }), { ok: false, reason: 'currency_unsupported' });
  const ctx = ctxOf(request({ cur: ['RUB', 'eur'] }), { fxRates: { eur: 0.9 } });
  t.equal(ctx.currency, 'EUR');
  t.equal(ctx.usdToBidCur, 0.9);
  t.same(prepareRequest(request({ cur: ['EUR'] }), { fxRates: { EUR: 0 } }), { ok: false, reason: 'currency_unsupported' }, 'a zero rate is no rate');
});

t.test('floor conversion to USD', async (t) => {
  const ctx = ctxOf(request(), { fxRates: { EUR: 0.8, GBP: 0.5 } });
  t.equal(toUsd(2, undefined, ctx), 2, 'default currency USD');
  t.equal(toUsd(2, 'USD', ctx), 2);
  t.equal(toUsd(2, 'eur', ctx), 2.5);
  t.equal(toUsd(1, 'GBP', ctx), 2);
  t.ok(Number.isNaN(toUsd(1, 'RUB', ctx)), 'no rate: NaN');
  t.equal(toUsd(0, 'RUB', ctx), 0, 'a zero floor needs no rate');
  t.equal(toUsd(undefined, undefined, ctx), 0);
  t.equal(toUsd(-3, 'USD', ctx), 0, 'negative floor treated as none');
  t.equal(impFloorUsd({ id: '1', bidfloor: 4, bidfloorcur: 'EUR' }, ctx), 5);
});

t.test('normalises what targeting reads', async (t) => {
  const ctx = ctxOf(request({
    site: { domain: 'WWW.Example.co.uk', cat: ['IAB3-1'], pagecat: ['IAB9'], content: { cat: ['IAB1-2'] }, publisher: { id: 'p' } },
    device: { geo: { country: 'gbr', region: 'ENG' }, os: 'iOS', devicetype: 4 },
    user: { data: [{ segment: [{ id: 'a' }, { id: 'b' }] }, { segment: [{}] }] },
    bcat: ['IAB25'], badv: ['Bad.COM'], bapp: ['Com.X'],
  }));
  t.equal(ctx.country, 'GBR');
  t.equal(ctx.region, 'eng');
  t.equal(ctx.os, 'ios');
  t.equal(ctx.deviceType, 4);
  t.equal(ctx.siteDomain, 'www.example.co.uk');
  t.same(ctx.siteDomainKeys, ['www.example.co.uk', 'example.co.uk', 'co.uk']);
  t.same([...ctx.contentCats].sort(), ['iab1', 'iab1-2', 'iab3', 'iab3-1', 'iab9']);
  t.same([...ctx.userSegments], ['a', 'b']);
  t.same([...ctx.bcat], ['iab25']);
  t.same([...ctx.badv], ['bad.com']);
  t.same([...ctx.bapp], ['com.x']);
  t.equal(ctx.publisherId, 'p');
  t.equal(ctx.isApp, false);
});

t.test('tolerates missing and malformed optional fields', async (t) => {
  const ctx = ctxOf({ id: 'x', imp: [{ id: '1' }], device: { geo: { country: 7 as unknown as string }, devicetype: 'phone' as unknown as number }, bcat: 'IAB1' as unknown as string[], user: { data: [null as unknown as object] } });
  t.equal(ctx.country, null);
  t.equal(ctx.deviceType, -1);
  t.equal(ctx.bcat.size, 0);
  t.equal(ctx.siteDomain, null);
  t.equal(ctx.appBundle, null);
});

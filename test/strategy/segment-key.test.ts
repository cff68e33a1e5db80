/**
 * The shading segment of an impression (src/strategy/segment-key.ts): which fields move
 * it and which do not, the banner size it reads, and that it is a u32 that is never 0.
 */
import t from 'tap';
import fc from 'fast-check';
import type { BidRequest, Imp } from '../../src/openrtb/types';
import { bannerSize, kMediaBanner, kMediaNative, kMediaVideo, mediaBits, shadingSegment } from '../../src/strategy/segment-key';

function request(over: Partial<BidRequest> = {}): BidRequest {
  return { id: 'r1', imp: [], site: { id: 's', publisher: { id: 'pub-1' } }, device: { devicetype: 4 }, ...over };
}

const banner300: Imp = { id: '1', banner: { w: 300, h: 250 } };

t.test('the same impression in the same market: the same segment, whatever else differs', async (t) => {
  const base = shadingSegment(request(), banner300);
  t.equal(shadingSegment(request({ id: 'other', user: { id: 'u' }, tmax: 80 }), { ...banner300, id: '9', tagid: 'x', bidfloor: 2 }), base);
  t.equal(shadingSegment(request({ site: { id: 'another-site', domain: 'x.com', publisher: { id: 'pub-1', name: 'P' } } }), banner300), base, 'the site id and domain do not matter');
  t.equal(shadingSegment(request(), { id: '1', banner: { format: [{ w: 300, h: 250 }, { w: 728, h: 90 }] } }), base, 'the first format stands for w x h');
});

t.test('each field moves the segment', async (t) => {
  const base = shadingSegment(request(), banner300);
  const variants: [string, number][] = [
    ['publisher', shadingSegment(request({ site: { publisher: { id: 'pub-2' } } }), banner300)],
    ['no publisher', shadingSegment(request({ site: {} }), banner300)],
    ['app instead of site', shadingSegment(request({ site: undefined, app: { publisher: { id: 'pub-1' } } }), banner300)],
    ['dooh instead of site', shadingSegment(request({ site: undefined, dooh: { publisher: { id: 'pub-1' } } }), banner300)],
    ['size', shadingSegment(request(), { id: '1', banner: { w: 728, h: 90 } })],
    ['no size', shadingSegment(request(), { id: '1', banner: {} })],
    ['media: video', shadingSegment(request(), { id: '1', video: { w: 300, h: 250 } })],
    ['media: banner or video', shadingSegment(request(), { ...banner300, video: {} })],
    ['media: native', shadingSegment(request(), { id: '1', native: { request: '{}' } })],
    ['device type', shadingSegment(request({ device: { devicetype: 2 } }), banner300)],
    ['no device', shadingSegment(request({ device: undefined }), banner300)],
  ];
  const seen = new Set([base]);
  for (const [label, s] of variants) {
    t.not(s, base, label);
    seen.add(s);
  }
  t.equal(seen.size, variants.length + 1, 'and every variant is a segment of its own');
});

t.test('banner size and media bits', async (t) => {
  t.equal(bannerSize({ w: 300, h: 250 }), 300 * 65536 + 250);
  t.equal(bannerSize({ w: 300, h: 250, format: [{ w: 728, h: 90 }] }), 300 * 65536 + 250, 'banner w x h before formats');
  t.equal(bannerSize({ w: 300, format: [{ wratio: 16, hratio: 9 }, { w: 320, h: 50 }] }), 320 * 65536 + 50, 'the first format with a fixed size');
  t.equal(bannerSize({ format: [{ wratio: 16, hratio: 9 }] }), 0, 'only ratios: no size');
  t.equal(bannerSize(undefined), 0);
  t.equal(bannerSize({ w: -1, h: 'x' as unknown as number }), 0, 'junk is no size');
  t.equal(mediaBits({ id: '1', banner: {}, video: {} }), kMediaBanner | kMediaVideo);
  t.equal(mediaBits({ id: '1', native: {} }), kMediaNative);
  t.equal(mediaBits({ id: '1' }), 0);
});

t.test('property: a u32, never 0, for any mix of fields', async (t) => {
  const impArb = fc.record(
    {
      banner: fc.record({ w: fc.integer({ min: -5, max: 70_000 }), h: fc.integer({ min: -5, max: 70_000 }) }, { requiredKeys: [] }),
      video: fc.constant({}),
      native: fc.constant({}),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(fc.option(fc.string()), fc.constantFrom('site', 'app', 'dooh', 'none'), fc.option(fc.integer({ min: -3, max: 300 })), impArb, (pub, channel, devicetype, imp) => {
      const publisher = pub === null ? {} : { id: pub };
      const req: BidRequest = { id: 'r', imp: [], device: devicetype === null ? undefined : { devicetype } };
      if (channel === 'site') req.site = { publisher };
      else if (channel === 'app') req.app = { publisher };
      else if (channel === 'dooh') req.dooh = { publisher };
      const s = shadingSegment(req, { id: '1', ...imp });
      return Number.isInteger(s) && s > 0 && s <= 0xffffffff;
    }),
    { numRuns: 2_000 },
  );
  t.pass('2,000 random impressions');
});

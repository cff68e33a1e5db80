import t from 'tap';
import { bannerSizeAllowed, hasRatioFormat, isRatioFormat } from '../../src/openrtb/banner-sizes';
import type { Banner } from '../../src/openrtb/types';

const fits = (banner: Banner, w: number, h: number, instl?: number): boolean => bannerSizeAllowed(banner, instl, w, h);

t.test('fixed sizes: exactly the listed sizes, from format[] or w/h', async (t) => {
  const b: Banner = { format: [{ w: 300, h: 250 }, { w: 728, h: 90 }], w: 320, h: 50 };
  t.ok(fits(b, 300, 250));
  t.ok(fits(b, 728, 90));
  t.ok(fits(b, 320, 50));
  t.notOk(fits(b, 600, 500), 'same ratio as 300x250 is not 300x250');
  t.notOk(fits(b, 250, 300));
});

t.test('ratio format: exact aspect ratio, by integer cross-multiplication', async (t) => {
  const b: Banner = { format: [{ wratio: 6, hratio: 5 }] };
  t.ok(fits(b, 300, 250));
  t.ok(fits(b, 600, 500));
  t.ok(fits(b, 6, 5));
  t.notOk(fits(b, 300, 251), 'a near miss is a miss');
  t.notOk(fits(b, 250, 300), 'the transposed ratio');
  t.notOk(fits(b, 728, 90));
  // 1200x627 is 1.9139:1; a float comparison with a tolerance would call it 191:100.
  t.notOk(fits({ format: [{ wratio: 191, hratio: 100 }] }, 1200, 627));
  t.ok(fits({ format: [{ wratio: 191, hratio: 100 }] }, 1910, 1000));
});

t.test('ratio format: wmin is a minimum width when given', async (t) => {
  const b: Banner = { format: [{ wratio: 6, hratio: 5, wmin: 320 }] };
  t.notOk(fits(b, 300, 250), 'narrower than wmin');
  t.ok(fits(b, 600, 500));
  t.ok(fits({ format: [{ wratio: 6, hratio: 5, wmin: 300 }] }, 300, 250), 'wmin is inclusive');
  t.ok(fits({ format: [{ wratio: 6, hratio: 5, wmin: 0 }] }, 300, 250), 'wmin 0 sets no minimum');
});

t.test('a ratio format is a size: an imp with only ratios does not admit any size', async (t) => {
  t.notOk(fits({ format: [{ wratio: 1, hratio: 2 }] }, 728, 90));
  t.ok(fits({ format: [{ wratio: 1, hratio: 2 }, { w: 728, h: 90 }] }, 728, 90), 'fixed and ratio together');
  t.ok(fits({ format: [{ wratio: 1, hratio: 2 }], w: 728, h: 90 }, 300, 600), 'ratio beside banner.w/h');
});

t.test('malformed ratio formats', async (t) => {
  t.ok(fits({ format: [{ wratio: 0, hratio: 5 }] }, 728, 90), 'a zero ratio is no size at all');
  t.notOk(fits({ format: [{ wratio: 1.5, hratio: 1 }] }, 300, 200), 'non-integer ratio admits nothing');
  t.notOk(fits({ format: [{ wratio: 1.5, hratio: 1 }] }, 728, 90), 'and still counts as a size');
  t.notOk(fits({ format: [{ wratio: 2 ** 52, hratio: 2 ** 52 + 2 }] }, 4096, 4096), 'products past 2^53 never match');
  t.notOk(fits({ format: [{ wratio: 6, hratio: 5 }] }, 300.5, 250), 'a non-integer bid size');
  t.ok(fits({ format: [{ w: 300, h: 250, wratio: 1, hratio: 2 }] }, 300, 250), 'w/h take precedence over ratio fields');
  t.notOk(fits({ format: [{ w: 300, h: 250, wratio: 1, hratio: 2 }] }, 300, 600));
});

t.test('interstitials: full-screen sizes when unsized; given sizes and ratios govern', async (t) => {
  t.ok(fits({}, 320, 480, 1));
  t.ok(fits({ w: 0, h: 0 }, 1024, 768, 1), '0x0 means full screen');
  t.notOk(fits({}, 728, 90, 1));
  t.ok(fits({}, 728, 90), 'not an interstitial: any size');
  t.ok(fits({ w: 300, h: 250 }, 300, 250, 1), 'a size on an interstitial governs');
  t.notOk(fits({ w: 300, h: 250 }, 320, 480, 1), 'full-screen sizes are not added to a given size');
  const ratio: Banner = { format: [{ wratio: 9, hratio: 16, wmin: 360 }] };
  t.ok(fits(ratio, 720, 1280, 1), 'a ratio on an interstitial governs');
  t.notOk(fits(ratio, 320, 480, 1), 'a full-screen size outside the ratio');
  t.notOk(fits(ratio, 180, 320, 1), 'under wmin');
});

t.test('isRatioFormat and hasRatioFormat', async (t) => {
  t.ok(isRatioFormat({ wratio: 16, hratio: 9 }));
  t.notOk(isRatioFormat({ w: 300, h: 250, wratio: 16, hratio: 9 }), 'a fixed size is read as that size');
  t.notOk(isRatioFormat({ wratio: 16 }));
  t.ok(hasRatioFormat({ format: [{ w: 300, h: 250 }, { wratio: 1, hratio: 1 }] }));
  t.notOk(hasRatioFormat({ format: [{ w: 300, h: 250 }] }));
  t.notOk(hasRatioFormat({ w: 300, h: 250 }));
});

/**
 * First-price bid shading (src/strategy/bid-shader.ts): the bounds it keeps, agreement
 * with a brute-force grid over prices, less shading against stronger competition, and
 * the cost of one call.
 */
import t from 'tap';
import fc from 'fast-check';
import { expectedSurplus, shadePrice } from '../../src/strategy/bid-shader';

/** The best price on a grid of `points` in ln b over [lo, value], and the grid step. */
function gridBest(value: number, lo: number, a: number, c: number, points: number): { b: number; surplus: number; step: number } {
  const u0 = Math.log(lo);
  const step = (Math.log(value) - u0) / (points - 1);
  let best = lo;
  let bestS = -Infinity;
  for (let i = 0; i < points; i++) {
    const b = i === points - 1 ? value : Math.exp(u0 + i * step);
    const s = expectedSurplus(value, b, a, c);
    if (s > bestS) {
      bestS = s;
      best = b;
    }
  }
  return { b: best, surplus: bestS, step };
}

const lowerBound = (value: number, floor: number, maxShade: number): number => Math.max(floor, value * (1 - Math.min(maxShade, 0.99)));

t.test('edge cases return the value or a bound', async (t) => {
  t.equal(shadePrice(2, 3, 0.4, 0, 2), 2, 'floor above value: the value (the caller does not bid)');
  t.equal(shadePrice(2, 2, 0.4, 0, 2), 2, 'floor at the value: the value');
  t.equal(shadePrice(2, 0, 0, 0, 2), 2, 'maxShade 0: no shading');
  t.equal(shadePrice(2, 0, Number.NaN, 0, 2), 2, 'maxShade not a number: no shading');
  t.equal(shadePrice(2, 0, 0.4, 0, 0), 2, 'c = 0: no model, no shading');
  t.equal(shadePrice(2, 0, 0.4, 0, -1), 2, 'c < 0: no model, no shading');
  t.equal(shadePrice(2, 0, 0.4, Number.NaN, 2), 2, 'a not a number: no shading');
  t.equal(shadePrice(2, 0, 0.4, Infinity, 2), 2, 'a infinite: no shading');
  t.equal(shadePrice(0, 0, 0.4, 0, 2), 0, 'value 0 is returned unchanged');
  t.ok(Number.isNaN(shadePrice(Number.NaN, 0, 0.4, 0, 2)), 'NaN value is returned unchanged');
  t.equal(shadePrice(2, Number.NaN, 0.4, 40, 2), 2 * 0.6, 'a NaN floor is no floor');
  // a = 40: we win at any price, so the cheapest allowed price is best.
  t.equal(shadePrice(2, 0, 0.4, 40, 2), 2 * (1 - 0.4), 'a sure win bids the lowest allowed price');
  t.equal(shadePrice(2, 1.5, 0.4, 40, 2), 1.5, 'a floor above value * (1 - maxShade) is the lowest allowed price');
  t.equal(shadePrice(2, 0, 5, 40, 2), 2 * (1 - 0.99), 'maxShade above 0.99 is capped');
  // a = -40: deep in the left tail P(win | b) ~ e^a b^c, so (value - b) b^c peaks at
  // b = value c / (1 + c) whatever a is: 4/3 here.
  const hopeless = shadePrice(2, 0, 0.9, -40, 2);
  t.ok(Math.abs(hopeless - 4 / 3) < 1e-9, `a hopeless market: value c / (1 + c) (${hopeless})`);
});

t.test('a worked example: market median 1.5 CPM, value 3', async (t) => {
  // P(win | b) = sigmoid(c (ln b - ln 1.5)), c = 3.4 (about a log-normal with sigma 0.5).
  const c = 3.4;
  const a = -c * Math.log(1.5);
  const b = shadePrice(3, 0, 0.9, a, c);
  const g = gridBest(3, 0.3, a, c, 200_001);
  t.ok(Math.abs(b - g.b) < 1e-3, `shaded to ${b.toFixed(4)}, grid ${g.b.toFixed(4)}`);
  t.ok(b > 1.5 && b < 3, 'between the market median and the value');
});

const caseArb = fc.record({
  value: fc.double({ min: 0.01, max: 100, noNaN: true }),
  floorShare: fc.double({ min: 0, max: 1.5, noNaN: true }),
  maxShade: fc.double({ min: 0, max: 1.2, noNaN: true }),
  a: fc.oneof(fc.double({ min: -30, max: 30, noNaN: true }), fc.double({ min: -300, max: 300, noNaN: true })),
  c: fc.oneof(fc.double({ min: 0.05, max: 60, noNaN: true }), fc.double({ min: 1e-4, max: 200, noNaN: true })),
});

t.test('property: never above value, below floor, or below value * (1 - maxShade)', async (t) => {
  fc.assert(
    fc.property(caseArb, ({ value, floorShare, maxShade, a, c }) => {
      const floor = value * floorShare;
      const b = shadePrice(value, floor, maxShade, a, c);
      if (!(b <= value)) return false;
      if (floor > value) return b === value;
      return b >= floor && b >= value * (1 - maxShade) && b >= lowerBound(value, floor, maxShade);
    }),
    { numRuns: 5_000 },
  );
  t.pass('5,000 random cases');
});

t.test('property: the price is the grid maximum of expected surplus', async (t) => {
  const points = 20_001;
  fc.assert(
    fc.property(caseArb, ({ value, floorShare, maxShade, a, c }) => {
      const floor = value * Math.min(floorShare, 0.999);
      if (!(maxShade > 0)) return true;
      const lo = lowerBound(value, floor, maxShade);
      if (lo >= value) return true;
      const b = shadePrice(value, floor, maxShade, a, c);
      const g = gridBest(value, lo, a, c, points);
      const s = expectedSurplus(value, b, a, c);
      // Never worse than the best grid point (up to rounding), and in the same place.
      if (s < g.surplus - 1e-12 * value) throw new Error(`surplus ${s} < grid ${g.surplus} (b ${b}, grid b ${g.b})`);
      // Where P(win) underflows to 0 (or nearly) at every grid point the grid has no argmax.
      if (g.surplus > 1e-250 && Math.abs(Math.log(b) - Math.log(g.b)) > 2 * g.step + 1e-9) throw new Error(`b ${b} far from grid b ${g.b}`);
      return true;
    }),
    { numRuns: 400 },
  );
  t.pass('400 random cases against a 20,001-point grid');
});

t.test('property: stronger competition (lower a) never shades more', async (t) => {
  fc.assert(
    fc.property(caseArb, fc.double({ min: 0, max: 10, noNaN: true }), ({ value, floorShare, maxShade, a, c }, gap) => {
      const floor = value * floorShare;
      const weak = shadePrice(value, floor, maxShade, a, c);
      const strong = shadePrice(value, floor, maxShade, a - gap, c);
      return strong >= weak - 1e-9 * value;
    }),
    { numRuns: 3_000 },
  );
  // And strictly, where no bound binds: median 1 CPM against median 2 CPM, value 3.
  const c = 3;
  const weak = shadePrice(3, 0, 0.9, -c * Math.log(1), c);
  const strong = shadePrice(3, 0, 0.9, -c * Math.log(2), c);
  t.ok(strong > weak + 0.1, `against the stronger market it bids ${strong.toFixed(3)}, against the weaker ${weak.toFixed(3)}`);
});

t.test('cost of one call (bounded loosely: the two cores are shared)', async (t) => {
  const n = 1_000_000;
  const values = new Float64Array(1024);
  const as = new Float64Array(1024);
  for (let i = 0; i < 1024; i++) {
    values[i] = 0.5 + (i % 37) * 0.1;
    as[i] = -3 + (i % 29) * 0.1;
  }
  let sink = 0;
  for (let i = 0; i < 100_000; i++) sink += shadePrice(values[i & 1023], 0.1, 0.6, as[i & 1023], 3); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += shadePrice(values[i & 1023], 0.1, 0.6, as[i & 1023], 3);
  const ns = Number(process.hrtime.bigint() - start) / n;
  t.ok(sink > 0);
  t.comment(`shadePrice: ${ns.toFixed(0)} ns a call (${n} calls)`);
  t.ok(ns < 2_000, `${ns.toFixed(0)} ns a call (bound 2,000 ns: the two cores are shared)`);
});

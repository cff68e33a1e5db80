/**
 * First-price bid shading: the price b that maximises expected surplus
 * (value - b) * P(win | b) under the win-rate model P(win | b) = sigmoid(a + c ln b)
 * (win-rate-model.ts), kept in [max(floor, value * (1 - maxShade)), value].
 *
 * Only for first-price auctions (OpenRTB `at` = 1, or a deal's own `at` = 1): in a second
 * price auction the bid sets no price and bidding the value is already right.
 *
 * Why no search over prices: in u = ln b the log of the surplus is
 * log(value - e^u) + log sigmoid(a + c u), a sum of two concave functions (for c > 0), so
 * it has one maximum, where its derivative is zero, and the best price inside the bounds
 * is that maximum clamped to them. The zero is the root of a convex increasing function
 * of the win log-odds (see shadePrice), which Halley's method finds from a starting point
 * known to lie right of it in two or three steps, with no bracketing or bisection.
 * No allocation; a few hundred nanoseconds a call (test/strategy/bid-shader.test.ts
 * measures it).
 */

/** maxShade is capped here: a bid is never shaded to under 1% of its value. */
export const kMaxShadeCap = 0.99;
const kMaxIterations = 40;
/**
 * Stop once a step moves the win log-odds z less than this: Halley's method converges
 * cubically, so the error left is of the order of the step cubed, and ln b moves less
 * than z does (under 1e-13 of the price over 20,000 random cases in our check).
 */
const kTolerance = 1e-4;

/**
 * The shaded price for a bid worth `value` (CPM) against floor `floor`, shading by at most
 * `maxShade` (a fraction: 0.4 = at most 40% off), under win-rate parameters (a, c).
 * - Never above `value`, never below `floor`, never below value * (1 - maxShade).
 * - floor >= value: returns `value`, which is then below (or at) the floor: the caller
 *   decides whether to bid (it must not bid under the floor).
 * - No usable model (c <= 0, a or c not finite), maxShade <= 0 or not a number: `value`.
 * - value not a positive finite number: `value` unchanged (nothing to shade).
 * A floor that is not a positive number counts as no floor.
 */
export function shadePrice(value: number, floor: number, maxShade: number, a: number, c: number): number {
  if (!(value > 0 && value < Infinity)) return value;
  const f = floor > 0 ? floor : 0;
  if (f >= value) return value;
  if (!(maxShade > 0) || !(c > 0 && c < Infinity) || !(a > -Infinity && a < Infinity)) return value;
  let lo = value * (1 - (maxShade < kMaxShadeCap ? maxShade : kMaxShadeCap));
  if (lo < f) lo = f;
  if (lo >= value) return value;

  // The first-order condition, in z = a + c ln b (the win log-odds) and y = e^z:
  //   (value - b) c (1 - sigmoid(z)) = b  <=>  b = value c / (1 + c + y),
  // and z = a + c ln b turns that into one equation in z:
  //   F(z) = z + c ln(1 + c + e^z) - K = 0,  K = a + c ln(value c).
  // F rises (F' = 1 + c s in [1, 1 + c], s = y / (1 + c + y)) and is convex
  // (F'' = c s (1 - s) <= c / 4). It is bounded below by two lines, so the root lies left
  // of both of their zeros: K - c ln(1 + c) (as ln(1 + c + y) >= ln(1 + c)) and
  // K / (1 + c) (as ln(1 + c + y) >= z). From the nearer, Halley's method (cubic; its step
  // cut back to Newton's when it would be more than twice as long) converges in about two
  // steps, at most four over 20,000 random cases in our check.
  const bigK = a + c * Math.log(value * c);
  const zA = bigK - c * Math.log(1 + c);
  const zB = bigK / (1 + c);
  let z = zA < zB ? zA : zB;
  for (let i = 0; i < kMaxIterations; i++) {
    // ln(1 + c + e^z) and s, without overflow for large z.
    let softplus: number;
    let s: number;
    if (z > 0) {
      const e = (1 + c) * Math.exp(-z);
      softplus = z + Math.log(1 + e); // log1p is slower, and only absolute error matters here
      s = 1 / (1 + e);
    } else {
      const y = Math.exp(z);
      softplus = Math.log(1 + c + y);
      s = y / (1 + c + y);
    }
    const f = z + c * softplus - bigK;
    const d1 = 1 + c * s;
    const d2 = c * s * (1 - s);
    const den = 2 * d1 * d1 - f * d2;
    const step = den > d1 * d1 ? (2 * f * d1) / den : f / d1;
    z -= step;
    if (step < kTolerance && step > -kTolerance) break;
  }
  // e^z overflows only where b is far below any lower bound (b -> 0): the clamp takes it.
  const b = (value * c) / (1 + c + Math.exp(z));
  return b < lo ? lo : b > value ? value : b;
}

/** Expected surplus (value - b) * P(win | b) under (a, c): for tests and reports. */
export function expectedSurplus(value: number, b: number, a: number, c: number): number {
  if (!(b > 0)) return 0;
  return (value - b) / (1 + Math.exp(-(a + c * Math.log(b))));
}

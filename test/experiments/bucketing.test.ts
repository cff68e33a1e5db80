/**
 * Bucketing (GrowthBook's hash v2): FNV-1a reference vectors, the double hash with its
 * decimal-string round, an even spread, and arm ranges proportional to the weights.
 */
import t from 'tap';
import fc from 'fast-check';
import { bucketBounds, bucketOf, fnv1a32Utf16, kBuckets } from '../../src/experiments/bucketing';

t.test('FNV-1a 32-bit reference vectors', async (t) => {
  t.equal(fnv1a32Utf16(''), 0x811c9dc5);
  t.equal(fnv1a32Utf16('a'), 0xe40c292c);
  t.equal(fnv1a32Utf16('foobar'), 0xbf9cf968);
});

t.test('the bucket is fnv1a32(String(fnv1a32(salt + key))) mod 10,000', async (t) => {
  fc.assert(fc.property(fc.string(), fc.string(), (salt, key) => {
    const b = bucketOf(salt, key);
    return b === fnv1a32Utf16(String(fnv1a32Utf16(salt + key))) % kBuckets && b >= 0 && b < kBuckets && b === bucketOf(salt, key);
  }));
});

t.test('users spread evenly over the buckets (chi-squared over 20 bins)', async (t) => {
  const bins = new Array(20).fill(0);
  const n = 100_000;
  for (let i = 0; i < n; i++) bins[Math.floor((bucketOf('salt-1', `user-${i}`) * 20) / kBuckets)]++;
  const expected = n / 20;
  const chi2 = bins.reduce((s, o) => s + (o - expected) ** 2 / expected, 0);
  // 19 degrees of freedom: p = 0.001 at 43.8.
  t.ok(chi2 < 43.8, `chi2 ${chi2.toFixed(1)}`);
  // Another salt reshuffles: the same users land elsewhere.
  let same = 0;
  for (let i = 0; i < 1_000; i++) if (bucketOf('salt-1', `user-${i}`) === bucketOf('salt-2', `user-${i}`)) same++;
  t.ok(same < 10, `${same} of 1,000 kept their bucket under another salt`);
});

t.test('arm ranges follow the weights; the last ends at 10,000', async (t) => {
  t.same(bucketBounds([50, 50]), [5_000, 10_000]);
  t.same(bucketBounds([1, 1, 2]), [2_500, 5_000, 10_000]);
  t.same(bucketBounds([0, 3]), [0, 10_000], 'a zero weight owns no bucket');
  t.same(bucketBounds([1, 2]), [3_333, 10_000]);
});

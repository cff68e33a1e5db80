/**
 * Deterministic experiment bucketing, the way GrowthBook (hash v2) does it, so an analyst
 * can recompute any assignment from the log with a few lines of code:
 *
 *   bucket = fnv1a32(String(fnv1a32(salt + unitKey))) mod 10,000
 *
 * where fnv1a32 is 32-bit FNV-1a over UTF-16 code units (charCodeAt), as GrowthBook's
 * hashFnv32a, and the inner hash is turned into its decimal string before it is hashed
 * again (GrowthBook's second round evens out FNV's bias in the low digits). An arm owns a
 * range of buckets in proportion to its weight, in the order the arms are listed.
 *
 * The same user (unit key) with the same salt lands in the same bucket on every thread,
 * after every restart and on every instance: nothing here depends on state. Changing the
 * salt reshuffles everyone; changing weights moves only the users at the range edges.
 */

/** Buckets per experiment: assignment resolution 0.01%. */
export const kBuckets = 10_000;

/** 32-bit FNV-1a over UTF-16 code units (GrowthBook's hashFnv32a). */
export function fnv1a32Utf16(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h += (h << 1) + (h << 4) + (h << 7) + (h << 8) + (h << 24);
  }
  return h >>> 0;
}

/** The bucket of `unitKey` under `salt`, in [0, kBuckets). */
export function bucketOf(salt: string, unitKey: string): number {
  return fnv1a32Utf16(String(fnv1a32Utf16(salt + unitKey))) % kBuckets;
}

/**
 * Each arm's exclusive upper bucket bound for `weights` (non-negative, summing to more
 * than 0), in order: arm i owns [bounds[i-1], bounds[i]). The last bound is kBuckets.
 */
export function bucketBounds(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  return weights.map((w, i) => {
    acc += w;
    return i === weights.length - 1 ? kBuckets : Math.round((acc / total) * kBuckets);
  });
}

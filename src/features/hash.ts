/**
 * 32-bit hashing for feature buckets: FNV-1a over UTF-16 code units, finished with the
 * murmur3 fmix32 avalanche so that the low bits (which pick the bucket) are well mixed.
 * Seeds are per field, so the same value in two fields lands in unrelated buckets without
 * building a `field + value` string per request.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Seed for a field: FNV-1a of its name. Computed at load, never per request. */
export function fieldSeed(name: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** Hash of `s` under `seed`; `foldCase` lowers ASCII A-Z on the fly (no toLowerCase copy). */
export function hashString(seed: number, s: string, foldCase: boolean): number {
  let h = seed;
  const n = s.length;
  if (foldCase) {
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c >= 65 && c <= 90) c |= 32;
      h ^= c;
      h = Math.imul(h, FNV_PRIME);
    }
  } else {
    for (let i = 0; i < n; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, FNV_PRIME);
    }
  }
  return fmix32(h);
}

/** Hash of a tuple of 32-bit integers under `seed` (sizes, crosses of two hashes). */
export function hashInts3(seed: number, a: number, b: number, c: number): number {
  let h = fmix32(seed ^ a);
  h = fmix32(h ^ Math.imul(b | 0, 0x9e3779b1));
  h = fmix32(h ^ Math.imul(c | 0, 0x85ebca77));
  return h;
}

export function hashInts2(seed: number, a: number, b: number): number {
  let h = fmix32(seed ^ a);
  h = fmix32(h ^ Math.imul(b | 0, 0x9e3779b1));
  return h;
}

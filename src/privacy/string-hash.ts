/**
 * A 64-bit hash of a consent string, the key of the shared consent table: at 64 bits two
 * different strings meet with probability about n^2 / 2^65, so the table stores no string.
 * FNV-1a 64 over UTF-16 code units, computed in two 32-bit halves (a BigInt per request
 * would allocate). The result lands in a caller's two-word scratch array.
 */

/** FNV-1a 64 offset basis 0xcbf29ce484222325, as two halves. */
const kOffsetHi = 0xcbf29ce4;
const kOffsetLo = 0x84222325;
/** FNV 64 prime 0x100000001b3 = 2^40 + 0x1b3. */
const kPrimeLo = 0x1b3;
const k2Pow32 = 4294967296;

export const kHashHi = 0;
export const kHashLo = 1;

/**
 * Hashes `prefix` (a 32-bit number that keeps key spaces apart: the format, the vendor
 * id), the string, then `suffix` (a 32-bit number such as the GPP sid key) into
 * out[kHashHi], out[kHashLo] as signed 32-bit words. Numbers go in as two 16-bit units.
 */
export function hash64(prefix: number, s: string, suffix: number, out: Int32Array): void {
  let hi = kOffsetHi;
  let lo = kOffsetLo;
  const n = s.length;
  for (let i = -2; i < n + 2; i++) {
    let unit: number;
    if (i >= 0 && i < n) unit = s.charCodeAt(i);
    else if (i === -2) unit = prefix & 0xffff;
    else if (i === -1) unit = prefix >>> 16;
    else if (i === n) unit = suffix & 0xffff;
    else unit = suffix >>> 16;
    lo = (lo ^ unit) >>> 0;
    // (hi, lo) * (2^40 + 0x1b3) mod 2^64: lo * 0x1b3 needs 41 bits, exact in a double.
    const loMul = lo * kPrimeLo;
    const carry = Math.floor(loMul / k2Pow32);
    hi = (Math.imul(hi, kPrimeLo) + (lo << 8) + carry) >>> 0;
    lo = loMul >>> 0;
  }
  out[kHashHi] = hi | 0;
  out[kHashLo] = lo | 0;
}

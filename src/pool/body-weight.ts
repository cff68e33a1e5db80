/**
 * How much work a request body promises, read before anything parses it: its size as the
 * engine will see it. The dispatcher keeps heavy requests (100 impressions of four media
 * each, say) apart from light ones, so that a few expensive requests cannot sit in the
 * same batch as, or take every worker from, the cheap ones (dispatcher.ts).
 *
 * A gzip body's compressed length says little (a repetitive 60 KB request gzips to 1 KB),
 * so for gzip the weight is the larger of the length and the member's ISIZE trailer (RFC
 * 1952 2.3.1: the uncompressed size mod 2^32, the last four bytes, little-endian). The
 * trailer cannot understate a body that then inflates: zlib checks it and such a body is a
 * BAD_GZIP. Only a multi-member body can hide earlier members' size, and the engine's
 * candidate caps bound what any body costs anyway.
 */

/** The smallest gzip member: a 10-byte header, an empty deflate block, an 8-byte trailer. */
const kMinGzipBytes = 18;

export function bodyWeightBytes(bytes: Uint8Array, offset: number, length: number, gzip: boolean): number {
  if (!gzip || length < kMinGzipBytes) return length;
  const end = offset + length;
  const isize = (bytes[end - 4] | (bytes[end - 3] << 8) | (bytes[end - 2] << 16) | (bytes[end - 1] << 24)) >>> 0;
  return isize > length ? isize : length;
}

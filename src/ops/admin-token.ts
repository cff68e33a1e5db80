/**
 * The admin API's bearer token, read from BIDDER_ADMIN_TOKEN_FILE at start on the main
 * thread; without the file the admin API is off. Only the token's SHA-256 digest is kept
 * and handed to the operations thread: a presented token is hashed and the two digests
 * compared in constant time, so neither its bytes nor its length leak through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { StartupErrorCode } from '../errors';

export const kMinAdminTokenBytes = 16;

export type AdminToken =
  /** `digest`: SHA-256 of the token; null when no file is configured (the admin API is off). */
  | { ok: true; digest: Buffer | null }
  | { ok: false; code: Extract<StartupErrorCode, 'ADMIN_TOKEN_UNREADABLE' | 'ADMIN_TOKEN_TOO_SHORT' | 'ADMIN_TOKEN_INVALID'>; message: string };

/**
 * The digest of the token in `file` (its bytes, less one trailing newline or CRLF): at
 * least kMinAdminTokenBytes of visible ASCII, what an Authorization header can carry.
 * Messages name the file, never the token's bytes.
 */
export function loadAdminToken(file: string | undefined): AdminToken {
  if (file === undefined || file === '') return { ok: true, digest: null };
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    return { ok: false, code: 'ADMIN_TOKEN_UNREADABLE', message: `${file}: ${(err as Error).message}` };
  }
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  const token = bytes.subarray(0, end);
  try {
    if (token.length < kMinAdminTokenBytes) {
      return { ok: false, code: 'ADMIN_TOKEN_TOO_SHORT', message: `${file}: ${token.length} bytes, at least ${kMinAdminTokenBytes} wanted (e.g. head -c 32 /dev/urandom | base64)` };
    }
    for (let i = 0; i < token.length; i++) {
      if (token[i] < 0x21 || token[i] > 0x7e) {
        return { ok: false, code: 'ADMIN_TOKEN_INVALID', message: `${file}: byte ${i} is not visible ASCII (whitespace or binary inside the token)` };
      }
    }
    return { ok: true, digest: tokenDigest(token) };
  } finally {
    bytes.fill(0);
  }
}

export function tokenDigest(token: string | Uint8Array): Buffer {
  return createHash('sha256').update(token).digest();
}

const kBearer = 'bearer ';

/**
 * Whether an Authorization header value is `Bearer <token>` for the token whose digest is
 * `digest` (the scheme in any case, RFC 9110 11.1). Its cost does not depend on how much
 * of the token is right, nor on the token's length.
 */
export function bearerMatches(authorization: string, digest: Uint8Array): boolean {
  if (authorization.length <= kBearer.length || authorization.slice(0, kBearer.length).toLowerCase() !== kBearer) return false;
  const presented = authorization.slice(kBearer.length).trim();
  return timingSafeEqual(tokenDigest(presented), digest);
}

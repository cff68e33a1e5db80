/**
 * The token a bid's notice URLs carry (nurl, burl, lurl: OpenRTB 2.6 section 4.4): what the
 * bid was, bound by an HMAC so that a notice can be trusted without any state kept per
 * bid. A fleet shares the key (notice-key.ts), so any instance verifies any other's bids.
 *
 * Layout, before base64url: [version u8][flags u8: bit 0 = test traffic, bit 1 = has a user][user
 * key: 2 x u32, the frequency-cap hash of the user (money/user-key.ts), 0 without][issued-at u32, unix seconds][price u32, micro-units
 * of the bid currency][currency: 3 ASCII bytes][version 2: shading segment u32, 0 none], then length-prefixed UTF-8 strings
 * (u8 length each): request id, imp id, bid id, campaign id, creative id, model version,
 * experiment arm (empty for none); then the first kMacBytes of HMAC-SHA256(key, all of the
 * above). 128 bits of MAC is far past what an online forger can try (NIST SP 800-107
 * allows truncation to 64). Strings longer than 255 bytes are refused at signing: the
 * bidder's own ids are short, and an exchange's request or imp id that long is cut by the
 * caller, never silently here.
 *
 * Verification is constant-time in the MAC (timingSafeEqual) and checks the layout
 * before it trusts any length.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const kNoticeTokenVersion = 2;
const kMacBytes = 16;
/** Version 1 (before the shading segment): still verified, so notices of bids made before an upgrade count. */
const kFixedBytesV1 = 1 + 1 + 8 + 4 + 4 + 3;
const kFixedBytes = kFixedBytesV1 + 4;
const kFlagTest = 1;
const kFlagUser = 2;
const kStrings = 7;
/** The largest price a token carries: u32 micro-units, about 4,294 units of currency (CPM). */
export const kMaxTokenPriceMicros = 0xffffffff;

export interface NoticeClaims {
  requestId: string;
  impId: string;
  bidId: string;
  campaignId: string;
  creativeId: string;
  /** The bid price in micro-units of `currency` (CPM). */
  priceMicros: number;
  /** ISO 4217, three letters. */
  currency: string;
  /** When the bid was made, unix seconds. */
  issuedAtSec: number;
  modelVersion: string;
  /** The experiment arms, "experiment:arm" joined by ",", '' when none. */
  arm: string;
  /** The impression's shading segment (src/strategy/segment-key.ts), 0 when none: the win-rate learner's key. */
  segment?: number;
  /** The request had OpenRTB test = 1: its notices are answered and logged but never spend. */
  test: boolean;
  /**
   * The user's frequency-cap key (a 64-bit hash, two signed 32-bit halves), so that whichever
   * instance gets the bill counts the impression against the user; null when the request
   * had no usable user id (or privacy forbade it).
   */
  user: { hi: number; lo: number } | null;
}

/** Why a token was refused, as a stable code. */
export type NoticeTokenRefusal = 'NOTICE_MALFORMED' | 'NOTICE_FORGED' | 'NOTICE_EXPIRED';

export type NoticeTokenResult = { ok: true; claims: NoticeClaims } | { ok: false; code: NoticeTokenRefusal };

export class NoticeTokenError extends Error {
  readonly code = 'NOTICE_TOKEN_INVALID';
}

function mac(key: Buffer, payload: Buffer): Buffer {
  return createHmac('sha256', key).update(payload).digest().subarray(0, kMacBytes);
}

/**
 * Where a token is assembled: the longest payload (every string at 255 bytes) plus the MAC.
 * One per thread; signing is synchronous, so it is never shared between two tokens.
 */
const kMaxPayloadBytes = kFixedBytes + kStrings * 256;
const scratch = Buffer.allocUnsafeSlow(kMaxPayloadBytes + kMacBytes);

/** Writes `s` as a u8-length-prefixed UTF-8 string at `at`; returns the next offset. */
function writeString(s: string, at: number): number {
  // A UTF-16 unit takes at most 3 UTF-8 bytes: strings of up to 85 units always fit the u8 length.
  const n = s.length <= 85 ? scratch.write(s, at + 1, 'utf8') : Buffer.byteLength(s, 'utf8');
  if (n > 255) throw new NoticeTokenError('a token string is longer than 255 bytes');
  if (s.length > 85) scratch.write(s, at + 1, 'utf8');
  scratch[at] = n;
  return at + 1 + n;
}

/** Signs `claims` under `key`; throws NoticeTokenError for claims a token cannot carry. */
export function signNoticeToken(claims: NoticeClaims, key: Buffer): string {
  if (!Number.isInteger(claims.priceMicros) || claims.priceMicros < 0 || claims.priceMicros > kMaxTokenPriceMicros) {
    throw new NoticeTokenError(`priceMicros must be an integer in 0..${kMaxTokenPriceMicros}, got ${claims.priceMicros}`);
  }
  if (!Number.isInteger(claims.issuedAtSec) || claims.issuedAtSec < 0 || claims.issuedAtSec > 0xffffffff) {
    throw new NoticeTokenError(`issuedAtSec must be a u32 of unix seconds, got ${claims.issuedAtSec}`);
  }
  const cur = claims.currency;
  if (cur.length !== 3 || !/^[A-Z]{3}$/.test(cur)) throw new NoticeTokenError(`currency must be three capital letters, got ${cur}`);
  const b = scratch;
  b[0] = kNoticeTokenVersion;
  b[1] = (claims.test ? kFlagTest : 0) | (claims.user !== null ? kFlagUser : 0);
  b.writeInt32BE(claims.user?.hi ?? 0, 2);
  b.writeInt32BE(claims.user?.lo ?? 0, 6);
  b.writeUInt32BE(claims.issuedAtSec, 10);
  b.writeUInt32BE(claims.priceMicros, 14);
  b[18] = cur.charCodeAt(0);
  b[19] = cur.charCodeAt(1);
  b[20] = cur.charCodeAt(2);
  b.writeUInt32BE((claims.segment ?? 0) >>> 0, 21);
  let at = kFixedBytes;
  at = writeString(claims.requestId, at);
  at = writeString(claims.impId, at);
  at = writeString(claims.bidId, at);
  at = writeString(claims.campaignId, at);
  at = writeString(claims.creativeId, at);
  at = writeString(claims.modelVersion, at);
  at = writeString(claims.arm, at);
  const digest = createHmac('sha256', key).update(b.subarray(0, at)).digest();
  digest.copy(b, at, 0, kMacBytes);
  return b.toString('base64url', 0, at + kMacBytes);
}

/**
 * In place of keys: the MAC of this very token was verified already, in this process (the
 * acceptor that answered the notice verified it before handing the same bytes to the money
 * owner through shared memory), so only its claims are read. Never for a token from outside.
 */
export const kMacAlreadyVerified: unique symbol = Symbol('mac already verified');

/**
 * Verifies `token` under any of `keys` (the current key first; older ones while a rotation
 * settles) and, when `nowSec` and `maxAgeSec` are given, its age. A token from the future
 * beyond `maxAgeSec` is as suspect as an old one and is refused as expired too.
 */
export function verifyNoticeToken(token: string, keys: readonly Buffer[] | typeof kMacAlreadyVerified, nowSec?: number, maxAgeSec?: number): NoticeTokenResult {
  if (token.length === 0 || token.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(token)) return { ok: false, code: 'NOTICE_MALFORMED' };
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length < kFixedBytesV1 + kStrings + kMacBytes) return { ok: false, code: 'NOTICE_MALFORMED' };
  const payload = bytes.subarray(0, bytes.length - kMacBytes);
  const given = bytes.subarray(bytes.length - kMacBytes);
  if (keys !== kMacAlreadyVerified) {
    let authentic = false;
    for (const key of keys) if (timingSafeEqual(mac(key, payload), given)) authentic = true;
    if (!authentic) return { ok: false, code: 'NOTICE_FORGED' };
  }
  // Authentic from here on: the layout was written by us, but is still read defensively.
  const version = payload[0];
  if (version !== kNoticeTokenVersion && version !== 1) return { ok: false, code: 'NOTICE_MALFORMED' };
  const fixed = version === 1 ? kFixedBytesV1 : kFixedBytes;
  if (payload.length < fixed + kStrings) return { ok: false, code: 'NOTICE_MALFORMED' };
  const segment = version === 1 ? 0 : payload.readUInt32BE(21);
  const flags = payload[1];
  if ((flags & ~(kFlagTest | kFlagUser)) !== 0) return { ok: false, code: 'NOTICE_MALFORMED' };
  const user = (flags & kFlagUser) !== 0 ? { hi: payload.readInt32BE(2), lo: payload.readInt32BE(6) } : null;
  const issuedAtSec = payload.readUInt32BE(10);
  const priceMicros = payload.readUInt32BE(14);
  const currency = payload.toString('latin1', 18, 21);
  const strings: string[] = [];
  let at = fixed;
  for (let i = 0; i < kStrings; i++) {
    if (at >= payload.length) return { ok: false, code: 'NOTICE_MALFORMED' };
    const n = payload[at++];
    if (at + n > payload.length) return { ok: false, code: 'NOTICE_MALFORMED' };
    strings.push(payload.toString('utf8', at, at + n));
    at += n;
  }
  if (at !== payload.length) return { ok: false, code: 'NOTICE_MALFORMED' };
  if (nowSec !== undefined && maxAgeSec !== undefined && Math.abs(nowSec - issuedAtSec) > maxAgeSec) return { ok: false, code: 'NOTICE_EXPIRED' };
  const [requestId, impId, bidId, campaignId, creativeId, modelVersion, arm] = strings;
  return { ok: true, claims: { requestId, impId, bidId, campaignId, creativeId, priceMicros, currency, issuedAtSec, modelVersion, arm, segment, test: (flags & kFlagTest) !== 0, user } };
}

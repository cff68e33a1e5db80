/**
 * The user a frequency cap counts impressions for: a 64-bit hash of the first usable id of
 * the request, in this order: user.id (the exchange's id), user.buyeruid (ours, from a
 * cookie sync), device.ifa (the advertising id of the device). Privacy decides what is
 * usable (src/privacy/privacy-bits.ts): user.id and buyeruid need userDataAllowed, the IFA
 * needs ifaAllowed (which also excludes lmt/dnt). A request with no usable id has no key:
 * it is not capped, and its impressions are not counted.
 *
 * Each source hashes under its own prefix, so user.id "x" and an IFA "x" are two users.
 * No allocation: the hash lands in the caller's two-word array.
 */
import type { BidRequest } from '../openrtb/types';
import { hash64 } from '../privacy/string-hash';

/** Which id the key came from: what userKeyOf returns. Fixed; used as metric labels. */
export const kUserKeyNone = 0;
export const kUserKeyUserId = 1;
export const kUserKeyBuyerUid = 2;
export const kUserKeyIfa = 3;
export const USER_KEY_SOURCES = ['none', 'user_id', 'buyeruid', 'ifa'] as const;

/** hash64 prefixes, one per source (ASCII "FCu1", "FCb2", "FCi3"), keeping the key spaces apart. */
export const kPrefixUserId = 0x46437531;
export const kPrefixBuyerUid = 0x46436232;
export const kPrefixIfa = 0x46436933;

/** Indices of the key's halves in `out` (the same as string-hash's kHashHi / kHashLo). */
export const kUserKeyHi = 0;
export const kUserKeyLo = 1;

/** A string id worth keying on: typed defensively, since real traffic sends odd shapes. */
function idOf(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/**
 * Whether `ifa` is an id at all: the all-zero IFA ("00000000-0000-0000-0000-000000000000",
 * what iOS sends when tracking is denied, also seen without dashes) names no device, and
 * keying on it would cap every such user together.
 */
export function isUsableIfa(ifa: string): boolean {
  for (let i = 0; i < ifa.length; i++) {
    const c = ifa.charCodeAt(i);
    if (c !== 48 /* 0 */ && c !== 45 /* - */) return true;
  }
  return false;
}

/**
 * Writes the request's frequency-cap user key into out[kUserKeyHi], out[kUserKeyLo] and
 * returns its source (kUserKeyUserId, kUserKeyBuyerUid, kUserKeyIfa); returns kUserKeyNone,
 * leaving `out` as it was, when no id may be used. Test the result against kUserKeyNone
 * (0), not as a boolean.
 */
export function userKeyOf(req: BidRequest, userDataAllowed: boolean, ifaAllowed: boolean, out: Int32Array): number {
  const source = pickUserId(req, userDataAllowed, ifaAllowed);
  if (source !== kUserKeyNone) hash64(kPrefixBySource[source], picked, 0, out);
  return source;
}

/** hash64 prefix of each source (indexed by kUserKey*). */
const kPrefixBySource = [0, kPrefixUserId, kPrefixBuyerUid, kPrefixIfa];

/** The id the last pickUserId chose (valid when it returned a source): a module slot, so picking allocates nothing. */
let picked = '';

/**
 * The first usable id of the request and its source: user.id, then user.buyeruid (both
 * need userDataAllowed), then a usable IFA (ifaAllowed, which implies userDataAllowed in
 * privacy-bits.ts; both are checked so that a caller passing inconsistent flags still never
 * uses the IFA without user data). The id is left in `picked`.
 */
function pickUserId(req: BidRequest, userDataAllowed: boolean, ifaAllowed: boolean): number {
  if (!userDataAllowed) return kUserKeyNone;
  const user = req.user;
  if (user !== undefined && user !== null && typeof user === 'object') {
    const id = idOf(user.id);
    if (id !== null) {
      picked = id;
      return kUserKeyUserId;
    }
    const buyer = idOf(user.buyeruid);
    if (buyer !== null) {
      picked = buyer;
      return kUserKeyBuyerUid;
    }
  }
  if (ifaAllowed) {
    const device = req.device;
    if (device !== undefined && device !== null && typeof device === 'object') {
      const ifa = idOf(device.ifa);
      if (ifa !== null && isUsableIfa(ifa)) {
        picked = ifa;
        return kUserKeyIfa;
      }
    }
  }
  return kUserKeyNone;
}

/**
 * The id userKeyOf would key on, as the request sent it (the experiments' unit key:
 * experiment-table.ts buckets on it): user.id, then user.buyeruid, then a usable IFA, as
 * privacy allows; null when none may be used. Same precedence and the same privacy rules
 * as the frequency-cap key, so a user capped together is also bucketed together.
 */
export function usableUserId(req: BidRequest, userDataAllowed: boolean, ifaAllowed: boolean): string | null {
  return pickUserId(req, userDataAllowed, ifaAllowed) === kUserKeyNone ? null : picked;
}

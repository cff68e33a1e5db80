/**
 * The user a frequency cap counts: `user.id`, then `user.buyeruid`, then `device.ifa`, the
 * first present that privacy allows (privacy-bits.ts: user ids and buyeruid need user data
 * allowed; the IFA also needs no lmt/dnt). Hashed to 64 bits (string-hash.ts) with a prefix
 * per source, so an exchange's user id "x" and an IFA "x" are different users.
 */
import type { BidRequest } from '../openrtb/types';
import { hash64 } from '../privacy/string-hash';

export const kUserKeyNone = 0;
export const kUserKeyUserId = 1;
export const kUserKeyBuyerUid = 2;
export const kUserKeyIfa = 3;

const kZeroIfa = '00000000-0000-0000-0000-000000000000';
/** Key-space prefixes, apart from every other hash64 use (consent strings use small format numbers). */
const kPrefixBase = 0x55_53_52_00; // "USR\0"

function usable(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 512;
}

/** Writes the user's 64-bit key into out[0..1]; returns which source it came from, kUserKeyNone for none. */
export function userKeyOf(req: BidRequest, userDataAllowed: boolean, ifaAllowed: boolean, out: Int32Array): number {
  if (userDataAllowed) {
    const u = req.user;
    if (u !== undefined && u !== null) {
      if (usable(u.id)) {
        hash64(kPrefixBase + kUserKeyUserId, u.id, 0, out);
        return kUserKeyUserId;
      }
      if (usable(u.buyeruid)) {
        hash64(kPrefixBase + kUserKeyBuyerUid, u.buyeruid, 0, out);
        return kUserKeyBuyerUid;
      }
    }
  }
  if (ifaAllowed) {
    const ifa = req.device?.ifa;
    if (usable(ifa) && ifa !== kZeroIfa) {
      hash64(kPrefixBase + kUserKeyIfa, ifa.toLowerCase(), 0, out);
      return kUserKeyIfa;
    }
  }
  return kUserKeyNone;
}

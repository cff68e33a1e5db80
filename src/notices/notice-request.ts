/**
 * Reads one notice as an exchange fires it: GET <base>/notice/{win,bill,loss}?t=…&p=…
 * (notice-urls.ts wrote the URL; the exchange substituted the macros). Verifies the token
 * and decides the HTTP answer; what the notice then does to money is the owner's
 * (money-owner.ts), off the bidding loop.
 *
 * Answers: 204 accepted (a repeat too: exchanges retry, so receivers are idempotent and
 * the owner counts each notice once); 400 no token or a token that is not one of ours in
 * shape; 403 a token whose MAC does not verify (forged or altered), counted; 410 a token
 * older (or further in the future) than money.noticeMaxAgeSec.
 *
 * Prices: `p` is the clearing price, a CPM in the bid currency (${AUCTION_PRICE}). A price
 * the exchange did not substitute, or that is not a number, is an anomaly: a bill is then
 * charged at the bid price, which never undercounts spend. A price above the bid price is
 * capped at it (second-price auctions never clear above the bid) and counted. Encrypted
 * price macros are out of scope: an encrypted value reads as not a number.
 */
import { kMacAlreadyVerified, verifyNoticeToken, type NoticeClaims, type NoticeTokenRefusal } from './notice-token';
import type { NoticeKind } from './notice-urls';

/** Why a notice's figures were not taken as given: the label of bidder_notice_anomalies_total. */
export const NOTICE_ANOMALIES = ['price_missing', 'price_invalid', 'price_above_bid', 'currency_mismatch', 'auction_id_mismatch'] as const;
export type NoticeAnomaly = (typeof NOTICE_ANOMALIES)[number];

/** The answer of a notice endpoint: the result label of bidder_notices_total. */
export const NOTICE_RESULTS = ['accepted', 'repeat', 'malformed', 'forged', 'expired', 'busy'] as const;
export type NoticeResult = (typeof NOTICE_RESULTS)[number];

export interface ReadNotice {
  kind: NoticeKind;
  claims: NoticeClaims;
  /** The clearing price as a CPM in micro-units of the bid currency, capped at the bid; -1 when unknown. */
  clearingMicros: number;
  /** Loss notices: OpenRTB List 5.25 loss reason, -1 when not given. */
  lossReason: number;
  /** Loss notices: ${AUCTION_MIN_TO_WIN}, CPM micro-units; -1 when not given. */
  minToWinMicros: number;
  anomalies: NoticeAnomaly[];
}

export type NoticeRead = { ok: true; notice: ReadNotice } | { ok: false; status: 400 | 403 | 410; result: NoticeResult; code: NoticeTokenRefusal | 'NOTICE_TOKEN_MISSING' };

const kRefusal: Record<NoticeTokenRefusal, { status: 400 | 403 | 410; result: NoticeResult }> = {
  NOTICE_MALFORMED: { status: 400, result: 'malformed' },
  NOTICE_FORGED: { status: 403, result: 'forged' },
  NOTICE_EXPIRED: { status: 410, result: 'expired' },
};

/** Decimal CPM text → micro-units; -1 when it is not a plain non-negative decimal (an unsubstituted macro, a cipher). */
export function parseCpmMicros(text: string | undefined): number {
  if (text === undefined || text === '' || !/^\d{1,9}(\.\d{1,9})?$/.test(text)) return -1;
  return Math.round(Number(text) * 1_000_000);
}

function isMacro(v: string | undefined): boolean {
  return v !== undefined && v.startsWith('${');
}

/** The query's parameters; a key given twice keeps its first value (a repeated t cannot swap tokens). */
function params(query: string): Map<string, string> {
  const out = new Map<string, string>();
  if (query.length > 4096) return out;
  let from = 0;
  while (from <= query.length) {
    let amp = query.indexOf('&', from);
    if (amp < 0) amp = query.length;
    const eq = query.indexOf('=', from);
    const hasValue = eq >= 0 && eq < amp;
    const k = query.slice(from, hasValue ? eq : amp);
    if (!out.has(k)) {
      let v = hasValue ? query.slice(eq + 1, amp) : '';
      // Tokens and plain numbers need no decoding: most values skip it.
      if (v.includes('%') || v.includes('+')) {
        try {
          v = decodeURIComponent(v.replace(/\+/g, ' '));
        } catch {
          v = '\u0000'; // malformed %-escape: never a valid token or number
        }
      }
      out.set(k, v);
    }
    from = amp + 1;
  }
  return out;
}

/** `keys`: the keys to verify under, or kMacAlreadyVerified for a query an acceptor of this process verified. */
export function readNotice(kind: NoticeKind, query: string, keys: readonly Buffer[] | typeof kMacAlreadyVerified, nowSec: number, maxAgeSec: number): NoticeRead {
  const q = params(query);
  const token = q.get('t');
  if (token === undefined || token === '') return { ok: false, status: 400, result: 'malformed', code: 'NOTICE_TOKEN_MISSING' };
  const verified = verifyNoticeToken(token, keys, nowSec, maxAgeSec);
  if (!verified.ok) return { ok: false, ...kRefusal[verified.code], code: verified.code };
  const claims = verified.claims;
  const anomalies: NoticeAnomaly[] = [];
  const priceText = q.get('p');
  let clearingMicros = -1;
  if (priceText === undefined || priceText === '' || isMacro(priceText)) {
    if (kind === 'win' || kind === 'bill') anomalies.push('price_missing');
  } else {
    clearingMicros = parseCpmMicros(priceText);
    if (clearingMicros < 0) anomalies.push('price_invalid');
    else if (clearingMicros > claims.priceMicros) {
      anomalies.push('price_above_bid');
      clearingMicros = claims.priceMicros;
    }
  }
  const currency = q.get('c');
  if (currency !== undefined && currency !== '' && !isMacro(currency) && currency !== claims.currency) {
    anomalies.push('currency_mismatch');
    clearingMicros = -1; // a price in another currency than the bid's cannot be compared: charge the bid
  }
  const auctionId = q.get('a');
  // The token's request id may be cut (notice-urls.ts): compare what it holds.
  if (auctionId !== undefined && auctionId !== '' && !isMacro(auctionId) && !auctionId.startsWith(claims.requestId)) {
    anomalies.push('auction_id_mismatch');
  }
  let lossReason = -1;
  let minToWinMicros = -1;
  if (kind === 'loss') {
    const r = q.get('r');
    if (r !== undefined && /^\d{1,6}$/.test(r)) lossReason = Number(r);
    minToWinMicros = parseCpmMicros(q.get('m'));
  }
  return { ok: true, notice: { kind, claims, clearingMicros, lossReason, minToWinMicros, anomalies } };
}

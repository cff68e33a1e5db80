/**
 * The notice URLs of one bid: nurl (win), burl (billing) and lurl (loss), all pointing at
 * the bidder's own notice endpoints (notice-routes.ts) under the public base URL, each
 * carrying the bid's signed token and the OpenRTB 2.6 section 4.4 macros the exchange fills
 * in. One token serves all three: the kind is the path.
 *
 *   <base>/notice/win?t=<token>&p=${AUCTION_PRICE}&a=${AUCTION_ID}&c=${AUCTION_CURRENCY}
 *   <base>/notice/bill?t=<token>&p=${AUCTION_PRICE}&a=${AUCTION_ID}&c=${AUCTION_CURRENCY}
 *   <base>/notice/loss?t=<token>&p=${AUCTION_PRICE}&a=${AUCTION_ID}&r=${AUCTION_LOSS}&m=${AUCTION_MIN_TO_WIN}
 *
 * Encrypted price macros (${AUCTION_PRICE:B64} and exchange-specific ciphers) are out of
 * scope: the clearing price must come in clear text.
 *
 * The JSON fragment is built per bid, so it is a few concatenations around the one HMAC
 * the token costs; the URL text around the token is escaped once, here.
 */
import { signNoticeToken, type NoticeClaims } from './notice-token';

/**
 * The notice endpoints. win, bill and loss are the bid's nurl, burl and lurl; click takes
 * the same token (`/notice/click?t=<token>`): a creative's click tracker, or an exchange
 * that reports clicks, calls it, and the click is counted for the bid's campaign and arm.
 */
export const kNoticePaths = { win: '/notice/win', bill: '/notice/bill', loss: '/notice/loss', click: '/notice/click' } as const;
export type NoticeKind = keyof typeof kNoticePaths;

/** A request or imp id longer than this (in UTF-16 units, so at most 3x in bytes) is cut for the token. */
const kMaxIdChars = 80;

function cut(s: string): string {
  return s.length > kMaxIdChars ? s.slice(0, kMaxIdChars) : s;
}

/** ${AUCTION_*} are the exchange's; they are written literally, never escaped. */
const kPriceMacros = '&p=${AUCTION_PRICE}&a=${AUCTION_ID}&c=${AUCTION_CURRENCY}';
const kLossMacros = '&p=${AUCTION_PRICE}&a=${AUCTION_ID}&r=${AUCTION_LOSS}&m=${AUCTION_MIN_TO_WIN}';

export class NoticeUrls {
  private readonly nurlHead: string;
  private readonly burlHead: string;
  private readonly lurlHead: string;
  private readonly claims: NoticeClaims = {
    requestId: '', impId: '', bidId: '', campaignId: '', creativeId: '', priceMicros: 0, currency: 'USD',
    issuedAtSec: 0, modelVersion: '', arm: '', segment: 0, test: false, user: null,
  };

  private readonly user = { hi: 0, lo: 0 };

  /** `baseUrl` without a trailing slash: "https://bid.example.com" or "http://127.0.0.1:8080". */
  constructor(baseUrl: string, private readonly key: Buffer, modelVersion: string) {
    const base = baseUrl.replace(/\/+$/, '');
    // JSON.stringify minus its closing quote: the token and macros follow inside the string.
    const head = (path: string) => JSON.stringify(base + path + '?t=').slice(0, -1);
    this.nurlHead = ',"nurl":' + head(kNoticePaths.win);
    this.burlHead = ',"burl":' + head(kNoticePaths.bill);
    this.lurlHead = ',"lurl":' + head(kNoticePaths.loss);
    this.claims.modelVersion = modelVersion;
    this.defaultModel = modelVersion;
  }

  private readonly defaultModel: string;

  /**
   * `,"nurl":"…","burl":"…","lurl":"…"` for one bid. `priceMicros` is the bid's CPM in
   * micro-units of `currency`, rounded; `nowSec` unix seconds.
   */
  fragment(requestId: string, impId: string, bidId: string, campaignId: string, creativeId: string,
    priceMicros: number, currency: string, nowSec: number, test: boolean, user: Int32Array | null, arm = '',
    modelVersion?: string, segment = 0): string {
    const c = this.claims;
    c.requestId = cut(requestId);
    c.impId = cut(impId);
    c.bidId = bidId;
    c.campaignId = campaignId;
    c.creativeId = creativeId;
    c.priceMicros = priceMicros;
    c.currency = currency;
    c.issuedAtSec = nowSec;
    c.test = test;
    c.arm = arm;
    c.segment = segment;
    // The model that priced this bid (arms and canaries score with others than the process's default).
    if (modelVersion !== undefined && modelVersion !== '') c.modelVersion = modelVersion;
    else c.modelVersion = this.defaultModel;
    if (user === null) c.user = null;
    else {
      this.user.hi = user[0];
      this.user.lo = user[1];
      c.user = this.user;
    }
    const token = signNoticeToken(c, this.key);
    return this.nurlHead + token + kPriceMacros + '"' +
      this.burlHead + token + kPriceMacros + '"' +
      this.lurlHead + token + kLossMacros + '"';
  }
}

/** The base URL exchanges reach when none is configured: the bidding listener itself. */
export function defaultNoticeBaseUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

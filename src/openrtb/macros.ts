/**
 * OpenRTB 2.6 §4.4 substitution macros. The bidder writes them verbatim into nurl/burl/lurl
 * (and adm) templates; the exchange replaces them when it fires the notice. Never expand
 * them here: the clearing price and loss reason are known only to the exchange.
 */
export const AUCTION_ID = '${AUCTION_ID}';
export const AUCTION_BID_ID = '${AUCTION_BID_ID}';
export const AUCTION_IMP_ID = '${AUCTION_IMP_ID}';
export const AUCTION_SEAT_ID = '${AUCTION_SEAT_ID}';
export const AUCTION_AD_ID = '${AUCTION_AD_ID}';
export const AUCTION_PRICE = '${AUCTION_PRICE}';
export const AUCTION_CURRENCY = '${AUCTION_CURRENCY}';
export const AUCTION_MBR = '${AUCTION_MBR}';
export const AUCTION_LOSS = '${AUCTION_LOSS}';
export const AUCTION_MIN_TO_WIN = '${AUCTION_MIN_TO_WIN}';

export const ALL_AUCTION_MACROS: readonly string[] = [
  AUCTION_ID,
  AUCTION_BID_ID,
  AUCTION_IMP_ID,
  AUCTION_SEAT_ID,
  AUCTION_AD_ID,
  AUCTION_PRICE,
  AUCTION_CURRENCY,
  AUCTION_MBR,
  AUCTION_LOSS,
  AUCTION_MIN_TO_WIN,
];

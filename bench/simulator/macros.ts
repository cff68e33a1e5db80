/**
 * OpenRTB 2.6 section 4.4 substitution macros, filled in the way an exchange fills them in
 * a bid's nurl, burl and lurl before it calls them.
 *
 * - Each `${NAME}` the exchange supports is replaced by its value URL-encoded
 *   (encodeURIComponent), so a value can never add a query parameter or break the URL.
 * - A supported macro with no value for this event (no price on a loss, a min-to-win the
 *   exchange withholds) becomes the empty string.
 * - Macros the exchange does not support are left exactly as written.
 * - The percent-encoded spelling `%24%7BNAME%7D` (a template URL-encoded somewhere on its
 *   way) is recognised too, in either hex case.
 */

/** The section 4.4 macros; an exchange supports the ones it is given values for. */
export const kAuctionMacros = [
  'AUCTION_ID', 'AUCTION_BID_ID', 'AUCTION_IMP_ID', 'AUCTION_SEAT_ID', 'AUCTION_AD_ID', 'AUCTION_PRICE', 'AUCTION_CURRENCY',
  'AUCTION_MBR', 'AUCTION_LOSS', 'AUCTION_MIN_TO_WIN', 'AUCTION_MULTIPLIER', 'AUCTION_IMP_TS',
] as const;
export type AuctionMacro = (typeof kAuctionMacros)[number];

/** Values for one notice: a string to substitute, or null for a supported macro with no value (''). */
export type MacroValues = Partial<Record<AuctionMacro, string | null>>;

const kMacroPattern = /\$\{([A-Z0-9_]+)\}|%24%7B([A-Z0-9_]+)%7D/gi;

export function substituteMacros(url: string, values: MacroValues): string {
  return url.replace(kMacroPattern, (whole: string, plain: string | undefined, encoded: string | undefined) => {
    const name = (plain ?? encoded) as string;
    if (!Object.prototype.hasOwnProperty.call(values, name)) return whole;
    const v = values[name as AuctionMacro];
    return v === null || v === undefined ? '' : encodeURIComponent(v);
  });
}

/**
 * Request body text -> validated BidRequest, or a RequestError value. Never throws on any
 * input: hostile bodies (deep nesting, non-objects, huge imp arrays) get a 400 code.
 */
import type { BidRequest } from './types';
import { requestError, type RequestError } from '../errors';
import { validateBidRequest } from './validate';

/** Real requests nest about 7 levels (user.eids[].uids[].ext); vendor ext adds a few. */
export const MAX_DEPTH = 64;

export type ParseResult = { ok: true; request: BidRequest } | { ok: false; error: RequestError };

const TOO_DEEP = requestError('TOO_DEEP', undefined, 'JSON nesting deeper than ' + MAX_DEPTH + ' levels');

/**
 * True when `text` opens more than `max` arrays/objects at once, counting brackets outside
 * strings. Runs before JSON.parse so a nesting bomb never becomes an object graph that
 * later code (structured clone to another thread, a stray recursive walk) could choke on.
 * A linear charCode scan: well under a microsecond per KB (see test/openrtb/parse-request.test.ts).
 */
export function exceedsDepth(text: string, max: number): boolean {
  const n = text.length;
  // Each level needs its own opening bracket, so a short body cannot be too deep.
  if (n <= max) return false;
  let depth = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i++);
    if (c === 0x22 /* " */) {
      // Skip the string; a backslash escapes the next char, whatever it is.
      while (i < n) {
        const s = text.charCodeAt(i++);
        if (s === 0x5c /* \ */) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

export function parseBidRequest(text: string): ParseResult {
  if (exceedsDepth(text, MAX_DEPTH)) return { ok: false, error: TOO_DEEP };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    // The parser's own message carries the position of the fault.
    return { ok: false, error: requestError('BAD_JSON', undefined, (e as Error).message) };
  }
  const error = validateBidRequest(value);
  if (error !== null) return { ok: false, error };
  return { ok: true, request: value as BidRequest };
}

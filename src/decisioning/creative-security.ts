/**
 * Whether a creative can serve on a secure page (OpenRTB 2.6 3.2.4 `imp.secure` = 1: the
 * impression requires secure HTTPS URL creative assets and markup). Decided once per
 * creative at load, never per request.
 *
 * A creative is insecure when any of its strings holds `http://` (case-insensitive): banner
 * markup, inline VAST of video and audio, `vastUrl`, every native field (image, icon, click
 * and tracker URLs, and any field added later), `nurl`, `burl`, `lurl`. Protocol-relative
 * URLs (`//cdn...`) take the page's scheme and count as secure. Scanning every string rather
 * than a list of URL fields errs towards "insecure": a plain-text field that quotes an
 * `http://` address costs that creative its secure bids, never a mixed-content page.
 *
 * Two kinds of `http://` are names, never fetched, and are left out of the scan: XML
 * namespace declarations (`xmlns="http://www.iab.com/VAST"` in VAST 4, the SVG and XHTML
 * namespaces in banner markup) and the identifiers of a DOCTYPE (`<!DOCTYPE html PUBLIC
 * "..." "http://www.w3.org/TR/...">`). Counting them would cost nearly every VAST 4 and SVG
 * creative its secure inventory.
 */
import type { Creative } from './campaign-types';

const kInsecureUrl = /http:\/\//i;
/** Namespace declarations (`xmlns="..."`, `xmlns:x='...'`) and DOCTYPE declarations. */
const kNamesNotFetched = /\sxmlns(?::[\w.-]+)?\s*=\s*(?:"[^"]*"|'[^']*')|<!DOCTYPE[^>]*>/gi;

function insecureText(s: string): boolean {
  if (!kInsecureUrl.test(s)) return false;
  return kInsecureUrl.test(s.replace(kNamesNotFetched, ''));
}

function holdsInsecure(v: unknown): boolean {
  if (typeof v === 'string') return insecureText(v);
  if (Array.isArray(v)) {
    for (const x of v) if (holdsInsecure(x)) return true;
    return false;
  }
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) if (holdsInsecure(x)) return true;
  }
  return false;
}

export function isSecureCreative(cr: Creative): boolean {
  for (const [k, v] of Object.entries(cr)) {
    // The id names the creative; it is never fetched.
    if (k !== 'id' && holdsInsecure(v)) return false;
  }
  return true;
}

/**
 * Client text inside our error messages. A 400 tells the exchange what was wrong, and
 * quoting the offending value helps, but the value is the client's: it can be 10 KB long,
 * carry control bytes, markup or unpaired surrogates, and our messages end up in logs,
 * dashboards and other people's consoles. So an echo is always an excerpt: at most
 * kExcerptChars UTF-16 units, as a JSON string literal in which everything outside
 * printable ASCII (and the characters that mean something in HTML) is a \uXXXX escape,
 * followed by the full length when it was cut. The result is pure printable ASCII.
 *
 * Only error paths call this; it may allocate.
 */

/** Client characters an excerpt shows at most. */
export const kExcerptChars = 32;

const HEX = '0123456789abcdef';

function escapeUnit(c: number): string {
  return '\\u' + HEX[(c >> 12) & 15] + HEX[(c >> 8) & 15] + HEX[(c >> 4) & 15] + HEX[c & 15];
}

/**
 * `"first 32 chars"` or, when longer, `"first 32 chars"... (10240 chars)`. Never longer
 * than 2 + 6 x max characters plus the length note.
 */
export function excerpt(text: string, max = kExcerptChars): string {
  let end = text.length <= max ? text.length : max;
  // Do not split a surrogate pair: the half would be an escape of nothing.
  if (end < text.length && end > 0) {
    const last = text.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end--;
  }
  let out = '"';
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    // Printable ASCII, less < > & ' (markup and attribute delimiters).
    else if (c >= 0x20 && c < 0x7f && c !== 0x3c && c !== 0x3e && c !== 0x26 && c !== 0x27) out += text[i];
    else out += escapeUnit(c);
  }
  out += '"';
  if (end < text.length) out += '... (' + text.length + ' chars)';
  return out;
}

/** V8's own words before " in JSON at position N": letters, spaces and quoted punctuation. */
const SAFE_PHRASE = /^[A-Za-z ,'{}[\]:-]{1,80}$/;
const AT_POSITION = / in JSON at position (\d+)/;
const UNEXPECTED_TOKEN = "Unexpected token '";

/**
 * The detail of a BAD_JSON error, from JSON.parse's exception and the text it parsed.
 * V8's messages quote the input ("Unexpected token 'x', \"...\" is not valid JSON"), so
 * they are never passed on: only V8's phrase and the position are kept, and the input
 * near the position is shown as an excerpt.
 */
export function jsonErrorDetail(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : '';
  const at = AT_POSITION.exec(message);
  if (at !== null) {
    const phrase = message.slice(0, at.index);
    const position = Number(at[1]);
    if (SAFE_PHRASE.test(phrase) && position <= text.length) {
      return 'request body is not valid JSON: ' + phrase.charAt(0).toLowerCase() + phrase.slice(1) + ' at position ' + position +
        (position < text.length ? ', near ' + excerpt(text.slice(position, position + 16), 16) : '');
    }
  }
  if (message.startsWith('Unexpected end of JSON input')) return 'request body is not valid JSON: unexpected end of input';
  // "Unexpected token 'c', ..." names one UTF-16 unit of the input.
  if (message.startsWith(UNEXPECTED_TOKEN) && message.length > UNEXPECTED_TOKEN.length + 1) {
    return 'request body is not valid JSON: unexpected character ' + excerpt(message.charAt(UNEXPECTED_TOKEN.length), 1);
  }
  return 'request body is not valid JSON';
}

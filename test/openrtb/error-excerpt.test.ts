/**
 * A 400's message echoes client bytes only as a short, escaped excerpt, and its field
 * path is ours: whatever the body, the error body is bounded printable ASCII.
 */
import t from 'tap';
import fc from 'fast-check';
import { errorBody, type RequestError } from '../../src/errors';
import { excerpt, jsonErrorDetail, kExcerptChars } from '../../src/openrtb/excerpt';
import { parseBidRequest } from '../../src/openrtb/parse-request';

/** Longest message: the field path, the longest detail text, an excerpt at its worst. */
const kMaxMessage = 300;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

function errorOf(body: string): RequestError {
  const r = parseBidRequest(body);
  if (r.ok) throw new Error('expected a 400 for ' + body.slice(0, 60));
  return r.error;
}

/** The bounds every 400 must keep, whatever the body. */
function checkBounded(t: Tap.Test, e: RequestError, what: string): void {
  t.ok(e.message.length <= kMaxMessage, `${what}: message of ${e.message.length} chars is bounded`);
  t.match(e.message, PRINTABLE_ASCII, `${what}: message is printable ASCII`);
  t.notMatch(e.message, /[<>&]/, `${what}: no markup characters`);
  if (e.field !== undefined) t.match(e.field, /^[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*$/, `${what}: field is one of our paths`);
  const body = errorBody(e);
  t.match(body, PRINTABLE_ASCII, `${what}: error body is printable ASCII`);
}

t.test('excerpt: short text quoted whole, long text cut at 32 with its length', async (t) => {
  t.equal(excerpt('abc'), '"abc"');
  t.equal(excerpt(''), '""');
  t.equal(excerpt('x'.repeat(32)), '"' + 'x'.repeat(32) + '"', 'exactly the limit is not cut');
  t.equal(excerpt('x'.repeat(10_240)), '"' + 'x'.repeat(32) + '"... (10240 chars)');
  t.equal(kExcerptChars, 32);
});

t.test('excerpt: quotes, backslashes, control, markup and non-ASCII are escaped', async (t) => {
  t.equal(excerpt('a"b\\c'), '"a\\"b\\\\c"');
  t.equal(excerpt('\u0000\n\u001b\u007f'), '"\\u0000\\u000a\\u001b\\u007f"');
  t.equal(excerpt('<img src=x onerror=\'a\'>&'), '"\\u003cimg src=x onerror=\\u0027a\\u0027\\u003e\\u0026"');
  t.equal(excerpt('é€'), '"\\u00e9\\u20ac"');
  t.equal(excerpt('\ud83d\ude00'), '"\\ud83d\\ude00"', 'a pair is two escapes');
  t.equal(excerpt('\udc00x\ud800'), '"\\udc00x\\ud800"', 'unpaired surrogates are escaped, not replaced');
  // The result reads back as JSON to the very units that were shown.
  t.equal(JSON.parse(excerpt('<é\u0001"\\\ud800>')), '<é\u0001"\\\ud800>');
});

t.test('excerpt: a cut never splits a surrogate pair', async (t) => {
  const text = 'x'.repeat(31) + '\ud83d\ude00' + 'tail';
  t.equal(excerpt(text), '"' + 'x'.repeat(31) + '"... (37 chars)');
});

t.test('excerpt: for any text, printable ASCII, bounded, and a prefix of the input', async (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
      const out = excerpt(s);
      if (!PRINTABLE_ASCII.test(out) || /[<>&']/.test(out)) return false;
      if (out.length > 2 + 6 * kExcerptChars + ' (... 200 chars)'.length + 3) return false;
      const quoted = out.slice(0, out.lastIndexOf('"') + 1);
      const shown = JSON.parse(quoted) as string;
      return s.startsWith(shown) && shown.length <= kExcerptChars && (shown.length === s.length || out.endsWith(`(${s.length} chars)`));
    }),
    { numRuns: 500 },
  );
  t.pass('500 generated strings');
});

t.test('a 10 KB imp id, duplicated: the message quotes 32 chars of it', async (t) => {
  const id = 'A'.repeat(10_240);
  const e = errorOf(JSON.stringify({ id: 'r', imp: [{ id, banner: { w: 1, h: 1 } }, { id, banner: { w: 1, h: 1 } }] }));
  t.equal(e.code, 'DUPLICATE_IMP_ID');
  t.equal(e.field, 'imp[1].id');
  t.equal(e.message, `imp[1].id: duplicate imp id "${'A'.repeat(32)}"... (10240 chars)`);
  checkBounded(t, e, 'duplicate 10 KB id');
});

t.test('a duplicate id with markup, control bytes and an unpaired surrogate', async (t) => {
  const id = '<script>alert(1)</script>\u0000\u0007\r\n\ud800';
  const e = errorOf(JSON.stringify({ id: 'r', imp: [{ id }, { id }] }));
  t.equal(e.code, 'DUPLICATE_IMP_ID');
  t.equal(e.message, 'imp[1].id: duplicate imp id "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\\u0000\\u0007\\u000d\\u000a\\ud800"');
  checkBounded(t, e, 'hostile duplicate id');
});

t.test('wrong-typed values are described by an excerpt, never in full', async (t) => {
  const long = '<b>' + 'z'.repeat(5_000);
  const cases: [string, unknown][] = [
    ['imp[0].bidfloor', { id: 'r', imp: [{ id: '1', bidfloor: long }] }],
    ['tmax', { id: 'r', imp: [{ id: '1' }], tmax: long }],
    ['imp[0].banner.w', { id: 'r', imp: [{ id: '1', banner: { w: '\u0000\u0001<x>' } }] }],
    ['cur[1]', { id: 'r', imp: [{ id: '1' }], cur: ['USD', long] }],
    ['imp[0].native.request', { id: 'r', imp: [{ id: '1', native: { request: 12 } }] }],
  ];
  for (const [field, req] of cases) {
    const e = errorOf(JSON.stringify(req));
    t.equal(e.field, field, field);
    t.notOk(e.message.includes('zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'), `${field}: at most 32 client chars`);
    checkBounded(t, e, field);
  }
});

t.test('a client key is never part of the field path', async (t) => {
  // Unknown keys are ignored; a wrong type is reported at our own path, not the client's.
  const e = errorOf(JSON.stringify({ id: 'r', imp: [{ id: '1', '<k>\u0000': 1, banner: 'x' }] }));
  t.equal(e.field, 'imp[0].banner');
  checkBounded(t, e, 'client keys');
});

t.test('BAD_JSON never passes V8 text that quotes the input', async (t) => {
  const bodies = [
    '{"id":<script>alert(1)</script>',
    '<html>' + 'x'.repeat(10_000),
    '{"id":"r","imp":[' + '\u0001'.repeat(50),
    '{"id":"\u0007\u0008 <b>',
    '{"id":"r"}}<i>' + 'y'.repeat(3_000),
    '\ud800\udc00\ud800',
    '\u0000',
    '{"a":"\\q<x>"}',
    '',
    '{"a":1',
  ];
  for (const body of bodies) {
    const e = errorOf(body);
    t.equal(e.code, 'BAD_JSON', JSON.stringify(body.slice(0, 20)));
    t.ok(e.message.startsWith('request body is not valid JSON'), e.message);
    checkBounded(t, e, JSON.stringify(body.slice(0, 20)));
    t.notOk(e.message.includes('xxxxxxxxxxxxxxxxx') || e.message.includes('yyyyyyyyyyyyyyyyy'), 'no long run of the input');
  }
});

t.test('BAD_JSON keeps what helps: V8\'s phrase, the position, an excerpt there', async (t) => {
  t.equal(errorOf('{"a":1').message, 'request body is not valid JSON: expected \',\' or \'}\' after property value at position 6');
  t.equal(errorOf('{"a":"\u0001"}').message, 'request body is not valid JSON: bad control character in string literal at position 6, near "\\u0001\\"}"');
  t.equal(errorOf('{"id":x}').message, 'request body is not valid JSON: unexpected character "x"');
  t.equal(errorOf('{"id":<b>}').message, 'request body is not valid JSON: unexpected character "\\u003c"');
  t.equal(errorOf('').message, 'request body is not valid JSON: unexpected end of input');
});

t.test('jsonErrorDetail: an unknown parser message falls back to our own text', async (t) => {
  t.equal(jsonErrorDetail(new SyntaxError('"<secret input>" is not valid JSON'), '<secret input>'), 'request body is not valid JSON');
  t.equal(jsonErrorDetail(new SyntaxError('Odd <thing> in JSON at position 3'), 'abcdef'), 'request body is not valid JSON', 'a phrase with markup is not V8\'s');
  t.equal(jsonErrorDetail('not an error', 'x'), 'request body is not valid JSON');
});

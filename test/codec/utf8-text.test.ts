import fc from 'fast-check';
import { isUtf8 } from 'node:buffer';
import t from 'tap';
import { utf8Text } from '../../src/codec/utf8-text';

/** What the engine did before utf8Text: isUtf8 on the bytes, then decode. */
function reference(buf: Buffer, start: number, end: number): string | null {
  const bytes = buf.subarray(start, end);
  return isUtf8(bytes) ? bytes.toString('utf8') : null;
}

t.test('valid text decodes, bad bytes are null', async (t) => {
  const text = '{"id":"é広告🎯"}';
  t.equal(utf8Text(Buffer.from(text), 0, Buffer.byteLength(text)), text);
  t.equal(utf8Text(Buffer.from('abc'), 0, 3), 'abc');
  t.equal(utf8Text(Buffer.from(''), 0, 0), '');
  t.equal(utf8Text(Buffer.from([0x61, 0xff, 0x62]), 0, 3), null, 'a byte no UTF-8 has');
  t.equal(utf8Text(Buffer.from([0xed, 0xa0, 0x80]), 0, 3), null, 'an encoded surrogate');
  t.equal(utf8Text(Buffer.from([0xc0, 0xaf]), 0, 2), null, 'an overlong encoding');
  t.equal(utf8Text(Buffer.from([0xe2, 0x82]), 0, 2), null, 'a truncated sequence');
});

t.test('a U+FFFD the client really sent is text like any other', async (t) => {
  const s = '{"id":"a\uFFFDb"}';
  t.equal(utf8Text(Buffer.from(s), 0, Buffer.byteLength(s)), s);
});

t.test('only the range is read', async (t) => {
  const buf = Buffer.concat([Buffer.from([0xff]), Buffer.from('ok'), Buffer.from([0xff])]);
  t.equal(utf8Text(buf, 1, 3), 'ok');
  t.equal(utf8Text(buf, 0, 3), null);
});

t.test('property: the same answer as isUtf8 then decode, for any bytes and range', async (t) => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    // Mostly-valid text with a few bytes changed, where the interesting cases are.
    fc.tuple(fc.string({ unit: 'binary', maxLength: 24 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 })).map(([s, edits]) => {
      const b = new Uint8Array(Buffer.from(s, 'utf8'));
      for (const [i, v] of edits) if (b.length > 0) b[i % b.length] = v;
      return b;
    }),
  );
  fc.assert(
    fc.property(bytes, fc.nat(), fc.nat(), (u8, a, b) => {
      const buf = Buffer.from(u8);
      const start = buf.length === 0 ? 0 : a % (buf.length + 1);
      const end = start + (buf.length - start === 0 ? 0 : b % (buf.length - start + 1));
      return utf8Text(buf, start, end) === reference(buf, start, end);
    }),
    { numRuns: 20000, seed: 77 },
  );
  t.pass('same as the reference');
});

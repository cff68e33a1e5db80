import t from 'tap';
import { gzipSync } from 'node:zlib';
import { bodyWeightBytes } from '../../src/pool/body-weight';

t.test('a plain body weighs its length', async (t) => {
  const bytes = new Uint8Array(100);
  t.equal(bodyWeightBytes(bytes, 10, 50, false), 50);
});

t.test('a gzip body weighs what its trailer says it inflates to, never less than its length', async (t) => {
  const json = Buffer.from(JSON.stringify({ id: 'r', imp: Array.from({ length: 200 }, (_, i) => ({ id: String(i), banner: { w: 300, h: 250 } })) }));
  const gz = gzipSync(json);
  t.ok(gz.length < json.length / 5, 'repetitive JSON compresses well');
  const slab = new Uint8Array(gz.length + 64);
  slab.set(gz, 32);
  t.equal(bodyWeightBytes(slab, 32, gz.length, true), json.length, 'the ISIZE trailer');
  // A trailer smaller than the body (a lie, or garbage) never makes it lighter than its bytes.
  const odd = new Uint8Array(40);
  t.equal(bodyWeightBytes(odd, 0, 40, true), 40);
  // Too short to hold a gzip member: its length.
  t.equal(bodyWeightBytes(new Uint8Array([0x1f, 0x8b, 9, 9, 9, 9]), 0, 6, true), 6);
});

/**
 * Notice tokens: what is signed comes back, and nothing else is accepted: any altered
 * byte, another key, a truncation or garbage is refused with a stable code, and age is
 * checked both ways.
 */
import t from 'tap';
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNoticeKey } from '../../src/notices/notice-key';
import { kMaxTokenPriceMicros, signNoticeToken, verifyNoticeToken, type NoticeClaims } from '../../src/notices/notice-token';

const key = Buffer.alloc(32, 7);
const otherKey = Buffer.alloc(32, 8);
const claims: NoticeClaims = {
  requestId: '80ce30c53c16e6ede735f123ef6e32361bfc7b22',
  impId: '1',
  bidId: 'fe1x2y-3f',
  campaignId: 'cmp-101',
  creativeId: 'cr-300x250',
  priceMicros: 2_908_800,
  currency: 'USD',
  issuedAtSec: 1_796_000_000,
  modelVersion: 'ctr-logreg@3',
  arm: '',
  segment: 0x9e3779b9,
  test: false,
  user: { hi: -123456, lo: 987654 },
};

const arbClaims: fc.Arbitrary<NoticeClaims> = fc.record({
  requestId: fc.string({ maxLength: 64 }),
  impId: fc.string({ maxLength: 16 }),
  bidId: fc.string({ maxLength: 32 }),
  campaignId: fc.string({ maxLength: 32 }),
  creativeId: fc.string({ maxLength: 32 }),
  priceMicros: fc.integer({ min: 0, max: kMaxTokenPriceMicros }),
  currency: fc.constantFrom('USD', 'EUR', 'JPY', 'GBP'),
  issuedAtSec: fc.integer({ min: 0, max: 0xffffffff }),
  modelVersion: fc.string({ maxLength: 24 }),
  arm: fc.string({ maxLength: 24 }),
  segment: fc.integer({ min: 0, max: 0xffffffff }),
  test: fc.boolean(),
  user: fc.option(fc.record({ hi: fc.integer({ min: -0x80000000, max: 0x7fffffff }), lo: fc.integer({ min: -0x80000000, max: 0x7fffffff }) }), { nil: null }),
});

t.test('a version 1 token (before the shading segment) still verifies, with segment 0', async (t) => {
  const v2 = Buffer.from(signNoticeToken(claims, key), 'base64url');
  // Version 1: the same layout without the 4 segment bytes at 21, MAC over that.
  const payload = Buffer.concat([v2.subarray(0, 21), v2.subarray(25, v2.length - 16)]);
  payload[0] = 1;
  const v1 = Buffer.concat([payload, createHmac('sha256', key).update(payload).digest().subarray(0, 16)]).toString('base64url');
  t.same(verifyNoticeToken(v1, [key]), { ok: true, claims: { ...claims, segment: 0 } });
  const forged = Buffer.from(v1, 'base64url');
  forged[30] ^= 1;
  t.same(verifyNoticeToken(forged.toString('base64url'), [key]), { ok: false, code: 'NOTICE_FORGED' });
});

t.test('a signed token verifies and gives back its claims', async (t) => {
  const token = signNoticeToken(claims, key);
  t.match(token, /^[A-Za-z0-9_-]+$/, 'URL-safe as it stands (base64url, no padding)');
  t.same(verifyNoticeToken(token, [key]), { ok: true, claims });
  t.same(verifyNoticeToken(token, [otherKey, key]), { ok: true, claims }, 'any of the keys (rotation)');
  fc.assert(
    fc.property(arbClaims, (c) => {
      const r = verifyNoticeToken(signNoticeToken(c, key), [key]);
      return r.ok && JSON.stringify(r.claims) === JSON.stringify(c);
    }),
    { numRuns: 500 },
  );
});

t.test('any altered byte, another key, truncation or garbage is refused', async (t) => {
  const token = signNoticeToken(claims, key);
  t.same(verifyNoticeToken(token, [otherKey]), { ok: false, code: 'NOTICE_FORGED' });
  const bytes = Buffer.from(token, 'base64url');
  let accepted = 0;
  for (let i = 0; i < bytes.length; i++) {
    for (const flip of [0x01, 0x80, 0xff]) {
      const altered = Buffer.from(bytes);
      altered[i] ^= flip;
      if (verifyNoticeToken(altered.toString('base64url'), [key]).ok) accepted++;
    }
  }
  t.equal(accepted, 0, `no single-byte alteration of ${bytes.length} bytes is accepted`);
  for (const cut of [1, 5, 16, bytes.length - 1]) {
    t.notOk(verifyNoticeToken(bytes.subarray(0, bytes.length - cut).toString('base64url'), [key]).ok, `cut by ${cut}`);
  }
  t.same(verifyNoticeToken('', [key]), { ok: false, code: 'NOTICE_MALFORMED' });
  t.same(verifyNoticeToken('not a token!', [key]), { ok: false, code: 'NOTICE_MALFORMED' });
  t.same(verifyNoticeToken('x'.repeat(5000), [key]), { ok: false, code: 'NOTICE_MALFORMED' });
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (junk) => !verifyNoticeToken(Buffer.from(junk).toString('base64url'), [key]).ok),
    { numRuns: 2000 },
  );
});

t.test('age: an old token and one from the future are expired; a fresh one is not', async (t) => {
  const token = signNoticeToken(claims, key);
  const at = claims.issuedAtSec;
  t.ok(verifyNoticeToken(token, [key], at + 3600, 86_400).ok);
  t.same(verifyNoticeToken(token, [key], at + 86_401, 86_400), { ok: false, code: 'NOTICE_EXPIRED' });
  t.same(verifyNoticeToken(token, [key], at - 86_401, 86_400), { ok: false, code: 'NOTICE_EXPIRED' });
  t.same(verifyNoticeToken(token, [otherKey], at + 86_401, 86_400), { ok: false, code: 'NOTICE_FORGED' }, 'forgery is judged before age');
});

t.test('claims a token cannot carry are refused at signing, with a code', async (t) => {
  t.throws(() => signNoticeToken({ ...claims, priceMicros: -1 }, key), { code: 'NOTICE_TOKEN_INVALID' });
  t.throws(() => signNoticeToken({ ...claims, priceMicros: 1.5 }, key), { code: 'NOTICE_TOKEN_INVALID' });
  t.throws(() => signNoticeToken({ ...claims, priceMicros: kMaxTokenPriceMicros + 1 }, key), { code: 'NOTICE_TOKEN_INVALID' });
  t.throws(() => signNoticeToken({ ...claims, currency: 'usd' }, key), { code: 'NOTICE_TOKEN_INVALID' });
  t.throws(() => signNoticeToken({ ...claims, requestId: 'x'.repeat(256) }, key), { code: 'NOTICE_TOKEN_INVALID' });
  t.ok(signNoticeToken({ ...claims, requestId: 'x'.repeat(255) }, key), '255 bytes is the most');
});

t.test('the key: a file shared by the fleet, or a random one with a warning', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'notice-key-'));
  const file = join(dir, 'key');
  writeFileSync(file, `${'k'.repeat(40)}\n`);
  const fromFile = loadNoticeKey(file);
  t.ok(fromFile.ok && fromFile.source === 'file' && fromFile.key.length === 40 && fromFile.warning === null, 'the trailing newline is not key');
  writeFileSync(file, 'short\n');
  t.match(loadNoticeKey(file), { ok: false, code: 'NOTICE_KEY_TOO_SHORT' });
  t.match(loadNoticeKey(join(dir, 'missing')), { ok: false, code: 'NOTICE_KEY_UNREADABLE' });
  const random = loadNoticeKey(undefined);
  t.ok(random.ok && random.source === 'random' && random.key.length === 32 && /random key/.test(random.warning ?? ''));
  const other = loadNoticeKey(undefined);
  t.ok(random.ok && other.ok && !random.key.equals(other.key), 'each process draws its own');
});

/**
 * Frequency caps: the user key follows user.id, buyeruid, then the IFA, as privacy allows;
 * counts per user, campaign and cap in fixed windows, a table other threads read while the
 * owner writes, the fleet's counts folded in, and a full table that evicts rather than fails.
 */
import t from 'tap';
import fc from 'fast-check';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FrequencyCap } from '../../src/decisioning/campaign-types';
import { allocateCapTable, FrequencyCaps, windowOf } from '../../src/money/frequency-caps';
import { kUserKeyBuyerUid, kUserKeyIfa, kUserKeyNone, kUserKeyUserId, userKeyOf } from '../../src/money/user-key';
import type { BidRequest } from '../../src/openrtb/types';

function req(user: Record<string, unknown> | undefined, ifa?: string): BidRequest {
  return { id: 'r', imp: [{ id: '1' }], user, device: ifa === undefined ? undefined : { ifa } } as unknown as BidRequest;
}

t.test('the user key: user.id, then buyeruid, then the IFA, each only where privacy allows', async (t) => {
  const out = new Int32Array(2);
  t.equal(userKeyOf(req({ id: 'u1', buyeruid: 'b1' }, 'ifa-1'), true, true, out), kUserKeyUserId);
  const byId = Array.from(out);
  t.equal(userKeyOf(req({ buyeruid: 'b1' }, 'ifa-1'), true, true, out), kUserKeyBuyerUid);
  t.equal(userKeyOf(req({}, 'ifa-1'), true, true, out), kUserKeyIfa);
  t.equal(userKeyOf(req({ id: 'u1' }, 'ifa-1'), false, false, out), kUserKeyNone, 'no user data (COPPA, GDPR without consent, opt-out): no key');
  t.equal(userKeyOf(req({ id: 'u1' }, 'ifa-1'), true, false, out), kUserKeyUserId, 'lmt forbids only the IFA');
  t.equal(userKeyOf(req({}, 'ifa-1'), true, false, out), kUserKeyNone);
  t.equal(userKeyOf(req({}, '00000000-0000-0000-0000-000000000000'), true, true, out), kUserKeyNone, 'the all-zero IFA is no id');
  t.equal(userKeyOf(req({ id: '' }, undefined), true, true, out), kUserKeyNone);
  userKeyOf(req({}, 'u1'), true, true, out);
  t.notSame(Array.from(out), byId, 'a user id and an IFA with the same text are different users');
});

const hourly: FrequencyCap = { max: 3, windowSec: 3600 };
const daily: FrequencyCap = { max: 5, windowSec: 86_400 };
const t0 = 1_800_000_000 - (1_800_000_000 % 86_400); // a day boundary, which is also an hour boundary

t.test('caps: reached blocks, the next window frees, two caps at once, users and campaigns apart', async (t) => {
  const caps = new FrequencyCaps(allocateCapTable(1024));
  const both = [hourly, daily];
  for (let i = 0; i < 3; i++) {
    t.notOk(caps.capped(0, both, 1, 2, t0 + i), `impression ${i + 1} allowed`);
    caps.record(0, both, 1, 2, t0 + i);
  }
  t.ok(caps.capped(0, both, 1, 2, t0 + 10), 'three in the hour: capped');
  t.notOk(caps.capped(0, both, 1, 3, t0 + 10), 'another user is not');
  t.notOk(caps.capped(1, both, 1, 2, t0 + 10), 'nor another campaign');
  t.notOk(caps.capped(0, both, 1, 2, t0 + 3600), 'the next hour frees the hourly cap (fixed windows)');
  caps.record(0, both, 1, 2, t0 + 3600);
  caps.record(0, both, 1, 2, t0 + 3601);
  t.ok(caps.capped(0, both, 1, 2, t0 + 3602), 'five in the day: the daily cap holds though the hour has room');
  t.equal(caps.count(0, 1, daily, 1, 2, t0 + 3602), 5);
  t.notOk(caps.capped(0, both, 1, 2, t0 + 86_400), 'a new day');
});

t.test("raise folds in the fleet's count, keeping the higher", async (t) => {
  const caps = new FrequencyCaps(allocateCapTable(1024));
  caps.record(0, [hourly], 7, 8, t0);
  caps.raise(0, 0, 7, 8, windowOf(t0, 3600), 3);
  t.ok(caps.capped(0, [hourly], 7, 8, t0 + 5), 'the fleet saw three');
  caps.raise(0, 0, 7, 8, windowOf(t0, 3600), 1);
  t.equal(caps.count(0, 0, hourly, 7, 8, t0), 3, 'a lower count never lowers ours');
});

t.test('against a model: counts equal a map of (campaign, user, window) for any sequence', async (t) => {
  fc.assert(fc.property(fc.array(fc.record({ slot: fc.nat(3), user: fc.nat(20), dt: fc.nat(3 * 3600) }), { maxLength: 200 }), (ops) => {
    const caps = new FrequencyCaps(allocateCapTable(4096));
    const model = new Map<string, number>();
    for (const o of ops) {
      const now = t0 + o.dt;
      const k = `${o.slot}:${o.user}:${windowOf(now, 3600)}`;
      const expected = model.get(k) ?? 0;
      if (caps.count(o.slot, 0, hourly, o.user, -o.user, now) !== expected) return false;
      caps.record(o.slot, [hourly], o.user, -o.user, now);
      model.set(k, expected + 1);
    }
    return true;
  }), { numRuns: 100 });
  t.pass('100 random sequences matched the model');
});

t.test('a full table keeps working: old entries are evicted, never an error', async (t) => {
  const caps = new FrequencyCaps(allocateCapTable(16));
  for (let u = 0; u < 5000; u++) caps.record(0, [hourly], u, u * 31, t0);
  caps.record(0, [hourly], 99_999, 1, t0);
  t.equal(caps.count(0, 0, hourly, 99_999, 1, t0), 1, 'the newest count is there');
});

t.test('readers in other threads never see a count above what the owner wrote for that key', async (t) => {
  const sab = allocateCapTable(256);
  const caps = new FrequencyCaps(sab);
  const module = resolve(__dirname, '../../dist/src/money/frequency-caps.js');
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const readers = [0, 1].map(() => new Worker(`
    const { workerData, parentPort } = require('node:worker_threads');
    const { FrequencyCaps } = require(${JSON.stringify(module)});
    const caps = new FrequencyCaps(workerData.sab);
    const stop = new Int32Array(workerData.stop);
    const cap = { max: 1e9, windowSec: 3600 };
    let bad = 0, reads = 0;
    parentPort.postMessage('ready');
    while (Atomics.load(stop, 0) === 0) {
      for (let u = 0; u < 64; u++) {
        const n = caps.count(0, 0, cap, u, 0, ${t0});
        // The owner writes user u's count as u * 1000 + k; a torn or misattributed read would break the pattern.
        if (n !== 0 && Math.floor(n / 1000) !== u) bad++;
        reads++;
      }
    }
    parentPort.postMessage({ bad, reads });
  `, { eval: true, workerData: { sab, stop: stop.buffer } }));
  await Promise.all(readers.map((w) => new Promise((r) => w.once('message', r))));
  const results = readers.map((w) => new Promise<{ bad: number; reads: number }>((r) => w.once('message', r)));
  const cap = { max: 1e9, windowSec: 3600 };
  for (let k = 0; k < 200; k++) {
    for (let u = 0; u < 64; u++) caps.raise(0, 0, u, 0, windowOf(t0, cap.windowSec), u * 1000 + k);
    await new Promise((r) => setImmediate(r));
  }
  Atomics.store(stop, 0, 1);
  const got = await Promise.all(results);
  await Promise.all(readers.map((w) => w.terminate()));
  t.ok(got[0].reads > 0 && got[1].reads > 0, 'both readers read while the owner wrote');
  t.equal(got[0].bad + got[1].bad, 0, `${got[0].reads + got[1].reads} reads, none misattributed`);
});

/**
 * The budget ledger (src/money/budget-ledger.ts): reservations by compare-and-swap, bills,
 * releases and expiry by time bucket, checked against a model under random interleavings,
 * and several threads reserving from one small budget at once.
 * The threads run the compiled module from dist/ (run `npx tsc -p .` first).
 */
import t from 'tap';
import fc from 'fast-check';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BudgetLedger, kAvailable, kReserved, ledgerBytes, shapeFor, type LedgerShape } from '../../src/money/budget-ledger';

const REPO = resolve(__dirname, '../..');

function ledgerOf(campaigns: number, shape: LedgerShape): BudgetLedger {
  return new BudgetLedger(new SharedArrayBuffer(ledgerBytes(campaigns, shape)), campaigns, shape);
}

t.test('unbudgeted campaigns: everything admitted and reserved, only spend is tracked', async (t) => {
  const l = ledgerOf(2, { bucketSec: 10, buckets: 8 });
  l.configure(0, false);
  l.setThrottle(0, 0);
  t.ok(l.admit(0, 0.999), 'the throttle does not apply');
  t.ok(l.canCover(0, 1e12));
  t.ok(l.tryReserve(0, 1e12, 100));
  t.equal(l.reserved(0), 0, 'nothing reserved');
  l.bill(0, 2_000, 0, 100);
  t.equal(l.spentDay(0), 2_000);
  t.equal(l.spentTotal(0), 2_000);
});

t.test('budgeted: throttle, reserve, bill, release, expire', async (t) => {
  const l = ledgerOf(3, { bucketSec: 10, buckets: 8 });
  l.configure(1, true);
  t.equal(l.throttle(1), 1_000_000, 'configure opens the throttle');
  l.setThrottle(1, 250_000);
  t.ok(l.admit(1, 0.2));
  t.notOk(l.admit(1, 0.25), 'u01 * 1e6 must be under the throttle');
  l.setThrottle(1, 2e6);
  t.equal(l.throttle(1), 1_000_000, 'the throttle is clamped to [0, 1e6]');

  t.notOk(l.tryReserve(1, 1, 100), 'nothing available: refused');
  l.grant(1, 10_000);
  t.ok(l.canCover(1, 10_000));
  t.ok(l.tryReserve(1, 6_000, 100));
  t.notOk(l.canCover(1, 5_000));
  t.notOk(l.tryReserve(1, 5_000, 101), 'would take available - reserved below 0');
  t.equal(l.reserved(1), 6_000, 'a refusal changes nothing');
  t.ok(l.tryReserve(1, 4_000, 115));
  t.equal(l.reserved(1), 10_000);

  l.bill(1, 3_500, 6_000, 100); // won at a lower price than reserved
  t.equal(l.reserved(1), 4_000, 'the reservation went back');
  t.equal(l.available(1), 6_500, 'the cost was spent');
  t.equal(l.spentDay(1), 3_500);
  t.equal(l.release(1, 4_000, 115), 4_000, 'a loss gives its reservation back');
  t.equal(l.reserved(1), 0);

  t.ok(l.tryReserve(1, 1_000, 200));
  t.equal(l.expire(205, 30), 0, 'not yet old');
  t.equal(l.expire(240, 30), 1_000, 'the bucket [200, 210) is older than 30 s at 240');
  t.equal(l.reserved(1), 0);
  t.equal(l.release(1, 1_000, 200), 0, 'a loss after expiry releases nothing');
  l.bill(1, 1_000, 1_000, 200);
  t.equal(l.reserved(1), 0, 'a late bill releases nothing');
  t.equal(l.available(1), 5_500, 'but spends');
  t.equal(l.spentTotal(1), 4_500);

  l.resetDay(1);
  t.equal(l.spentDay(1), 0);
  t.equal(l.spentTotal(1), 4_500, 'the total outlives the day');
  l.setAvailable(1, 123);
  t.equal(l.available(1), 123);
  t.equal(l.available(0) + l.available(2) + l.reserved(0) + l.reserved(2), 0, 'other slots untouched');
});

t.test('a bucket the owner has not emptied is not reused by a later epoch', async (t) => {
  const l = ledgerOf(1, { bucketSec: 10, buckets: 4 }); // the ring spans 40 s
  l.configure(0, true);
  l.grant(0, 1_000);
  t.ok(l.tryReserve(0, 100, 5)); // epoch 0, bucket 0
  t.notOk(l.tryReserve(0, 100, 45), 'epoch 4 maps to bucket 0, still holding epoch 0: refused');
  t.equal(l.expire(45, 20), 100);
  t.ok(l.tryReserve(0, 100, 45), 'after expiry the bucket serves epoch 4');
  t.equal(l.release(0, 100, 5), 0, 'a loss for epoch 0 finds epoch 4 there: nothing released');
  t.equal(l.reserved(0), 100);
  t.notOk(l.tryReserve(0, 100, 5), 'a lagging clock never moves a bucket back to an older epoch');
  t.equal(l.release(0, 100, 45), 100);
});

t.test('shapes and sizes are checked', async (t) => {
  t.throws(() => new BudgetLedger(new SharedArrayBuffer(8), 4));
  t.throws(() => ledgerOf(1, { bucketSec: 0, buckets: 8 }));
  const s = shapeFor(300);
  t.ok(s.bucketSec * (s.buckets - 2) >= 300, 'shapeFor leaves two buckets beyond the TTL');
});

// ---- property: random interleavings against a model ----

type Op =
  | { k: 'reserve'; micros: number; dt: number }
  | { k: 'bill'; pick: number; costShare: number }
  | { k: 'release'; pick: number }
  | { k: 'expire'; ttl: number; dt: number }
  | { k: 'grant'; micros: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('reserve' as const), micros: fc.integer({ min: 1, max: 5_000 }), dt: fc.integer({ min: 0, max: 25 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('bill' as const), pick: fc.nat(), costShare: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('expire' as const), ttl: fc.integer({ min: 0, max: 60 }), dt: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('grant' as const), micros: fc.integer({ min: 0, max: 20_000 }) }) },
);

interface Held { micros: number; at: number; epoch: number; live: boolean }

t.test('property: reserved is the sum of live buckets; reservations never overdraw', async (t) => {
  const shape = { bucketSec: 10, buckets: 6 };
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 30_000 }), fc.array(opArb, { maxLength: 200 }), (start, ops) => {
      const l = ledgerOf(2, shape);
      l.configure(0, true);
      l.configure(1, true);
      l.grant(0, start);
      l.grant(1, 777); // a neighbour the ops never touch
      let now = 1_000;
      let available = start;
      const held: Held[] = [];
      const open = (): Held[] => held.filter((h) => h.live);
      const liveSum = (): number => open().reduce((s, h) => s + h.micros, 0);
      for (const op of ops) {
        const headroomBefore = l.available(0) - l.reserved(0);
        switch (op.k) {
          case 'reserve': {
            now += op.dt;
            const epoch = Math.floor(now / shape.bucketSec);
            const b = epoch % shape.buckets;
            const blocked = open().some((h) => h.epoch % shape.buckets === b && h.epoch !== epoch);
            const fits = available - liveSum() >= op.micros;
            const ok = l.tryReserve(0, op.micros, now);
            if (ok !== (fits && !blocked)) throw new Error(`reserve ${op.micros} at ${now}: ledger ${ok}, model fits=${fits} blocked=${blocked}`);
            if (ok) held.push({ micros: op.micros, at: now, epoch, live: true });
            if (l.available(0) - l.reserved(0) < 0) throw new Error('a reservation overdrew');
            break;
          }
          case 'bill':
          case 'release': {
            if (held.length === 0) break;
            const h = held.splice(op.pick % held.length, 1)[0]; // each bid has one notice (the owner dedupes)
            const reservedBefore = l.reserved(0);
            if (op.k === 'release') {
              const back = l.release(0, h.micros, h.at);
              if (back !== (h.live ? h.micros : 0)) throw new Error(`release gave back ${back}, live=${h.live}`);
            } else {
              const cost = Math.floor(h.micros * op.costShare);
              l.bill(0, cost, h.micros, h.at);
              available -= cost;
              if (h.live && l.available(0) - l.reserved(0) < Math.min(0, headroomBefore)) throw new Error('a bill within its reservation overdrew');
            }
            if (!h.live && l.reserved(0) !== reservedBefore) throw new Error('a notice for an expired bucket changed reserved');
            h.live = false;
            break;
          }
          case 'expire': {
            now += op.dt;
            const released = l.expire(now, op.ttl);
            let expected = 0;
            for (const h of held) {
              if (h.live && (h.epoch + 1) * shape.bucketSec <= now - op.ttl) {
                expected += h.micros;
                h.live = false;
              }
            }
            if (released !== expected) throw new Error(`expire released ${released}, model ${expected}`);
            break;
          }
          case 'grant':
            l.grant(0, op.micros);
            available += op.micros;
            break;
        }
        const reserved = l.reserved(0);
        if (reserved < 0) throw new Error('reserved below 0');
        if (reserved !== l.bucketSum(0)) throw new Error(`reserved ${reserved} != bucket sum ${l.bucketSum(0)}`);
        if (reserved !== liveSum()) throw new Error(`reserved ${reserved} != model ${liveSum()}`);
        if (l.available(0) !== available) throw new Error(`available ${l.available(0)} != model ${available}`);
      }
      return l.available(1) === 777 && l.reserved(1) === 0 && l.spentTotal(1) === 0;
    }),
    { numRuns: 300 },
  );
  t.pass('300 random interleavings');
});

// ---- threads ----

/** Reserver thread: reserves random small amounts from one campaign until refusals pile up. */
const RESERVER = `
const { workerData, parentPort } = require('node:worker_threads');
const { BudgetLedger } = require(workerData.module);
const ledger = new BudgetLedger(workerData.ledger, 1, workerData.shape);
const gate = new Int32Array(workerData.gate);
Atomics.add(gate, 1, 1);
while (Atomics.load(gate, 0) === 0) {} // spin: every thread starts at once
let seed = workerData.seed, ok = 0, micros = 0, refusals = 0;
while (refusals < 20000) {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  const m = 1 + (seed >>> 8) % 37;
  if (ledger.tryReserve(0, m, workerData.nowSec)) { ok++; micros += m; refusals = 0; } else refusals++;
}
parentPort.postMessage({ ok, micros });
`;

t.test('four threads reserving from one small budget: no double spend', async (t) => {
  const shape = { bucketSec: 60, buckets: 8 };
  const module = resolve(REPO, 'dist/src/money/budget-ledger.js');
  for (const round of [1, 2, 3]) {
    const buffer = new SharedArrayBuffer(ledgerBytes(1, shape));
    const ledger = new BudgetLedger(buffer, 1, shape);
    ledger.configure(0, true);
    const budget = 200_000;
    ledger.grant(0, budget);
    const gate = new SharedArrayBuffer(8); // [go, ready]
    const workers = [1, 2, 3, 4].map(
      (i) => new Worker(RESERVER, { eval: true, workerData: { module, ledger: buffer, shape, gate, seed: i * 7919 + round, nowSec: 1_000_000 + round } }),
    );
    const done = workers.map((w) => new Promise<{ ok: number; micros: number }>((res, rej) => { w.once('message', res); w.once('error', rej); }));
    const g = new Int32Array(gate);
    while (Atomics.load(g, 1) < workers.length) await new Promise((r) => setTimeout(r, 2));
    Atomics.store(g, 0, 1);
    const results = await Promise.all(done);
    await Promise.all(workers.map((w) => w.terminate()));
    const granted = results.reduce((s, r) => s + r.micros, 0);
    const words = new BigInt64Array(buffer);
    t.ok(granted <= budget, `round ${round}: ${granted} reserved of ${budget}`);
    t.equal(ledger.reserved(0), granted, 'reserved is exactly what the threads were granted');
    t.equal(ledger.bucketSum(0), granted, 'and sits in the bucket');
    t.ok(budget - granted < 37, 'the budget was used up (less than one largest reservation left)');
    t.equal(words[kAvailable], BigInt(budget), 'reservations never touch available');
    t.equal(words[kReserved], BigInt(granted));
  }
});

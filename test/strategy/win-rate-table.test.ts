/**
 * The shared win-rate table (src/strategy/win-rate-table.ts): round trips, the fallback to
 * the global model, removal by backward shift checked against a Map under random
 * operations, the seqlock word, and a writer thread publishing and removing while two
 * reader threads check that every slot they read is whole (c = a + 1, count from a).
 * The threads run the compiled module from dist/ (run `npx tsc -p .` first).
 */
import t from 'tap';
import fc from 'fast-check';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { fmix32 } from '../../src/features/hash';
import {
  allocateWinRateTable,
  kFromGlobal,
  kFromSegment,
  kHeaderWords,
  kNoModel,
  kOutA,
  kOutC,
  kOutCount,
  kSlotKey,
  kSlotSeq,
  kSlotWords,
  winRateTableBytes,
  winRateTableSlots,
  WinRateTable,
} from '../../src/strategy/win-rate-table';

const REPO = resolve(__dirname, '../..');

t.test('sizes: a power of two of slots, at least 8; foreign buffers refused', async (t) => {
  t.equal(winRateTableSlots(1), 8);
  t.equal(winRateTableSlots(1000), 1024);
  t.equal(new WinRateTable(allocateWinRateTable(100)).slots, 128);
  t.equal(winRateTableBytes(8), (kHeaderWords + kSlotWords * 9) * 4, 'header, global slot, 8 slots');
  t.throws(() => new WinRateTable(new SharedArrayBuffer(winRateTableBytes(8) + 4)), /allocateWinRateTable/);
  t.throws(() => new WinRateTable(new SharedArrayBuffer((kHeaderWords + kSlotWords * 13) * 4)), /power of two/);
});

t.test('publish then read: exact values; absent and thin segments fall back to the global model', async (t) => {
  const table = new WinRateTable(allocateWinRateTable(64));
  const out = new Float64Array(3);
  t.equal(table.read(7, 0, out), kNoModel, 'nothing published: no model');
  t.notOk(table.readGlobal(out));

  table.publishGlobal(-0.4, 2.5, 5_000);
  t.ok(table.publish(7, -1.2345678901234567, 3.3, 400));
  t.ok(table.publish(0xfffffffe, 0.1, 0.2, 3), 'a u32 above 2^31 is a key');
  t.notOk(table.publish(0, 1, 1, 1), 'segment 0 is not a key');
  t.equal(table.size, 2);

  t.equal(table.read(7, 100, out), kFromSegment);
  t.same([...out], [-1.2345678901234567, 3.3, 400], 'Float64 values come back bit for bit');
  t.equal(table.read(0xfffffffe, 0, out), kFromSegment);
  t.same([...out], [0.1, 0.2, 3]);
  t.equal(table.read(0xfffffffe, 4, out), kFromGlobal, 'fewer observations than asked: the global model');
  t.same([...out], [-0.4, 2.5, 5_000]);
  t.equal(table.read(8, 100, out), kFromGlobal, 'an absent segment: the global model');
  t.equal(table.read(0, 0, out), kFromGlobal, 'segment 0: the global model');
  t.equal(table.read(8, 5_001, out), kNoModel, 'the global model obeys the threshold too');
  t.ok(table.readSegment(0xfffffffe, out), 'readSegment ignores counts');
  t.notOk(table.readSegment(8, out));

  t.ok(table.publish(7, 9, 10, 11), 'republishing updates in place');
  t.equal(table.size, 2);
  t.equal(table.read(7, 0, out), kFromSegment);
  t.same([...out], [9, 10, 11]);
  t.ok(table.remove(7));
  t.notOk(table.remove(7), 'already gone');
  t.equal(table.read(7, 0, out), kFromGlobal);
  t.equal(table.size, 1);

  t.equal(table.version, 0);
  table.endSnapshot();
  t.equal(table.version, 1);
});

t.test('a full table refuses a new segment but still updates held ones', async (t) => {
  const table = new WinRateTable(allocateWinRateTable(8));
  for (let k = 1; k <= 7; k++) t.ok(table.publish(k, k, k + 1, k), `segment ${k}`);
  t.notOk(table.publish(99, 1, 2, 3), 'one slot stays empty so that every probe ends');
  t.ok(table.publish(3, 30, 31, 32));
  const out = new Float64Array(3);
  t.equal(table.read(99, 0, out), kNoModel, 'a miss in a nearly full table ends (no global published)');
  t.ok(table.readSegment(3, out));
  t.equal(out[kOutA], 30);
});

/** Keys whose home slot in a table of `slots` is `home`: forced collisions. */
function keysHomedAt(home: number, slots: number, n: number): number[] {
  const keys: number[] = [];
  for (let k = 1; keys.length < n; k++) if ((fmix32(k) & (slots - 1)) === home) keys.push(k);
  return keys;
}

t.test('property: random publishes and removals agree with a Map (backward-shift deletion)', async (t) => {
  const slots = 16;
  // A key pool that piles onto a few home slots, wrapping around the end of the table.
  const pool = [...keysHomedAt(14, slots, 4), ...keysHomedAt(15, slots, 3), ...keysHomedAt(0, slots, 3), ...keysHomedAt(5, slots, 3)];
  const opArb = fc.record({ remove: fc.boolean(), key: fc.constantFrom(...pool), a: fc.double({ min: -50, max: 50, noNaN: true }) });
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
      const table = new WinRateTable(allocateWinRateTable(slots));
      const model = new Map<number, number>();
      const out = new Float64Array(3);
      for (const op of ops) {
        if (op.remove) {
          if (table.remove(op.key) !== model.delete(op.key)) throw new Error(`remove ${op.key} disagrees`);
        } else {
          if (!table.publish(op.key, op.a, op.a + 1, op.key)) throw new Error(`publish ${op.key} refused`);
          model.set(op.key, op.a);
        }
        if (table.size !== model.size) throw new Error(`size ${table.size} != ${model.size}`);
        for (const k of pool) {
          const held = table.readSegment(k, out);
          if (held !== model.has(k)) throw new Error(`key ${k}: table ${held}, model ${model.has(k)}`);
          if (held && (out[kOutA] !== model.get(k) || out[kOutC] !== out[kOutA] + 1 || out[kOutCount] !== k)) throw new Error(`key ${k}: wrong values`);
        }
      }
      return true;
    }),
    { numRuns: 400 },
  );
  t.pass('400 random sequences');
});

t.test('the seqlock word: a slot held by the writer reads as absent; it never returns to 0', async (t) => {
  const buffer = allocateWinRateTable(8);
  const words = new Int32Array(buffer);
  const table = new WinRateTable(buffer);
  table.publishGlobal(1, 2, 1_000);
  table.publish(5, 3, 4, 1_000);
  const base = kHeaderWords + kSlotWords * (1 + (fmix32(5) & 7));
  t.equal(words[base + kSlotKey], 5);
  t.equal(words[base + kSlotSeq], 2, 'one write: 0 -> 1 -> 2');
  const out = new Float64Array(3);
  words[base + kSlotSeq] = 3; // the writer holds it
  t.equal(table.read(5, 0, out), kFromGlobal, 'an unreadable slot is treated as absent');
  t.same([...out], [1, 2, 1_000]);
  words[base + kSlotSeq] = -2;
  table.publish(5, 6, 7, 1_000);
  t.equal(words[base + kSlotSeq], 2, '-2 + 2 would read as never written; it becomes 2');
  t.equal(table.read(5, 0, out), kFromSegment);
  t.equal(out[kOutA], 6);
});

/** Writer thread: publishes and removes keys from a small pool, and the global slot, with c = a + 1, count = floor(a * 1000). */
const WRITER = `
const { workerData, parentPort } = require('node:worker_threads');
const { WinRateTable } = require(workerData.module);
const table = new WinRateTable(workerData.table);
const control = new Int32Array(workerData.control);
let seed = workerData.seed, writes = 0;
const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
Atomics.add(control, 1, 1);
while (Atomics.load(control, 0) === 0) {
  const key = 1 + Math.floor(next() * workerData.keys);
  const a = next() * 1000 - 500 + next() * 1e-9; // every bit of the mantissa busy
  if (next() < 0.2) table.remove(key);
  else table.publish(key, a, a + 1, Math.floor((a + 500) * 1000));
  if ((writes & 15) === 0) { const g = next() * 10; table.publishGlobal(g, g + 1, Math.floor((g + 500) * 1000)); }
  if ((writes & 1023) === 0) table.endSnapshot();
  writes++;
}
parentPort.postMessage(writes);
`;

/** Reader thread: reads every key until told to stop; counts whole and torn reads. */
const READER = `
const { workerData, parentPort } = require('node:worker_threads');
const { WinRateTable, kFromSegment, kFromGlobal } = require(workerData.module);
const table = new WinRateTable(workerData.table);
const control = new Int32Array(workerData.control);
const out = new Float64Array(3);
let reads = 0, segment = 0, global = 0, torn = 0;
Atomics.add(control, 1, 1);
while (Atomics.load(control, 0) === 0) {
  for (let k = 1; k <= workerData.keys; k++) {
    const source = table.read(k, 0, out);
    reads++;
    if (source === kFromSegment) segment++;
    else if (source === kFromGlobal) global++;
    else continue;
    if (out[1] !== out[0] + 1 || out[2] !== Math.floor((out[0] + 500) * 1000)) torn++;
  }
}
parentPort.postMessage({ reads, segment, global, torn });
`;

t.test('a writer thread and two reader threads: no torn slot, ever', async (t) => {
  const keys = 12;
  const tableBuffer = allocateWinRateTable(16); // 16 slots for 12 keys: long clusters, constant shifting
  const control = new SharedArrayBuffer(8); // [stop, threads running]
  const module = resolve(REPO, 'dist/src/strategy/win-rate-table.js');
  const spawn = (code: string, seed: number): Worker => new Worker(code, { eval: true, workerData: { module, table: tableBuffer, control, keys, seed } });
  const threads = [spawn(WRITER, 1), spawn(READER, 2), spawn(READER, 3)];
  const done = threads.map((w) => new Promise<unknown>((res, rej) => { w.once('message', res); w.once('error', rej); }));
  const c = new Int32Array(control);
  while (Atomics.load(c, 1) < threads.length) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 1_000));
  Atomics.store(c, 0, 1);
  const [writes, ...readers] = (await Promise.all(done)) as [number, ...{ reads: number; segment: number; global: number; torn: number }[]];
  for (const r of readers) {
    t.equal(r.torn, 0, `${r.reads} reads (${r.segment} segment, ${r.global} global) against ${writes} writes: every slot read was whole`);
    t.ok(r.segment > 0 && r.global > 0, 'the readers saw both segments and fallbacks');
  }
  t.ok(writes > 1_000, 'the writer really ran');
  t.ok(new WinRateTable(tableBuffer).version > 0);
});

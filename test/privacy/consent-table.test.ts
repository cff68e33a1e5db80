/**
 * The shared consent table (src/privacy/consent-table.ts) and its key hash: lookups,
 * probing and eviction, the seqlock word, and two worker threads writing while this
 * thread reads, which must never see one key's hash with another key's value.
 * The writers run the compiled module from dist/ (run `npx tsc -p .` first).
 */
import t from 'tap';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  allocateConsentTable,
  ConsentTable,
  consentTableSlots,
  kMaxProbes,
  kSlotSeq,
  kSlotWords,
  kTableMiss,
} from '../../src/privacy/consent-table';
import { hash64, kHashHi, kHashLo } from '../../src/privacy/string-hash';

const REPO = resolve(__dirname, '../..');

t.test('hash64 is FNV-1a 64 over the prefix, the UTF-16 code units and the suffix', async (t) => {
  const reference = (prefix: number, s: string, suffix: number): bigint => {
    let h = 0xcbf29ce484222325n;
    const units = [prefix & 0xffff, prefix >>> 16, ...Array.from(s, (c) => c.charCodeAt(0)), suffix & 0xffff, suffix >>> 16];
    for (const u of units) h = ((h ^ BigInt(u)) * 0x100000001b3n) & 0xffffffffffffffffn;
    return h;
  };
  const out = new Int32Array(2);
  for (const [prefix, s, suffix] of [[0, '', 0], [1510, 'CQumbsAQumbsAAKABAENBkFgAPAAAAAAAAAAF5wAQF5gAAAA.YAAAAAAAAAAA', 0], [3, 'DBABMA~x', 0x8000_0080], [65535 * 2 + 1, 'é€', 0xffffffff]] as [number, string, number][]) {
    hash64(prefix, s, suffix, out);
    const got = (BigInt(out[kHashHi] >>> 0) << 32n) | BigInt(out[kHashLo] >>> 0);
    t.equal(got, reference(prefix, s, suffix), JSON.stringify(s.slice(0, 12)));
  }
  hash64(0, 'a', 0, out);
  const a = [out[0], out[1]];
  hash64(2, 'a', 0, out);
  t.not(`${out[0]},${out[1]}`, `${a[0]},${a[1]}`, 'the prefix separates key spaces');
});

t.test('sizing and layout checks', async (t) => {
  t.equal(consentTableSlots(4096), 8192, 'load factor one half');
  t.equal(consentTableSlots(1), kMaxProbes, 'never fewer slots than probes');
  t.throws(() => new ConsentTable(new SharedArrayBuffer(kSlotWords * 4 * 12)), /power-of-two/);
  t.throws(() => new ConsentTable(new SharedArrayBuffer(kSlotWords * 4 * 4)), /power-of-two/);
  t.equal(new ConsentTable(allocateConsentTable(100)).slots, 256);
});

t.test('publish then lookup; a key not published is a miss', async (t) => {
  const table = new ConsentTable(allocateConsentTable(64));
  t.equal(table.lookup(1, 2), kTableMiss);
  t.ok(table.publish(1, 2, 0), 'a zero decision is a value, not a miss');
  t.ok(table.publish(-5, 7, 300));
  t.equal(table.lookup(1, 2), 0);
  t.equal(table.lookup(-5, 7), 300);
  t.equal(table.lookup(2, 1), kTableMiss, 'hi and lo both match');
  t.ok(table.publish(1, 2, 4), 'republishing a key updates it in place');
  t.equal(table.lookup(1, 2), 4);
});

t.test('colliding keys probe on, and a full probe run evicts the home slot', async (t) => {
  // One home slot for every key: lo = hi ^ c keeps hi ^ lo (what picks the slot) equal.
  const table = new ConsentTable(allocateConsentTable(4)); // 8 slots = kMaxProbes
  const key = (i: number): [number, number] => [i, i ^ 0x1234];
  for (let i = 0; i < kMaxProbes; i++) t.ok(table.publish(...key(i), i), `key ${i} placed`);
  for (let i = 0; i < kMaxProbes; i++) t.equal(table.lookup(...key(i)), i, `key ${i} found by probing`);
  t.ok(table.publish(...key(99), 99), 'a ninth key evicts');
  t.equal(table.lookup(...key(99)), 99);
  const survivors = Array.from({ length: kMaxProbes }, (_, i) => table.lookup(...key(i))).filter((v) => v !== kTableMiss);
  t.equal(survivors.length, kMaxProbes - 1, 'exactly one entry was overwritten');
});

t.test('the seqlock word is even at rest and never returns to 0 when it wraps', async (t) => {
  const buffer = allocateConsentTable(4);
  const words = new Int32Array(buffer);
  const table = new ConsentTable(buffer);
  table.publish(1, 1, 1);
  const slot = Array.from({ length: 8 }, (_, s) => s).find((s) => words[s * kSlotWords + kSlotSeq] !== 0)!;
  t.equal(words[slot * kSlotWords + kSlotSeq], 2, 'one write: 0 -> 1 -> 2');
  words[slot * kSlotWords + kSlotSeq] = -2;
  table.publish(1, 1, 5);
  t.equal(words[slot * kSlotWords + kSlotSeq], 2, '-2 + 2 would read as never written; it becomes 2');
  t.equal(table.lookup(1, 1), 5);
  words[slot * kSlotWords + kSlotSeq] = 7; // a writer holds it
  t.equal(table.lookup(1, 1), kTableMiss, 'an entry being written is not read');
  t.ok(table.publish(1, 1, 6), 'a writer holds the home slot: the entry goes to the next one');
  t.equal(words[slot * kSlotWords + kSlotSeq], 7, 'the held slot is left alone');
  t.equal(table.lookup(1, 1), 6, 'and is found there past the held slot');
});

/** Writer thread: publishes keys from a small pool into a tiny table until told to stop. */
const WRITER = `
const { workerData, parentPort } = require('node:worker_threads');
const { ConsentTable } = require(workerData.module);
const table = new ConsentTable(workerData.table);
const stop = new Int32Array(workerData.stop);
let seed = workerData.seed, writes = 0;
Atomics.add(stop, 1, 1);
const valueOf = (hi, lo) => ((hi ^ (lo * 31)) >>> 0) % 509;
while (Atomics.load(stop, 0) === 0) {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  const k = seed % workerData.keys;
  const hi = Math.imul(k, 0x9e3779b1) | 0, lo = Math.imul(k ^ 0x5bd1e995, 0x85ebca6b) | 0;
  if (table.publish(hi, lo, valueOf(hi, lo))) writes++;
}
parentPort.postMessage(writes);
`;

t.test('two writer threads and a reader: no torn read, ever', async (t) => {
  const keys = 64;
  const tableBuffer = allocateConsentTable(4); // 8 slots for 64 keys: constant eviction
  // [stop flag, writers running]
  const stop = new SharedArrayBuffer(8);
  const module = resolve(REPO, 'dist/src/privacy/consent-table.js');
  const writers = [1, 2].map(
    (seed) => new Worker(WRITER, { eval: true, workerData: { module, table: tableBuffer, stop, seed, keys } }),
  );
  const done = writers.map((w) => new Promise<number>((res, rej) => { w.once('message', res); w.once('error', rej); }));
  const table = new ConsentTable(tableBuffer);
  const valueOf = (hi: number, lo: number): number => ((hi ^ (lo * 31)) >>> 0) % 509;
  let reads = 0;
  let hits = 0;
  let torn = 0;
  const control = new Int32Array(stop);
  while (Atomics.load(control, 1) < writers.length) await new Promise((r) => setTimeout(r, 5));
  const until = Date.now() + 800;
  while (Date.now() < until) {
    for (let k = 0; k < keys; k++) {
      const hi = Math.imul(k, 0x9e3779b1) | 0;
      const lo = Math.imul(k ^ 0x5bd1e995, 0x85ebca6b) | 0;
      const v = table.lookup(hi, lo);
      reads++;
      if (v === kTableMiss) continue;
      hits++;
      if (v !== valueOf(hi, lo)) torn++;
    }
    await new Promise((r) => setImmediate(r)); // let the writers' messages through
  }
  Atomics.store(new Int32Array(stop), 0, 1);
  const writes = await Promise.all(done);
  t.equal(torn, 0, `${reads} reads, ${hits} hits, ${writes.join(' + ')} writes: every value read belongs to its key`);
  t.ok(hits > 0 && writes.every((w) => w > 0), 'the threads really overlapped');
});

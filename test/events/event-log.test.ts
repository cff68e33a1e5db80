/**
 * The event log: records round-trip through flatbuffers; the ring hands records across
 * threads intact and in order, wraps, and counts what it cannot take; the writer rotates by
 * size and age, drops and counts when the disk is behind, flushes on close; the CLI reads a
 * folder (a truncated last record reported, not fatal).
 */
import t from 'tap';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, appendFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { decodeEvent, EventEncoder, type DecodedEvent, type EventFields } from '../../src/codec/event-records';
import { EventLogWriter } from '../../src/events/event-log-writer';
import { EventRing } from '../../src/events/event-ring';
import { eventFiles, readEventFile } from '../../src/events/event-file';
import { main as eventsCli, summarize } from '../../src/events/events-cli';

const arbEvent: fc.Arbitrary<DecodedEvent> = fc.record({
  kind: fc.constantFrom('bid' as const, 'win' as const, 'bill' as const, 'loss' as const, 'exposure' as const, 'click' as const, 'shadow' as const),
  timeMs: fc.integer({ min: 0, max: 2 ** 47 }),
  requestId: fc.string({ maxLength: 40 }),
  impId: fc.string({ maxLength: 8 }),
  bidId: fc.string({ maxLength: 24 }),
  campaignId: fc.string({ maxLength: 16 }),
  creativeId: fc.string({ maxLength: 16 }),
  priceMicros: fc.integer({ min: 0, max: 2 ** 40 }),
  currency: fc.constantFrom('USD', 'EUR'),
  clearingMicros: fc.integer({ min: -1, max: 2 ** 40 }),
  costMicros: fc.integer({ min: 0, max: 2 ** 40 }),
  lossReason: fc.integer({ min: -1, max: 1000 }),
  minToWinMicros: fc.integer({ min: -1, max: 2 ** 40 }),
  modelVersion: fc.string({ maxLength: 16 }),
  arm: fc.string({ maxLength: 8 }),
  test: fc.boolean(),
  instanceId: fc.string({ maxLength: 16 }),
  valueMicros: fc.integer({ min: -1, max: 2 ** 40 }),
  segment: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  count: fc.integer({ min: 0, max: 2 ** 47 }),
  weight: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  control: fc.boolean(),
  // float32 in the schema: values a float32 holds exactly round-trip exactly.
  ctr: fc.oneof(fc.constant(-1), fc.double({ min: 0, max: 1, noNaN: true }).map(Math.fround)),
  shadowModel: fc.string({ maxLength: 16 }),
  shadowCtr: fc.oneof(fc.constant(-1), fc.double({ min: 0, max: 1, noNaN: true }).map(Math.fround)),
});

function event(kind: EventFields['kind'], campaignId: string, extra: Partial<EventFields> = {}): EventFields {
  return {
    kind, timeMs: 1_800_000_000_000, requestId: 'r', impId: '1', bidId: 'b', campaignId, creativeId: 'cr', priceMicros: 2_000_000, currency: 'USD',
    clearingMicros: -1, costMicros: 0, lossReason: -1, minToWinMicros: -1, modelVersion: 'm@1', arm: '', test: false, instanceId: 'i', ...extra,
  };
}

t.test('records round-trip, every kind and field', async (t) => {
  const enc = new EventEncoder();
  fc.assert(fc.property(arbEvent, (e) => {
    t.same(decodeEvent(enc.encode(e).slice()), e);
    return true;
  }), { numRuns: 300 });
});

t.test('the ring: in order, wraps, refuses and counts what does not fit', async (t) => {
  const ring = new EventRing(EventRing.allocate(1024));
  const got: number[] = [];
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 7; i++) t.ok(ring.tryWrite(new Uint8Array(60 + i).fill(round)), 'fits');
    ring.drain((r) => got.push(r.length * 1000 + r[0]));
  }
  t.equal(got.length, 350);
  t.same(got.slice(0, 7), [60000, 61000, 62000, 63000, 64000, 65000, 66000]);
  t.equal(got[349], 66049, 'the last record of the last round, whole after many wraps');
  let refused = 0;
  for (let i = 0; i < 40; i++) if (!ring.tryWrite(new Uint8Array(100))) refused++;
  t.equal(ring.dropped, refused);
  t.ok(refused > 0 && refused < 40);
  t.ok(!ring.tryWrite(new Uint8Array(2000)), 'a record larger than the ring is refused');
});

t.test('the ring across threads: every record arrives intact and in order, or is counted as dropped', async (t) => {
  const sab = EventRing.allocate(4096);
  const ring = new EventRing(sab);
  const producer = new Worker(`
    const { workerData } = require('node:worker_threads');
    require(${JSON.stringify(resolve(__dirname, '../../dist/src/events/event-ring.js'))});
    const { EventRing } = require(${JSON.stringify(resolve(__dirname, '../../dist/src/events/event-ring.js'))});
    const ring = new EventRing(workerData);
    for (let i = 0; i < 20000; i++) {
      const r = new Uint8Array(8 + (i % 50));
      new DataView(r.buffer).setUint32(0, i, true);
      r.fill(i & 0xff, 4);
      ring.tryWrite(r);
    }
  `, { eval: true, workerData: sab });
  let last = -1;
  let received = 0;
  let bad = 0;
  const exited = new Promise((r) => producer.once('exit', r));
  let done = false;
  void exited.then(() => (done = true));
  while (!done || ring.used > 0) {
    ring.drain((r) => {
      const i = new DataView(r.buffer, r.byteOffset).getUint32(0, true);
      if (i <= last || r.length !== 8 + (i % 50) || r[r.length - 1] !== (i & 0xff)) bad++;
      last = i;
      received++;
    });
    await new Promise((r) => setImmediate(r));
  }
  t.equal(bad, 0, 'no record torn, reordered or repeated');
  t.equal(received + ring.dropped, 20000, `received ${received}, dropped ${ring.dropped}: nothing unaccounted`);
});

t.test('the writer rotates by size and by age, and a clean close loses nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'events-rot-'));
  let now = 1_800_000_000_000;
  const w = new EventLogWriter({ dir, instanceId: 'i-1', maxFileBytes: 64 * 1024, maxFileAgeSec: 60, now: () => now });
  const enc = new EventEncoder();
  for (let i = 0; i < 3000; i++) {
    w.append(enc.encode(event('bid', 'c1', { bidId: `b${i}` })));
    if (i % 100 === 0) {
      w.flush();
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  now += 61_000;
  w.append(enc.encode(event('win', 'c1')));
  await w.close();
  const files = eventFiles(dir);
  t.ok(files.length >= 3, `${files.length} files`);
  const records = files.flatMap((f) => readEventFile(f).records);
  t.equal(records.length, 3001, 'every record written');
  t.equal(w.counters.written, 3001);
  t.same(records.slice(0, 3).map((r) => r.bidId), ['b0', 'b1', 'b2']);
  t.equal(records[3000].kind, 'win');
  t.ok(readdirSync(dir).every((n) => /^events-\d{8}T\d{6}Z-i-1-\d{6}\.fbl$/.test(n)), 'sortable names');
});

t.test('a disk that cannot keep up: records are dropped and counted, never held without bound', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'events-slow-'));
  const w = new EventLogWriter({ dir, instanceId: 'i', maxFileBytes: 1 << 20, maxFileAgeSec: 3600, maxBufferedBytes: 4096 });
  const enc = new EventEncoder();
  let accepted = 0;
  for (let i = 0; i < 500; i++) if (w.append(enc.encode(event('bid', 'c', { bidId: `b${i}` })))) accepted++;
  t.ok(w.counters.droppedSlowDisk > 0, `${w.counters.droppedSlowDisk} dropped`);
  t.equal(accepted + w.counters.droppedSlowDisk, 500);
  await w.close();
  t.equal(eventFiles(dir).flatMap((f) => readEventFile(f).records).length, accepted, 'what was accepted is on disk');
});

t.test('the CLI: stats by campaign, tail, a truncated last record, and bad usage', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'events-cli-'));
  const w = new EventLogWriter({ dir, instanceId: 'i', maxFileBytes: 1 << 20, maxFileAgeSec: 3600 });
  const enc = new EventEncoder();
  for (let i = 0; i < 10; i++) w.append(enc.encode(event('bid', 'c1', { bidId: `b${i}` })));
  for (let i = 0; i < 4; i++) w.append(enc.encode(event('win', 'c1', { bidId: `b${i}` })));
  for (let i = 0; i < 3; i++) w.append(enc.encode(event('bill', 'c1', { bidId: `b${i}`, costMicros: 1500 })));
  w.append(enc.encode(event('loss', 'c1', { bidId: 'b9', lossReason: 102, minToWinMicros: 2_510_000 })));
  w.append(enc.encode(event('bill', 'c2', { costMicros: 999, test: true })));
  await w.close();
  const file = eventFiles(dir)[0];
  appendFileSync(file, Buffer.from([40, 0, 0, 0, 1, 2, 3])); // a write cut short
  const out: string[] = [];
  const err: string[] = [];
  t.equal(await eventsCli(['stats', '--dir', dir], (l) => out.push(l), (l) => err.push(l)), 0);
  const c1 = JSON.parse(out[0]);
  t.match(c1, { campaignId: 'c1', bids: 10, wins: 4, bills: 3, losses: 1, winRate: 0.4, spendMicros: 4500, lossReasons: { 102: 1 } });
  t.same(JSON.parse(out[1]), { testRecords: 1 });
  t.match(err[0], /cut short/);
  out.length = 0;
  t.equal(await eventsCli(['tail', '--dir', dir, '-n', '2', '--kind', 'bill'], (l) => out.push(l), () => {}), 0);
  t.same(out.map((l) => JSON.parse(l).bidId), ['b2', 'b'], 'the last two bills, test traffic included');
  t.equal(await eventsCli(['tail', '--kind', 'nope', '--dir', dir], () => {}, (l) => err.push(l)), 2);
  t.equal(await eventsCli(['frobnicate'], () => {}, (l) => err.push(l)), 2);
  const corrupt = mkdtempSync(join(tmpdir(), 'events-bad-'));
  writeFileSync(join(corrupt, 'events-20260101T000000Z-i-000000.fbl'), Buffer.from([0xff, 0xff, 0xff, 0x7f, 1]));
  t.equal(await eventsCli(['stats', '--dir', corrupt], () => {}, (l) => err.push(l)), 1);
  t.match(err[err.length - 1], /^EVENTS_FILE_CORRUPT/);
  t.same(summarize([]).live, []);
});

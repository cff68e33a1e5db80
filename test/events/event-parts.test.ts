/**
 * The event log's parts beyond event-log.test.ts: encodeEvent with a shared builder, the
 * structural check that refuses damaged records, unknown kinds, ring wrap marker and drops
 * by property, the writer draining its own rings on a timer, age rotation with no new
 * records, a slow (fake) disk with a write outstanding, sinks, the Redis stream sink with a
 * fake client, and the CLI run as a process.
 */
import t from 'tap';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as flatbuffers from 'flatbuffers';
import {
  checkEventRecord, decodeEvent, encodeEvent, EVENT_FIELD_DEFAULTS, EventEncoder, frameRecord, type EventFields,
} from '../../src/codec/event-records';
import { EventRecord } from '../../src/codec/generated/events_generated';
import { EventLogError } from '../../src/events/event-errors';
import { eventFiles, readEventFile } from '../../src/events/event-file';
import { EventLogWriter, type EventFileHandle } from '../../src/events/event-log-writer';
import { EventRing } from '../../src/events/event-ring';
import { RedisStreamSink, type StreamClient } from '../../src/events/redis-stream-sink';

function event(kind: EventFields['kind'], campaignId: string, extra: Partial<EventFields> = {}): EventFields {
  return {
    kind, timeMs: 1_800_000_000_000, requestId: 'req', impId: '1', bidId: 'b', campaignId, creativeId: 'cr', priceMicros: 2_000_000, currency: 'USD',
    clearingMicros: -1, costMicros: 0, lossReason: -1, minToWinMicros: -1, modelVersion: 'm@1', arm: 'a', test: false, instanceId: 'i', ...extra,
  };
}

const tick = (ms = 1): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('encodeEvent reuses one builder; non-ASCII strings survive; defaults decode from an empty table', async (t) => {
  const b = new flatbuffers.Builder(16);
  const a = encodeEvent(event('loss', 'ç-🚀', { lossReason: 102, minToWinMicros: 2_510_000 }), b).slice();
  const c = encodeEvent(event('bill', 'c2', { costMicros: 1234, clearingMicros: 1_900_000 }), b).slice();
  t.match(decodeEvent(a), { kind: 'loss', campaignId: 'ç-🚀', lossReason: 102, minToWinMicros: 2_510_000 });
  t.match(decodeEvent(c), { kind: 'bill', campaignId: 'c2', costMicros: 1234, clearingMicros: 1_900_000 });
  const empty = new flatbuffers.Builder(64);
  EventRecord.startEventRecord(empty);
  empty.finish(EventRecord.endEventRecord(empty));
  t.match(decodeEvent(empty.asUint8Array()), { kind: 'bid', timeMs: 0, requestId: '', clearingMicros: -1, lossReason: -1, minToWinMicros: -1, test: false },
    'an older writer\'s record without a field reads as the default');
});

// A bill as the bidder wrote it before the schema had value_micros .. shadow_ctr (encoded by
// src/codec/event-records.ts at commit 6122cf8): the bytes of a file written then.
const kOldBill = '300000000000000000002600580057004800440040003c00380034002800240018001000000000000c00080000000400260000005400000058000000600000006c07000000000000e0fd1c00000000000000000054000000a025260000000000000000004c00000050000000540000005c0000006000000000505c18a3010000000000000000000203000000692d31000400000065313a4200000000050000006374724033000000030000005553440003000000637231000200000063310000050000006269642d310000000100000031000000050000007265712d31000000';

t.test('a record written before the later fields reads them as their defaults; one that sets none is byte for byte as before', async (t) => {
  const old = Buffer.from(kOldBill, 'hex');
  const fields: EventFields = {
    kind: 'bill', timeMs: 1_800_000_000_000, requestId: 'req-1', impId: '1', bidId: 'bid-1', campaignId: 'c1', creativeId: 'cr1', priceMicros: 2_500_000,
    currency: 'USD', clearingMicros: 1_900_000, costMicros: 1900, lossReason: -1, minToWinMicros: -1, modelVersion: 'ctr@3', arm: 'e1:B', test: false, instanceId: 'i-1',
  };
  t.same(decodeEvent(old), {
    ...fields, valueMicros: -1, segment: 0, count: 0, weight: 0, control: false, ctr: -1, shadowModel: '', shadowCtr: -1,
  }, 'every field, the later ones at their defaults');
  t.same(decodeEvent(old), { ...fields, ...EVENT_FIELD_DEFAULTS });
  t.equal(Buffer.from(new EventEncoder().encode(fields)).toString('hex'), kOldBill, 'no later field set: the same bytes as the old writer');
  t.equal(Buffer.from(new EventEncoder().encode({ ...fields, ...EVENT_FIELD_DEFAULTS })).toString('hex'), kOldBill, 'later fields at their defaults are not written');
  const dir = mkdtempSync(join(tmpdir(), 'events-old-'));
  writeFileSync(join(dir, 'events-20260101T000000Z-i-000000.fbl'), Buffer.concat([frameRecord(old), frameRecord(new EventEncoder().encode({ ...fields, kind: 'click', segment: 7 }))]));
  const read = readEventFile(eventFiles(dir)[0]);
  t.same(read.records.map((r) => [r.kind, r.segment, r.valueMicros, r.ctr]), [['bill', 0, -1, -1], ['click', 7, -1, -1]], 'old and new records in one file');
});

t.test('exposure, click and shadow records; the later fields round-trip; the check covers them', async (t) => {
  const enc = new EventEncoder();
  const exposure = decodeEvent(enc.encode(event('exposure', '', { arm: 'e1:A', count: 5000, weight: 50, control: true, requestId: '', bidId: '' })).slice());
  t.match(exposure, { kind: 'exposure', arm: 'e1:A', count: 5000, weight: 50, control: true, valueMicros: -1, ctr: -1 });
  const bid = decodeEvent(enc.encode(event('bid', 'c1', { arm: 'e1:A,e2:B', priceMicros: 1_500_000, valueMicros: 2_000_000, segment: 0xdeadbeef, ctr: 0.25 })).slice());
  t.match(bid, { kind: 'bid', arm: 'e1:A,e2:B', priceMicros: 1_500_000, valueMicros: 2_000_000, segment: 0xdeadbeef, ctr: 0.25, count: 0, control: false });
  const shadow = decodeEvent(enc.encode(event('shadow', 'c1', { ctr: 0.1, shadowModel: 'ctr@4', shadowCtr: 0.2 })).slice());
  t.equal(shadow.kind, 'shadow');
  t.equal(shadow.shadowModel, 'ctr@4');
  t.equal(shadow.ctr, Math.fround(0.1), 'a float32: the nearest float32 to 0.1');
  t.equal(shadow.shadowCtr, Math.fround(0.2));
  t.equal(decodeEvent(enc.encode(event('click', 'c1')).slice()).kind, 'click');
  const odd = decodeEvent(enc.encode(event('bid', 'c', { ctr: Number.NaN, valueMicros: Number.POSITIVE_INFINITY, count: -5, segment: Number.NaN })).slice());
  t.match(odd, { ctr: -1, valueMicros: -1, count: 0, segment: 0 }, 'non-finite and negative values are written as the defaults, never thrown');

  // A damaged later field is caught by the check rather than read as zeros or past the end.
  const good = enc.encode(event('shadow', 'c1', { ctr: 0.5, shadowModel: 'SHADOW-MODEL', shadowCtr: 0.5 })).slice();
  t.equal(checkEventRecord(good), null);
  const longString = good.slice();
  const at = Buffer.from(longString).indexOf('SHADOW-MODEL') - 4;
  longString[at + 2] = 0x7f; // the string's length: far past the end
  t.match(checkEventRecord(longString), /^field 23: string of \d+ bytes runs past the end/);
  t.throws(() => decodeEvent(longString), { code: 'EVENTS_CORRUPT_RECORD' });
  const outside = good.slice();
  const dv = new DataView(outside.buffer);
  const table = dv.getUint32(0, true);
  const vtable = table - dv.getInt32(table, true);
  dv.setUint16(vtable + 4 + 2 * 22, dv.getUint16(vtable + 2, true) - 2, true); // ctr (4 bytes) at the table's last 2
  t.match(checkEventRecord(outside), /^field 22 lies outside its table/);
});

t.test('damaged records are refused with EVENTS_CORRUPT_RECORD, never decoded as lies', async (t) => {
  const good = new EventEncoder().encode(event('win', 'c1', { requestId: 'x'.repeat(50) })).slice();
  t.equal(checkEventRecord(good), null);
  fc.assert(fc.property(fc.integer({ min: 0, max: good.length - 1 }), (cut) => {
    const short = good.subarray(0, cut);
    // Every prefix either fails the check or (rarely) is a still-consistent record; it never throws elsewhere.
    try {
      decodeEvent(short);
    } catch (e) {
      return e instanceof EventLogError && e.code === 'EVENTS_CORRUPT_RECORD';
    }
    return true;
  }), { numRuns: 200 });
  const bad = good.slice();
  bad[0] = 0xff; // root offset past the end
  t.throws(() => decodeEvent(bad), { code: 'EVENTS_CORRUPT_RECORD' });
  // A kind from a newer bidder (the enum grew): reported as such, not as a bid.
  const b = new flatbuffers.Builder(64);
  EventRecord.startEventRecord(b);
  b.addFieldInt8(0, 9, 0);
  b.finish(EventRecord.endEventRecord(b));
  t.throws(() => decodeEvent(b.asUint8Array()), { code: 'EVENTS_UNKNOWN_KIND' });
});

t.test('the ring: any sequence of writes and drains keeps FIFO order, wraps, and counts every refusal', async (t) => {
  fc.assert(fc.property(
    fc.array(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constant(-1)), { minLength: 1, maxLength: 300 }),
    (ops) => {
      const ring = new EventRing(EventRing.allocate(512));
      const expected: number[] = [];
      const got: number[] = [];
      let seq = 0;
      let refused = 0;
      for (const op of ops) {
        if (op < 0) {
          ring.drain((r) => got.push(r.length === 0 ? -2 : r[0] | (r[r.length - 1] << 8)));
          continue;
        }
        const rec = new Uint8Array(op);
        const tag = seq++ & 0x7f;
        rec.fill(tag);
        if (ring.tryWrite(rec)) expected.push(op === 0 ? -2 : tag | (tag << 8));
        else refused++;
      }
      ring.drain((r) => got.push(r.length === 0 ? -2 : r[0] | (r[r.length - 1] << 8)));
      return got.join() === expected.join() && ring.dropped === refused && ring.used === 0;
    },
  ), { numRuns: 300 });
  const ring = new EventRing(EventRing.allocate(64));
  t.equal(ring.capacity, 64);
  t.ok(ring.tryWrite(new Uint8Array(40)));
  t.notOk(ring.tryWrite(new Uint8Array(40)), 'full');
  t.equal(ring.drain(() => {}), 1);
  t.ok(ring.tryWrite(new Uint8Array(40)), 'after the wrap marker, at offset 0');
  let len = -1;
  ring.drain((r) => (len = r.length));
  t.equal(len, 40);
  t.equal(ring.dropped, 1);
  t.throws(() => new EventRing(new SharedArrayBuffer(100)), { code: 'EVENTS_BAD_OPTIONS' });
  t.throws(() => EventRing.allocate(0), { code: 'EVENTS_BAD_OPTIONS' });
});

t.test('the writer drains its rings on a timer, counts their drops, feeds sinks, and close() flushes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'events-rings-'));
  const rings = [new EventRing(EventRing.allocate(4096)), new EventRing(EventRing.allocate(4096))];
  const seen: Uint8Array[] = [];
  let sinkClosed = false;
  const w = new EventLogWriter({
    dir, instanceId: 'i', maxFileBytes: 1 << 20, maxFileAgeSec: 3600, rings, drainIntervalMs: 5,
    sinks: [{ write: (rs) => seen.push(...rs), close: () => { sinkClosed = true; } }],
  });
  const enc = new EventEncoder();
  for (let i = 0; i < 20; i++) rings[i % 2].tryWrite(enc.encode(event('bid', 'c', { bidId: `b${i}` })));
  for (let i = 0; i < 50 && w.counters.written < 20; i++) await tick(5);
  t.equal(w.counters.written, 20, 'the timer drained both rings');
  const filler = enc.encode(event('bid', 'c', { bidId: 'filler' })).slice();
  while (rings[0].tryWrite(filler));
  t.ok(w.counters.droppedRing >= 1, 'ring drops are summed into the writer\'s counters');
  rings[1].tryWrite(enc.encode(event('win', 'c', { bidId: 'last' })));
  await w.close();
  await w.close();
  const records = eventFiles(dir).flatMap((f) => readEventFile(f));
  t.equal(records.reduce((n, f) => n + f.records.length, 0), w.counters.written);
  t.ok(records.some((f) => f.records.some((r) => r.bidId === 'last')), 'close() drained the rings');
  t.equal(seen.length, w.counters.written, 'the sink saw every record');
  t.equal(decodeEvent(seen[0]).bidId, 'b0');
  t.ok(sinkClosed);
  t.notOk(w.append(new Uint8Array(8)), 'nothing is taken after close');
});

t.test('age rotation ends a quiet file on time; size rotation keeps files under maxFileBytes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'events-age-'));
  let now = Date.UTC(2026, 11, 2, 20, 0, 0);
  const w = new EventLogWriter({ dir, instanceId: 'i', maxFileBytes: 1000, maxFileAgeSec: 10, now: () => now });
  const enc = new EventEncoder();
  const rec = enc.encode(event('bid', 'c')).slice();
  for (let i = 0; i < 30; i++) w.append(rec);
  w.flush();
  for (let i = 0; i < 100 && w.counters.written < 30; i++) await tick();
  const frame = frameRecord(rec).length;
  const perFile = Math.floor(1000 / frame);
  t.equal(eventFiles(dir).length, Math.ceil(30 / perFile), 'split by size');
  for (const f of eventFiles(dir)) t.ok(readEventFile(f).records.length <= perFile);
  const rotatedBySize = w.counters.filesRotated;
  now += 10_000;
  w.flush(); // no record arrives, but the file is old: it ends now
  for (let i = 0; i < 100 && w.counters.filesRotated === rotatedBySize; i++) await tick();
  t.equal(w.counters.filesRotated, rotatedBySize + 1);
  now += 1_000;
  w.append(rec);
  await w.close();
  const names = readdirSync(dir).sort();
  t.equal(names.length, Math.ceil(30 / perFile) + 1);
  t.match(names[names.length - 1], /^events-20261202T200011Z-i-\d{6}\.fbl$/, 'the new file is named for its own start');
  t.throws(() => new EventLogWriter({ dir, instanceId: 'i', maxFileBytes: 0, maxFileAgeSec: -1 }), { code: 'EVENTS_BAD_OPTIONS' });
});

t.test('a slow disk: while a write is out, records past maxBufferedBytes are dropped and counted; the event loop never waits', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'events-fake-'));
  const release: (() => void)[] = [];
  const written: Buffer[] = [];
  const slow: EventFileHandle = {
    writev: (bufs) => new Promise((res) => release.push(() => {
      written.push(Buffer.concat(bufs));
      res({ bytesWritten: bufs.reduce((n, b) => n + b.length, 0) });
    })),
    close: async () => {},
  };
  const w = new EventLogWriter({ dir, instanceId: 'i', maxFileBytes: 1 << 20, maxFileAgeSec: 3600, maxBufferedBytes: 2048, openFile: async () => slow });
  const rec = new EventEncoder().encode(event('bid', 'c')).slice();
  for (let i = 0; i < 10; i++) t.ok(w.append(rec));
  w.flush();
  await tick(); // the first write is now out, and stays out
  t.equal(release.length, 1);
  let accepted = 0;
  for (let i = 0; i < 200; i++) if (w.append(rec)) accepted++;
  w.flush();
  const dropped = w.counters.droppedSlowDisk;
  t.equal(accepted + dropped, 200);
  t.ok(dropped > 0 && w.counters.bufferedBytes <= 2048, `${dropped} dropped, ${w.counters.bufferedBytes} bytes waiting`);
  const closing = w.close();
  while (release.length > 0 || w.counters.bufferedBytes > 0) {
    release.shift()?.();
    await tick();
  }
  await closing;
  t.equal(w.counters.written, 10 + accepted, 'everything accepted reached the disk');
  t.equal(Buffer.concat(written).length, (10 + accepted) * frameRecord(rec).length);
});

t.test('a failing disk loses the batch, counts it, and the writer goes on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'events-fail-'));
  let fail = true;
  const w = new EventLogWriter({
    dir, instanceId: 'i', maxFileBytes: 1 << 20, maxFileAgeSec: 3600,
    openFile: async (p) => {
      if (fail) throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
      const { open } = await import('node:fs/promises');
      return open(p, 'wx');
    },
  });
  const rec = new EventEncoder().encode(event('bid', 'c')).slice();
  w.append(rec);
  w.flush();
  for (let i = 0; i < 100 && w.counters.writeErrors === 0; i++) await tick();
  t.equal(w.counters.writeErrors, 1);
  t.equal(w.counters.droppedSlowDisk, 1);
  fail = false;
  w.append(rec);
  await w.close();
  t.equal(w.counters.written, 1);
});

t.test('the Redis stream sink: XADD with MAXLEN ~, fire and forget, drops counted when not ready', async (t) => {
  const calls: { key: string; id: string; fields: Record<string, string | Buffer>; options: unknown }[] = [];
  let reject = false;
  const client: StreamClient & { isReady: boolean } = {
    isReady: false,
    xAdd: async (key, id, fields, options) => {
      calls.push({ key, id, fields, options });
      if (reject) throw new Error('READONLY');
      return '1-0';
    },
  };
  const sink = new RedisStreamSink({ client, key: 'bidder:events', maxLen: 5000 });
  const rec = new EventEncoder().encode(event('bill', 'c', { costMicros: 7 })).slice();
  sink.write([rec, rec]);
  t.equal(sink.counters.droppedNotReady, 2, 'not ready: dropped, nothing queued');
  client.isReady = true;
  sink.write([rec]);
  reject = true;
  sink.write([rec]);
  await sink.close();
  t.same(sink.counters, { sent: 1, droppedNotReady: 2, failed: 1, inFlight: 0 });
  t.equal(calls[0].key, 'bidder:events');
  t.equal(calls[0].id, '*');
  t.same(calls[0].options, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: 5000 } });
  t.equal(decodeEvent(calls[0].fields.r as Buffer).costMicros, 7, 'the entry holds the record\'s bytes');
  const capped = new RedisStreamSink({ client: { isReady: true, xAdd: () => new Promise(() => {}) }, key: 'k', maxInFlight: 3 });
  capped.write([rec, rec, rec, rec, rec]);
  t.equal(capped.counters.droppedNotReady, 2, 'a hung Redis cannot grow memory without bound');
  t.throws(() => new RedisStreamSink({ client, key: '' }), { code: 'EVENTS_BAD_OPTIONS' });
});

t.test('the CLI as a process: stats and tail on a folder, a truncated file, a missing folder', async (t) => {
  const cli = resolve(__dirname, '../../dist/src/events/events-cli.js');
  if (!existsSync(cli)) {
    t.skip('run `npx tsc -p .` first');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'events-proc-'));
  const w = new EventLogWriter({ dir, instanceId: 'i', maxFileBytes: 1 << 20, maxFileAgeSec: 3600 });
  const enc = new EventEncoder();
  for (let i = 0; i < 4; i++) w.append(enc.encode(event('bid', 'c1', { bidId: `b${i}` })));
  w.append(enc.encode(event('win', 'c1', { bidId: 'b0' })));
  w.append(enc.encode(event('loss', 'c1', { bidId: 'b1', lossReason: 100 })));
  await w.close();
  writeFileSync(join(dir, 'events-29991231T235959Z-i-000000.fbl'), frameRecord(enc.encode(event('bid', 'c1'))).subarray(0, 20));
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  const stats = run('stats', '--dir', dir);
  t.equal(stats.status, 0, stats.stderr);
  const lines = stats.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.match(lines[0], { campaignId: 'c1', bids: 4, wins: 1, losses: 1, winRate: 0.25, lossReasons: { 100: 1 } });
  t.same(lines[lines.length - 1], { totals: { bid: 4, win: 1, bill: 0, loss: 1, exposure: 0, click: 0, shadow: 0 }, records: 6 });
  t.match(stats.stderr, /^EVENTS_TRUNCATED_RECORD: .*29991231T235959Z/m);
  const tail = run('tail', '--dir', dir, '-n', '1', '--kind', 'loss');
  t.equal(tail.status, 0);
  t.match(JSON.parse(tail.stdout), { kind: 'loss', bidId: 'b1', lossReason: 100 });
  const missing = run('stats', '--dir', join(dir, 'nope'));
  t.equal(missing.status, 1);
  t.match(missing.stderr, /^EVENTS_DIR_UNREADABLE/);
  t.equal(run('tail', '--bogus').status, 2);
});

t.test('the CLI and the later kinds and fields: stats counts them, tail prints the later fields only where set', async (t) => {
  const { main: eventsCli } = await import('../../src/events/events-cli');
  const dir = mkdtempSync(join(tmpdir(), 'events-new-'));
  const w = new EventLogWriter({ dir, instanceId: 'i', maxFileBytes: 1 << 20, maxFileAgeSec: 3600 });
  const enc = new EventEncoder();
  w.append(enc.encode(event('exposure', '', { arm: 'e1:A', count: 600, weight: 50, control: true })));
  w.append(enc.encode(event('exposure', '', { arm: 'e1:B', count: 580, weight: 50 })));
  w.append(enc.encode(event('exposure', '', { arm: 'e1:A', count: 400, weight: 50, control: true })));
  w.append(enc.encode(event('bid', 'c1', { bidId: 'b1', arm: 'e1:A', valueMicros: 3_000_000, segment: 42, ctr: 0.5 })));
  w.append(enc.encode(event('win', 'c1', { bidId: 'b1', arm: 'e1:A', segment: 42 })));
  w.append(enc.encode(event('click', 'c1', { bidId: 'b1', arm: 'e1:A' })));
  w.append(enc.encode(event('shadow', 'c1', { bidId: 'b1', ctr: 0.5, shadowModel: 'ctr@4', shadowCtr: 0.25 })));
  w.append(enc.encode(event('loss', 'c1', { bidId: 'b2', lossReason: 102 })));
  await w.close();
  const out: string[] = [];
  t.equal(await eventsCli(['stats', '--dir', dir], (l) => out.push(l), () => {}), 0);
  const lines = out.map((l) => JSON.parse(l));
  t.match(lines[0], { campaignId: 'c1', bids: 1, wins: 1, losses: 1, clicks: 1, lossReasons: { 102: 1 } });
  t.notOk(lines.some((l) => l.campaignId === ''), 'exposures belong to no campaign');
  t.same(lines.find((l) => l.exposures !== undefined), { exposures: { 'e1:A': 1000, 'e1:B': 580 } });
  t.same(lines[lines.length - 1], { totals: { bid: 1, win: 1, bill: 0, loss: 1, exposure: 3, click: 1, shadow: 1 }, records: 8 });
  out.length = 0;
  t.equal(await eventsCli(['tail', '--dir', dir, '-n', '100'], (l) => out.push(l), () => {}), 0);
  const tail = out.map((l) => JSON.parse(l));
  t.same(tail.map((r) => r.kind), ['exposure', 'exposure', 'exposure', 'bid', 'win', 'click', 'shadow', 'loss']);
  t.match(tail[0], { arm: 'e1:A', count: 600, weight: 50, control: true });
  t.notOk('control' in tail[1], 'false is the default: not printed');
  t.match(tail[3], { valueMicros: 3_000_000, segment: 42, ctr: 0.5 });
  t.notOk('count' in tail[3] || 'shadowModel' in tail[3] || 'shadowCtr' in tail[3], 'unset later fields are not printed');
  t.match(tail[6], { shadowModel: 'ctr@4', shadowCtr: 0.25, ctr: 0.5 });
  t.same(Object.keys(tail[7]).sort(), Object.keys(event('loss', 'c1')).sort(), 'a record without later fields prints as before');
  out.length = 0;
  t.equal(await eventsCli(['tail', '--dir', dir, '--kind', 'exposure', '-n', '1'], (l) => out.push(l), () => {}), 0);
  t.match(JSON.parse(out[0]), { kind: 'exposure', count: 400 });
});

t.test('tail --follow prints records appended after it started', async (t) => {
  const cli = resolve(__dirname, '../../dist/src/events/events-cli.js');
  if (!existsSync(cli)) {
    t.skip('run `npx tsc -p .` first');
    return;
  }
  const { spawn } = await import('node:child_process');
  const { appendFileSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'events-follow-'));
  const enc = new EventEncoder();
  const file = join(dir, 'events-20261202T000000Z-i-000000.fbl');
  writeFileSync(file, frameRecord(enc.encode(event('bid', 'c', { bidId: 'old' }))));
  const proc = spawn(process.execPath, [cli, 'tail', '--dir', dir, '--follow', '--kind', 'win'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  await tick(300);
  appendFileSync(file, frameRecord(enc.encode(event('bid', 'c', { bidId: 'new-bid' }))));
  appendFileSync(file, frameRecord(enc.encode(event('win', 'c', { bidId: 'new-win' }))));
  for (let i = 0; i < 60 && !out.includes('new-win'); i++) await tick(50);
  proc.kill();
  const lines = out.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  t.same(lines.map((l) => l.bidId), ['new-win'], 'only the new record of the kind asked for');
});

import t from 'tap';
import { Encoding } from 'flatbuffers';
import { readBatchReply, Reply, ReplyWriter } from '../../src/codec/reply-batch';
import {
  kReqArrivedAt,
  kReqFlags,
  kReqId,
  kReqLength,
  kReqOffset,
  kReqReceivedAt,
  kRequestWords,
  kTaskCount,
  kTaskDispatchedAt,
  kTaskHeaderWords,
  requestBase,
  taskWords,
} from '../../src/codec/request-batch';

const decoder = new TextDecoder();

interface Row {
  id: number;
  status: number;
  outcome: number;
  body: string | null;
}

function readAll(buffer: ArrayBuffer): { slot: number; started: number; finished: number; rows: Row[]; bytes: (Uint8Array | null)[] } {
  const m = readBatchReply(buffer);
  const rows: Row[] = [];
  const bytes: (Uint8Array | null)[] = [];
  const r = new Reply();
  for (let i = 0; i < m.repliesLength(); i++) {
    m.replies(i, r);
    const b = r.body(Encoding.UTF8_BYTES) as Uint8Array | null;
    bytes.push(b);
    rows.push({ id: r.requestId(), status: r.status(), outcome: r.outcome(), body: b === null ? null : decoder.decode(b) });
  }
  return { slot: m.workerSlot(), started: m.startedAtMs(), finished: m.finishedAtMs(), rows, bytes };
}

t.test('request-batch layout: named offsets, distinct, sized by taskWords', async (t) => {
  const req = [kReqId, kReqArrivedAt, kReqReceivedAt, kReqOffset, kReqLength, kReqFlags];
  t.equal(new Set(req).size, req.length, 'request word offsets are distinct');
  t.ok(req.every((w) => w >= 0 && w < kRequestWords), 'all inside one request record');
  t.not(kTaskCount, kTaskDispatchedAt);
  t.equal(taskWords(0), kTaskHeaderWords);
  t.equal(taskWords(3), kTaskHeaderWords + 3 * kRequestWords);
  t.equal(requestBase(0), kTaskHeaderWords);
  t.equal(requestBase(2) + kRequestWords, taskWords(3), 'last record ends at the end of the task');
});

t.test('round trip: ids, statuses, outcomes, UTF-8 bodies, null body absent', async (t) => {
  const w = new ReplyWriter();
  w.begin();
  const json = '{"id":"r1","seatbid":[{"bid":[{"price":1.25,"adm":"<div>café — 広告 🎯</div>"}]}]}';
  w.add(0, 200, 0, json);
  w.add(7, 204, 3, null);
  w.add(4_000_000_000, 400, 65_535, '{"code":"BAD_JSON"}');
  w.add(2, 200, 1, '');
  const buf = w.finish(5, 1234.5, 1240.25);
  const got = readAll(buf);
  t.equal(got.slot, 5);
  t.equal(got.started, 1234.5);
  t.equal(got.finished, 1240.25);
  t.same(got.rows, [
    { id: 0, status: 200, outcome: 0, body: json },
    { id: 7, status: 204, outcome: 3, body: null },
    { id: 4_000_000_000, status: 400, outcome: 65_535, body: '{"code":"BAD_JSON"}' },
    { id: 2, status: 200, outcome: 1, body: '' },
  ]);
  t.same(got.bytes[0], new TextEncoder().encode(json), 'body bytes are the exact UTF-8 encoding');
  t.equal(got.bytes[0]!.byteLength, Buffer.byteLength(json, 'utf8'));
});

t.test('an empty batch reads back as zero replies', async (t) => {
  const w = new ReplyWriter();
  w.begin();
  const got = readAll(w.finish(1, 0, 0));
  t.equal(got.rows.length, 0);
});

t.test('writer reuse: a second batch carries no replies from the first', async (t) => {
  const w = new ReplyWriter();
  w.begin();
  for (let i = 0; i < 50; i++) w.add(i, 200, 0, 'x'.repeat(100 + i));
  const first = readAll(w.finish(1, 1, 2));
  t.equal(first.rows.length, 50);
  w.begin();
  w.add(9, 204, 2, null);
  const second = readAll(w.finish(2, 3, 4));
  t.same(second.rows, [{ id: 9, status: 204, outcome: 2, body: null }]);
  t.equal(second.slot, 2);
  t.equal(second.started, 3);
});

t.test('finish() returns an independent, exact buffer', async (t) => {
  const w = new ReplyWriter();
  w.begin();
  w.add(1, 200, 0, 'first-body');
  const a = w.finish(1, 10, 20);
  const snapshot = new Uint8Array(a).slice();
  t.equal(a.byteLength, snapshot.byteLength);
  // Overwrite the builder's storage with a different, larger batch.
  w.begin();
  for (let i = 0; i < 200; i++) w.add(i, 204, 1, 'y'.repeat(64));
  const b = w.finish(2, 30, 40);
  t.same(new Uint8Array(a), snapshot, 'the first buffer is untouched by later writes');
  t.same(readAll(a).rows, [{ id: 1, status: 200, outcome: 0, body: 'first-body' }]);
  t.equal(readAll(b).rows.length, 200);
  t.not(a, b);
  // Transferable: structuredClone with transfer detaches only that buffer.
  const moved = structuredClone(a, { transfer: [a] });
  t.equal(a.byteLength, 0, 'transferred');
  t.same(readAll(moved).rows[0].body, 'first-body');
  t.equal(readAll(b).rows.length, 200, 'the other buffer is unaffected');
});

t.test('addUtf8: the body bytes as given, the same reply as add() with their text', async (t) => {
  const w = new ReplyWriter();
  w.begin();
  const json = '{"id":"r","adm":"café 広告"}';
  const scratch = Buffer.from(json, 'utf8');
  w.addUtf8(3, 200, 1, scratch);
  scratch.fill(0); // the writer copied it: the caller may reuse its buffer at once
  w.add(4, 200, 1, json);
  const got = readAll(w.finish(1, 0, 0));
  t.same(got.rows, [
    { id: 3, status: 200, outcome: 1, body: json },
    { id: 4, status: 200, outcome: 1, body: json },
  ]);
  t.same(got.bytes[0], got.bytes[1]);
});

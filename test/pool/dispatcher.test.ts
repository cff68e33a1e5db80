import t from 'tap';
import { kStatusDeferred, ReplyWriter } from '../../src/codec/reply-batch';
import {
  kFlagGzip,
  kReqArrivedAt,
  kReqFlags,
  kReqId,
  kReqLength,
  kReqOffset,
  kReqReceivedAt,
  kTaskCount,
  kTaskDispatchedAt,
  requestBase,
} from '../../src/codec/request-batch';
import { NoBidReason } from '../../src/decisioning/no-bid-reasons';
import type { ReplySink } from '../../src/engine/bid-engine';
import { type BidJob, Dispatcher, type DispatcherOptions, type JobSink, type LaneRunner, type PlacementDeps, type PoolRunner } from '../../src/pool/dispatcher';
import type { CoreProbe } from '../../src/pool/free-cores';
import { CostModel } from '../../src/pool/placement';
import { ReceiveSlab } from '../../src/pool/receive-slab';
import { monoNowMs } from '../../src/util/clock';

interface TestJob extends BidJob {
  name: string;
}

interface Call {
  words: Float64Array;
  resolve: (b: ArrayBuffer) => void;
  reject: (e: Error) => void;
  signal?: AbortSignal;
}

/** A pool whose tasks finish only when the test says so. */
class FakePool implements PoolRunner {
  readonly calls: Call[] = [];
  constructor(readonly capacity: number) {}
  run(task: ArrayBuffer, signal?: AbortSignal): Promise<ArrayBuffer> {
    return new Promise((resolve, reject) => this.calls.push({ words: new Float64Array(task), resolve, reject, signal }));
  }
}

type Answer = { job: TestJob; kind: 'answer'; status: number; outcome: number; body: string | null; startedAt: number; finishedAt: number };
type NoBid = { job: TestJob; kind: 'noBid'; reason: NoBidReason };

class FakeSink implements JobSink<TestJob> {
  readonly events: (Answer | NoBid)[] = [];
  answer(job: TestJob, status: number, outcome: number, body: Uint8Array | string | null, startedAt: number, finishedAt: number): void {
    // Copy now: bytes are a view into the reply buffer (or the engine's, inline).
    const text = body === null ? null : typeof body === 'string' ? body : new TextDecoder().decode(body.slice());
    this.events.push({ job, kind: 'answer', status, outcome, body: text, startedAt, finishedAt });
  }
  noBid(job: TestJob, reason: NoBidReason): void {
    this.events.push({ job, kind: 'noBid', reason });
  }
  of(name: string): (Answer | NoBid)[] {
    return this.events.filter((e) => e.job.name === name);
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// minStuckMs 0: the tests below see a stuck batch at half the hard timeout, their own
// short one; the floor itself has its test.
const defaults: DispatcherOptions = { maxBatchSize: 64, maxPendingRequests: 1000, maxQueueDelayMs: 10_000, hardTimeoutMs: 10_000, minStuckMs: 0 };

/** An inline lane that answers at once, recording the ids of each batch it scored. */
class FakeLane implements LaneRunner {
  readonly batches: number[][] = [];
  readonly last = { requests: 0, rows: 0, modelMs: 0, totalMs: 0, startedAt: 0, finishedAt: 0 };
  constructor(readonly maxBatch: number) {}
  async runInto(words: Float64Array, out: ReplySink): Promise<void> {
    const ids = Array.from({ length: words[kTaskCount] }, (_, i) => words[requestBase(i) + kReqId]);
    this.batches.push(ids);
    for (const id of ids) out.add(id, 200, 0, `inline-${id}`);
  }
}

class FakeCores implements CoreProbe {
  free = 0;
  samples = 0;
  sample(): void {
    this.samples++;
  }
}

/** Placement on fixed costs: 1 ms a request inline, a 0.1 ms hand-off, workers as fast. */
function fixedPlacement(cores: FakeCores): PlacementDeps {
  const cost = new CostModel({ modelBatchMs: 0, modelRowMs: 0, requestMs: 1, rowsPerRequest: 0 });
  cost.learnPool(0, 0, 0.1);
  // Keep the costs fixed: what the fakes report must not move them.
  cost.learnInline = () => undefined;
  cost.learnPool = () => undefined;
  return { cost, cores };
}

function setup(capacity: number, opts: Partial<DispatcherOptions> = {}, lane: LaneRunner | null = null, placement: PlacementDeps | null = null) {
  const pool = new FakePool(capacity);
  const slab = new ReceiveSlab(64 * 1024, 4);
  const frees: number[] = [];
  const realFree = slab.free.bind(slab);
  slab.free = (offset: number): void => {
    frees.push(offset);
    realFree(offset);
  };
  const sink = new FakeSink();
  const d = new Dispatcher<TestJob>(pool, slab, sink, { ...defaults, ...opts }, lane, placement);
  const jobs: TestJob[] = [];
  const job = (name: string, length = 100, arrivedAt = monoNowMs()): TestJob => {
    const offset = slab.alloc(length);
    if (offset < 0) throw new Error('slab full in test');
    const j: TestJob = { name, arrivedAt, receivedAt: monoNowMs(), offset, length, flags: jobs.length, done: false };
    jobs.push(j);
    return j;
  };
  return { pool, slab, sink, d, job, jobs, frees };
}

/** Ids carried by a task (its positions in the batch). */
function taskIds(c: Call): number[] {
  const n = c.words[kTaskCount];
  return Array.from({ length: n }, (_, i) => c.words[requestBase(i) + kReqId]);
}

/** Replies to every id in the task (or only `only`) with 200/outcome 0/body "ok-<id>". */
function reply(c: Call, only?: number[], started = 1, finished = 2): void {
  const w = new ReplyWriter();
  w.begin();
  for (const id of only ?? taskIds(c)) w.add(id, 200, 0, `ok-${id}`);
  c.resolve(w.finish(1, started, finished));
}

t.test('requests submitted in one turn are dispatched together after setImmediate', async (t) => {
  const { pool, d, job, sink } = setup(1);
  const a = job('a', 10);
  const b = job('b', 20);
  const c = job('c', 30);
  const before = monoNowMs();
  d.submit(a);
  d.submit(b);
  d.submit(c);
  t.equal(pool.calls.length, 0, 'nothing dispatched synchronously');
  t.equal(d.pendingCount(), 3);
  await tick();
  t.equal(pool.calls.length, 1, 'one batch');
  t.equal(d.pendingCount(), 0);
  t.equal(d.inFlightBatches(), 1);
  const w = pool.calls[0].words;
  t.equal(w[kTaskCount], 3);
  t.ok(w[kTaskDispatchedAt] >= before && w[kTaskDispatchedAt] <= monoNowMs(), 'dispatchedAt is monoNowMs');
  [a, b, c].forEach((j, i) => {
    const base = requestBase(i);
    t.equal(w[base + kReqId], i);
    t.equal(w[base + kReqOffset], j.offset);
    t.equal(w[base + kReqLength], j.length);
    t.equal(w[base + kReqArrivedAt], j.arrivedAt);
    t.equal(w[base + kReqReceivedAt], j.receivedAt);
    t.equal(w[base + kReqFlags], j.flags);
  });
  t.equal(sink.events.length, 0);
  d.close();
});

t.test('never more than capacity batches in flight; the backlog leaves when a batch returns', async (t) => {
  const { pool, d, job, slab } = setup(2);
  d.submit(job('a'));
  await tick();
  d.submit(job('b'));
  await tick();
  t.equal(pool.calls.length, 2);
  t.equal(d.inFlightBatches(), 2);
  for (let i = 0; i < 5; i++) d.submit(job(`p${i}`));
  await tick();
  await tick();
  t.equal(pool.calls.length, 2, 'no third batch while both workers are busy');
  t.equal(d.pendingCount(), 5);
  reply(pool.calls[0]);
  await tick();
  t.equal(pool.calls.length, 3, 'returned batch frees a worker');
  t.equal(pool.calls[2].words[kTaskCount], 5, 'everything waiting goes to the one free worker');
  t.equal(d.inFlightBatches(), 2);
  reply(pool.calls[1]);
  reply(pool.calls[2]);
  await d.whenIdle();
  t.equal(slab.inUse(), 0);
  d.close();
});

t.test('pending requests spread across free capacity: 10 pending, 2 free -> 5 + 5', async (t) => {
  const { pool, d, job } = setup(2);
  for (let i = 0; i < 10; i++) d.submit(job(`j${i}`));
  await tick();
  t.same(pool.calls.map((c) => c.words[kTaskCount]), [5, 5]);
  t.same(taskIds(pool.calls[0]), [0, 1, 2, 3, 4], 'ids are positions in the batch');
  t.same(pool.calls[1].words[requestBase(0) + kReqFlags], 5, 'second batch starts with the sixth job');
  d.close();
});

t.test('uneven spread rounds up: 7 pending, 3 free -> 3 + 2 + 2', async (t) => {
  const { pool, d, job } = setup(3);
  for (let i = 0; i < 7; i++) d.submit(job(`j${i}`));
  await tick();
  t.same(pool.calls.map((c) => c.words[kTaskCount]), [3, 2, 2]);
  d.close();
});

t.test('batch size is capped by maxBatchSize', async (t) => {
  const { pool, d, job } = setup(1, { maxBatchSize: 4 });
  for (let i = 0; i < 10; i++) d.submit(job(`j${i}`, 10));
  await tick();
  t.same(pool.calls.map((c) => c.words[kTaskCount]), [4]);
  reply(pool.calls[0]);
  await tick();
  reply(pool.calls[1]);
  await tick();
  t.same(pool.calls.map((c) => c.words[kTaskCount]), [4, 4, 2]);
  d.close();
});

t.test("the reply's answers reach the sink with status, outcome, body bytes and worker times", async (t) => {
  const { pool, d, job, sink, slab } = setup(1);
  const a = job('a');
  const b = job('b');
  d.submit(a);
  d.submit(b);
  await tick();
  const w = new ReplyWriter();
  w.begin();
  // Out of order, one with a body, one without.
  w.add(1, 204, 3, null);
  w.add(0, 200, 0, '{"id":"x","adm":"é"}');
  pool.calls[0].resolve(w.finish(1, 100.5, 101.25));
  await tick();
  t.same(
    sink.events.map((e) => ({ ...e, job: e.job.name })),
    [
      { job: 'b', kind: 'answer', status: 204, outcome: 3, body: null, startedAt: 100.5, finishedAt: 101.25 },
      { job: 'a', kind: 'answer', status: 200, outcome: 0, body: '{"id":"x","adm":"é"}', startedAt: 100.5, finishedAt: 101.25 },
    ],
  );
  t.ok(a.done && b.done, 'answered jobs are marked done');
  t.equal(slab.inUse(), 0);
  t.equal(d.inFlightBatches(), 0);
  d.close();
});

t.test("a rejected run answers every job of the batch with worker_failed", async (t) => {
  const { pool, d, job, sink, slab, frees, jobs } = setup(1);
  for (let i = 0; i < 3; i++) d.submit(job(`j${i}`));
  await tick();
  pool.calls[0].reject(new Error('worker died'));
  await tick();
  t.equal(sink.events.length, 3);
  t.ok(sink.events.every((e) => e.kind === 'noBid' && e.reason === NoBidReason.WorkerFailed));
  t.same(frees.slice().sort(), jobs.map((j) => j.offset).sort(), 'each region freed once');
  t.equal(slab.inUse(), 0);
  t.equal(d.inFlightBatches(), 0);
  d.close();
});

t.test('a reply that leaves a job out answers that job worker_failed', async (t) => {
  const { pool, d, job, sink, slab, frees, jobs } = setup(1);
  for (let i = 0; i < 3; i++) d.submit(job(`j${i}`));
  await tick();
  reply(pool.calls[0], [0, 2, 99]); // 99 names no job: ignored
  await tick();
  t.same(sink.of('j0').map((e) => e.kind), ['answer']);
  t.same(sink.of('j2').map((e) => e.kind), ['answer']);
  t.same(sink.of('j1'), [{ job: jobs[1], kind: 'noBid', reason: NoBidReason.WorkerFailed }]);
  t.equal(sink.events.length, 3);
  t.same(frees.slice().sort(), jobs.map((j) => j.offset).sort(), 'each region freed once');
  t.equal(slab.inUse(), 0);
  d.close();
});

t.test('aborted (done) jobs are not answered and their slab region is freed', async (t) => {
  const { pool, d, job, sink, slab, frees, jobs } = setup(1);
  const first = job('first');
  d.submit(first);
  await tick();
  // Aborted while waiting for a worker.
  const waiting = job('waiting');
  const kept = job('kept');
  d.submit(waiting);
  d.submit(kept);
  waiting.done = true;
  // Aborted while its batch is in flight.
  first.done = true;
  reply(pool.calls[0]);
  await tick();
  t.equal(pool.calls.length, 2);
  t.same(taskIds(pool.calls[1]), [0]);
  t.equal(pool.calls[1].words[requestBase(0) + kReqOffset], kept.offset, 'the aborted pending job was not dispatched');
  t.same(sink.of('first'), [], 'in-flight aborted job not answered');
  t.same(sink.of('waiting'), [], 'pending aborted job not answered');
  reply(pool.calls[1]);
  await tick();
  t.same(sink.of('kept').map((e) => e.kind), ['answer']);
  t.same(frees.slice().sort(), jobs.map((j) => j.offset).sort(), 'each region freed exactly once');
  t.equal(slab.inUse(), 0);
  d.close();
});

t.test('maxPendingRequests overflow answers overloaded at once and frees the region', async (t) => {
  const { d, job, sink, frees } = setup(1, { maxPendingRequests: 2 });
  d.submit(job('a'));
  d.submit(job('b'));
  const c = job('c');
  d.submit(c);
  t.same(sink.events, [{ job: c, kind: 'noBid', reason: NoBidReason.Overloaded }], 'synchronous');
  t.same(frees, [c.offset]);
  t.equal(d.pendingCount(), 2);
  d.close();
});

t.test('a job pending longer than maxQueueDelayMs is shed as overloaded by the sweep', async (t) => {
  const { pool, d, job, sink, slab } = setup(1, { maxQueueDelayMs: 30 });
  d.submit(job('busy'));
  await tick();
  const old = job('old');
  d.submit(old);
  await sleep(10);
  t.same(sink.of('old'), [], 'not shed before its deadline');
  await sleep(60);
  t.same(sink.of('old'), [{ job: old, kind: 'noBid', reason: NoBidReason.Overloaded }]);
  t.equal(d.pendingCount(), 0);
  reply(pool.calls[0]);
  await tick();
  t.equal(pool.calls.length, 1, 'the shed job is never dispatched');
  t.equal(slab.inUse(), 0);
  d.close();
});

t.test('a worker stuck past hardTimeoutMs is aborted: worker_failed at once, regions freed once it has stopped', async (t) => {
  // Timeouts leave room for a loaded machine: dispatch must come within half of it.
  const { pool, d, job, sink, slab, frees } = setup(1, { hardTimeoutMs: 100 });
  const a = job('a');
  const b = job('b');
  d.submit(a);
  d.submit(b);
  await tick();
  const call = pool.calls[0];
  t.ok(call.signal, 'a pool run carries an abort signal');
  await sleep(15);
  t.equal(sink.events.length, 0, 'not before the hard timeout');
  t.equal(call.signal!.aborted, false);
  await sleep(150);
  t.same(sink.events.map((e) => [e.job.name, e.kind === 'noBid' ? e.reason : e.kind]), [
    ['a', NoBidReason.WorkerFailed],
    ['b', NoBidReason.WorkerFailed],
  ]);
  t.equal(call.signal!.aborted, true, 'the run was aborted (its worker terminated)');
  t.equal(d.inFlightBatches(), 0, 'the batch no longer holds a worker slot');
  t.same(frees, [], 'the worker may still read the bodies: regions kept until the run settles');
  t.equal(slab.inUse(), 1);
  call.reject(new Error('aborted'));
  await tick();
  t.equal(sink.events.length, 2, 'the rejection answers nothing again');
  t.same(frees.slice().sort(), [a.offset, b.offset].sort(), 'each region freed once');
  t.equal(slab.inUse(), 0);
  await sleep(15);
  t.equal(sink.events.length, 2, 'later sweeps do not answer again');
  d.close();
});

t.test('a batch past the hard timeout but not yet minStuckMs out: its requests answered tmax_exceeded, its worker kept until then', async (t) => {
  const { pool, d, job, sink, frees } = setup(1, { hardTimeoutMs: 60, minStuckMs: 400 });
  const a = job('a');
  d.submit(a);
  await tick();
  const call = pool.calls[0];
  await sleep(150);
  t.same(sink.events.map((e) => [e.job.name, e.kind === 'noBid' ? e.reason : e.kind]), [['a', NoBidReason.TmaxExceeded]], 'answered by the hard timeout');
  t.equal(call.signal!.aborted, false, 'the worker is not terminated: a slow batch is not a stuck one yet');
  t.equal(d.inFlightBatches(), 1, 'it still holds its slot');
  await sleep(400);
  t.equal(call.signal!.aborted, true, 'terminated once out minStuckMs');
  t.equal(sink.events.length, 1, 'and nothing answered twice');
  call.reject(new Error('aborted'));
  await tick();
  t.same(frees, [a.offset], 'its region freed once the run settled');
  d.close();
});

t.test('a late reply from an aborted run only frees', async (t) => {
  const { pool, d, job, sink, slab, frees } = setup(1, { hardTimeoutMs: 100 });
  const a = job('a');
  d.submit(a);
  await tick();
  await sleep(150);
  t.same(sink.of('a').map((e) => (e.kind === 'noBid' ? e.reason : e.kind)), [NoBidReason.WorkerFailed]);
  reply(pool.calls[0]);
  await tick();
  t.equal(sink.of('a').length, 1, 'answered once');
  t.same(frees, [a.offset]);
  t.equal(slab.inUse(), 0);
  d.close();
});

t.test('after an abort, what waits goes to the pool again (the replacement worker)', async (t) => {
  const { pool, d, job, sink } = setup(1, { hardTimeoutMs: 60 });
  d.submit(job('stuck'));
  await tick();
  await sleep(30); // 'waiting' is then well inside its own hard timeout when the pool takes it
  const waiting = job('waiting');
  d.submit(waiting);
  await tick();
  t.equal(pool.calls.length, 1, 'the one worker slot is taken');
  const until = monoNowMs() + 200;
  while (pool.calls.length < 2 && monoNowMs() < until) await sleep(2);
  t.equal(pool.calls.length, 2, 'dispatched once the stuck batch was abandoned, before its run settled');
  t.same(taskIds(pool.calls[1]), [0]);
  reply(pool.calls[1]);
  await tick();
  t.same(sink.of('waiting').map((e) => e.kind), ['answer']);
  d.close();
});

t.test('a request already old when dispatched gets tmax_exceeded, and its healthy worker is not aborted at once', async (t) => {
  const hardTimeoutMs = 200;
  const { pool, d, job, sink, slab } = setup(1, { hardTimeoutMs });
  const old = job('old', 100, monoNowMs() - hardTimeoutMs - 20);
  d.submit(old);
  await tick();
  await sleep(40);
  t.same(sink.of('old').map((e) => (e.kind === 'noBid' ? e.reason : e.kind)), [NoBidReason.TmaxExceeded]);
  t.equal(pool.calls[0].signal!.aborted, false, 'the worker has held it for less than half the hard timeout');
  t.equal(slab.inUse(), 1, 'region kept while the worker may read it');
  reply(pool.calls[0]);
  await tick();
  t.equal(slab.inUse(), 0);
  t.equal(sink.of('old').length, 1);
  d.close();
});

t.test('an inline-lane batch past hardTimeoutMs is answered tmax_exceeded; nothing to abort, regions kept', async (t) => {
  // The lane runs on the dispatcher's thread: a lane that never returns stands for one
  // stuck in an await (a session.run that does not settle).
  class StuckLane implements LaneRunner {
    idle = true;
    readonly last = { requests: 0, rows: 0, modelMs: 0, totalMs: 0, startedAt: 0, finishedAt: 0 };
    maxBatch = 8;
    out: ReplySink | null = null;
    finish: (() => void) | null = null;
    runInto(_words: Float64Array, out: ReplySink): Promise<void> {
      this.idle = false;
      this.out = out;
      return new Promise((resolve) => (this.finish = resolve));
    }
  }
  const lane = new StuckLane();
  const { d, job, sink, slab } = setup(1, { hardTimeoutMs: 30 }, lane);
  d.submit(job('a'));
  await tick();
  await sleep(60);
  t.same(sink.of('a').map((e) => (e.kind === 'noBid' ? e.reason : e.kind)), [NoBidReason.TmaxExceeded]);
  t.equal(slab.inUse(), 1, 'kept until the lane returns');
  lane.out!.add(0, 200, 0, 'late');
  t.equal(slab.inUse(), 0, 'freed by its late answer');
  lane.finish!();
  await tick();
  t.equal(slab.inUse(), 0);
  t.equal(sink.of('a').length, 1);
  d.close();
});

t.test('the hard timeout counts from arrival, not from dispatch', async (t) => {
  // A request that arrived long ago (slow upload, queueing) and was dispatched just now must
  // be answered as soon as it is hardTimeoutMs old; the sweep skips a whole batch until the
  // batch itself is hardTimeoutMs old (dispatcher.ts sweep: `batch.dispatchedAt > hardLimit`).
  const hardTimeoutMs = 200;
  const { d, job, sink } = setup(1, { hardTimeoutMs });
  const late = job('late', 100, monoNowMs() - hardTimeoutMs - 20);
  d.submit(late);
  await tick();
  await sleep(40);
  t.same(sink.of('late').map((e) => (e.kind === 'noBid' ? e.reason : e.kind)), [NoBidReason.TmaxExceeded],
    'answered within a few sweeps of its deadline');
  d.close();
});

t.test('whenIdle resolves only when nothing is pending or in flight', async (t) => {
  const { pool, d, job } = setup(1);
  let idle = false;
  await d.whenIdle();
  t.pass('resolves at once when idle');
  d.submit(job('a'));
  d.submit(job('b'));
  await tick();
  d.submit(job('c'));
  void d.whenIdle().then(() => {
    idle = true;
  });
  await tick();
  t.equal(idle, false, 'a batch in flight and a job pending');
  reply(pool.calls[0]);
  await tick();
  t.equal(pool.calls.length, 2);
  t.equal(idle, false, 'second batch in flight');
  reply(pool.calls[1]);
  await tick();
  t.equal(idle, true);
  d.close();
});

t.test('whenIdle: a job shed by the sweep no longer counts, the batch in flight still does', async (t) => {
  const { pool, d, job, sink, slab } = setup(1, { maxQueueDelayMs: 20 });
  d.submit(job('a'));
  await tick();
  const b = job('b');
  d.submit(b);
  let idle = false;
  void d.whenIdle().then(() => {
    idle = true;
  });
  await sleep(60);
  t.same(sink.of('b'), [{ job: b, kind: 'noBid', reason: NoBidReason.Overloaded }]);
  t.equal(d.pendingCount(), 0);
  t.equal(idle, false, 'a still in flight');
  reply(pool.calls[0]);
  await tick();
  t.equal(idle, true);
  t.equal(slab.inUse(), 0);
  d.close();
});

t.test('mixed load: every job answered exactly once and every region freed exactly once', async (t) => {
  const { pool, d, job, sink, slab, frees, jobs } = setup(3, { maxBatchSize: 5, maxPendingRequests: 40 });
  let next = 0;
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 8; i++) d.submit(job(`r${round}-${next++}`, 50));
    // abort one pending job per round
    const pendingJob = jobs[jobs.length - 1];
    pendingJob.done = true;
    await tick();
    // resolve, reject or partially reply to whatever is in flight
    const open = pool.calls.filter((c) => !(c as Call & { settled?: boolean }).settled);
    open.forEach((c, i) => {
      (c as Call & { settled?: boolean }).settled = true;
      if (i % 3 === 0) reply(c);
      else if (i % 3 === 1) c.reject(new Error('boom'));
      else reply(c, taskIds(c).slice(1));
    });
    await tick();
  }
  while (d.inFlightBatches() > 0 || d.pendingCount() > 0) {
    for (const c of pool.calls) {
      const s = c as Call & { settled?: boolean };
      if (!s.settled) {
        s.settled = true;
        reply(c);
      }
    }
    await tick();
  }
  await d.whenIdle();
  const counts = new Map<string, number>();
  for (const e of sink.events) counts.set(e.job.name, (counts.get(e.job.name) ?? 0) + 1);
  const aborted = new Set(jobs.filter((j, i) => i % 8 === 7).map((j) => j.name));
  for (const j of jobs) {
    t.equal(counts.get(j.name) ?? 0, aborted.has(j.name) ? 0 : 1, `${j.name} answered ${aborted.has(j.name) ? 'never' : 'once'}`);
  }
  t.same(frees.slice().sort((x, y) => x - y), jobs.map((j) => j.offset).sort((x, y) => x - y), 'each region freed once');
  t.equal(slab.inUse(), 0);
  d.close();
});

t.test('placement: with no core free every batch stays on this thread, however deep the queue', async (t) => {
  const lane = new FakeLane(2);
  const cores = new FakeCores();
  const { pool, d, job, sink, slab } = setup(2, {}, lane, fixedPlacement(cores));
  for (const n of ['a', 'b', 'c']) {
    const j = job(n, 100);
    j.flags = 0; // jobs are made with flags = their index (2 is the crash hook)
    d.submit(j);
  }
  await tick();
  await tick();
  t.same(lane.batches, [[0, 1], [0]], 'two inline batches of at most the lane batch');
  t.equal(pool.calls.length, 0, 'no worker was woken');
  t.equal(sink.events.length, 3);
  t.equal(slab.inUse(), 0, 'slab regions freed');
  await d.whenIdle();
  d.close();
});

t.test('placement: with cores free, a batch that would wait behind inline work goes to the pool', async (t) => {
  const lane = new FakeLane(2);
  const cores = new FakeCores();
  cores.free = 2;
  const { pool, d, job, sink } = setup(2, {}, lane, fixedPlacement(cores));
  // Jobs are made with flags = their index; clear them (2 is the crash hook).
  for (const n of ['a', 'b', 'c', 'd']) {
    const j = job(n);
    j.flags = 0;
    d.submit(j);
  }
  await tick();
  // First batch: inline finishes at 2 ms, the pool at 2.1 ms. Second: inline would finish
  // at 4 ms (behind the first), the pool at 2.1 ms; spread over its two free slots, 1.1 ms.
  t.same(lane.batches, [[0, 1]], 'the first batch inline');
  t.same(pool.calls.map((c) => c.words[kTaskCount]), [1, 1], 'the rest to the pool, over both slots');
  reply(pool.calls[0]);
  reply(pool.calls[1]);
  await tick();
  await d.whenIdle();
  t.equal(sink.events.length, 4, 'every request answered once');

  // A lone request finishes inline first, even with cores free.
  const e = job('e');
  e.flags = 1; // gzip is fine inline
  d.submit(e);
  await tick();
  t.equal(lane.batches.length, 2, 'a lone request inline');
  t.equal(pool.calls.length, 2);
  d.close();
});

t.test('placement: test hooks and a full pool', async (t) => {
  const lane = new FakeLane(4);
  const cores = new FakeCores();
  const { pool, d, job, sink } = setup(1, {}, lane, fixedPlacement(cores));
  const hooked = job('a');
  hooked.flags = 2; // kFlagTestCrash: meant for a worker
  d.submit(hooked);
  await tick();
  t.equal(lane.batches.length, 0, 'test hooks never run inline');
  t.equal(pool.calls.length, 1);
  const second = job('b');
  second.flags = 2;
  d.submit(second);
  await tick();
  t.equal(pool.calls.length, 1, 'the pool is full: the hooked request waits');
  reply(pool.calls[0]);
  await tick();
  t.equal(pool.calls.length, 2, 'sent when the slot is free');
  reply(pool.calls[1]);
  await tick();
  await d.whenIdle();
  t.equal(sink.events.length, 2);
  d.close();
});

t.test('placement: the sweep samples the free cores', async (t) => {
  const cores = new FakeCores();
  const { d } = setup(1, {}, new FakeLane(8), fixedPlacement(cores));
  await sleep(250);
  t.ok(cores.samples >= 1, `sampled ${cores.samples} times in 250 ms`);
  d.close();
});

/** Writes a gzip trailer claiming `isize` inflated bytes at the end of the job's region. */
function claimInflated(slab: ReceiveSlab, j: TestJob, isize: number): void {
  const end = j.offset + j.length;
  new DataView(slab.buffer).setUint32(end - 4, isize, true);
  j.flags = kFlagGzip;
}

t.test('heavy requests: their own batches, never the last free slot, light ones first', async (t) => {
  const { pool, d, job, sink } = setup(2, { heavyBodyBytes: 16 * 1024 });
  const h1 = job('h1', 20_000);
  const h2 = job('h2', 20_000);
  const l1 = job('l1', 500);
  for (const j of [h1, h2, l1]) j.flags = 0;
  d.submit(h1);
  d.submit(l1);
  d.submit(h2);
  await tick();
  t.equal(pool.calls.length, 2, 'a light batch and one heavy batch');
  t.same(taskIds(pool.calls[0]).length, 1, 'the light request goes first, alone');
  t.equal(pool.calls[0].words[requestBase(0) + kReqLength], 500, 'the light batch holds the light body');
  t.same(Array.from({ length: pool.calls[1].words[kTaskCount] }, (_, i) => pool.calls[1].words[requestBase(i) + kReqLength]), [20_000, 20_000], 'the heavy batch holds both heavy bodies');
  reply(pool.calls[0]);
  await tick();
  t.equal(sink.of('l1')[0]?.kind, 'answer');
  // The heavy batch still holds one slot of two: heavy work may not take the other.
  const h3 = job('h3', 20_000);
  h3.flags = 0;
  d.submit(h3);
  await tick();
  t.equal(pool.calls.length, 2, 'a second heavy batch waits while one holds a slot (capacity 2)');
  const l2 = job('l2', 500);
  l2.flags = 0;
  d.submit(l2);
  await tick();
  t.equal(pool.calls.length, 3, 'a light request still finds the free slot');
  t.equal(pool.calls[2].words[requestBase(0) + kReqLength], 500);
  reply(pool.calls[1]);
  await tick();
  t.equal(pool.calls.length, 4, 'the waiting heavy request goes once the heavy slot frees');
  t.equal(pool.calls[3].words[requestBase(0) + kReqLength], 20_000);
  reply(pool.calls[2]);
  reply(pool.calls[3]);
  await tick();
  for (const n of ['h1', 'h2', 'h3', 'l2']) t.equal(sink.of(n)[0]?.kind, 'answer', `${n} answered`);
  t.equal(d.pendingCount(), 0);
  t.equal(d.inFlightBatches(), 0);
  d.close();
});

t.test('heavy requests: with one slot, heavy and light take turns', async (t) => {
  const { pool, d, job } = setup(1, { heavyBodyBytes: 16 * 1024 });
  const h = job('h', 20_000);
  h.flags = 0;
  d.submit(h);
  await tick();
  t.equal(pool.calls.length, 1, 'a single-slot pool still serves heavy requests');
  const l = job('l', 100);
  l.flags = 0;
  d.submit(l);
  await tick();
  t.equal(pool.calls.length, 1, 'the light one waits for the slot');
  reply(pool.calls[0]);
  await tick();
  t.equal(pool.calls.length, 2);
  t.equal(pool.calls[1].words[requestBase(0) + kReqLength], 100);
  reply(pool.calls[1]);
  d.close();
});

t.test('heavy requests: a batch holds at most 256 KiB of bodies; gzip weighs what it inflates to', async (t) => {
  const { pool, d, job, slab } = setup(3, { heavyBodyBytes: 16 * 1024 });
  const hs = ['a', 'b', 'c', 'd'].map((n) => {
    const j = job(n, 1_000);
    claimInflated(slab, j, 100 * 1024);
    return j;
  });
  for (const j of hs) d.submit(j);
  await tick();
  t.equal(pool.calls.length, 2, 'two heavy batches (capacity 3 leaves one slot to light work)');
  t.equal(pool.calls[0].words[kTaskCount], 2, '2 x 100 KiB inflated fit 256 KiB, a third does not');
  t.equal(pool.calls[1].words[kTaskCount], 2);
  t.equal(pool.calls[0].words[requestBase(0) + kReqFlags], kFlagGzip, 'the gzip flag travels');
  // The same small gzip body claiming a small size is light.
  const small = job('small', 1_000);
  claimInflated(slab, small, 2_000);
  d.submit(small);
  await tick();
  t.equal(pool.calls.length, 3, 'a light gzip body takes the slot heavy work may not');
  for (const c of pool.calls) reply(c);
  d.close();
});

t.test('heavy requests never run in the inline lane, and do not keep light ones from it', async (t) => {
  const lane = new FakeLane(64);
  const { pool, d, job, sink } = setup(2, { heavyBodyBytes: 16 * 1024 }, lane, null);
  const h = job('h', 20_000);
  h.flags = 0;
  d.submit(h);
  await tick();
  t.equal(lane.batches.length, 0, 'the lane did not take the heavy request');
  t.equal(pool.calls.length, 1, 'the pool did');
  const l = job('l', 100);
  l.flags = 0;
  d.submit(l);
  await tick();
  await tick();
  t.equal(lane.batches.length, 1, 'a light request is scored inline while a heavy batch is in the pool');
  t.equal(sink.of('l')[0]?.kind, 'answer');
  reply(pool.calls[0]);
  await tick();
  t.equal(sink.of('h')[0]?.kind, 'answer');
  d.close();
});

t.test('heavy requests that wait too long are shed like light ones', async (t) => {
  const { pool, d, job, sink, frees } = setup(2, { heavyBodyBytes: 16 * 1024, maxQueueDelayMs: 20 });
  const h1 = job('h1', 20_000);
  const h2 = job('h2', 40_000);
  for (const j of [h1, h2]) j.flags = 0;
  // Big enough that the two cannot share a batch: h2 waits behind h1's slot.
  const big = job('big', 60_000);
  big.flags = 0;
  d.submit(big);
  await tick();
  d.submit(h1);
  d.submit(h2);
  await sleep(60);
  t.same(sink.of('h1').map((e) => e.kind === 'noBid' && e.reason), [NoBidReason.Overloaded], 'shed as overloaded');
  t.same(sink.of('h2').map((e) => e.kind === 'noBid' && e.reason), [NoBidReason.Overloaded]);
  t.ok(frees.includes(h1.offset) && frees.includes(h2.offset), 'their slab regions are freed');
  reply(pool.calls[0]);
  d.close();
});

/** An inline lane driven by the test: each batch's sink and a way to end it. */
class ScriptedLane implements LaneRunner {
  readonly last = { requests: 0, rows: 0, modelMs: 0, totalMs: 0, startedAt: 0, finishedAt: 0 };
  readonly maxBatch = 8;
  out: ReplySink | null = null;
  end: { resolve: () => void; reject: (e: Error) => void } | null = null;
  runInto(_words: Float64Array, out: ReplySink): Promise<void> {
    this.out = out;
    return new Promise((resolve, reject) => (this.end = { resolve, reject }));
  }
}

t.test('the inline lane answers each request as the engine has it, not when the batch ends', async (t) => {
  const lane = new ScriptedLane();
  const { d, job, sink, frees } = setup(1, {}, lane);
  const a = job('a');
  const b = job('b');
  a.flags = 0;
  b.flags = 0;
  d.submit(a);
  d.submit(b);
  await tick();
  lane.out!.addUtf8!(0, 200, 0, new TextEncoder().encode('first'));
  t.same(sink.of('a').map((e) => (e.kind === 'answer' ? e.body : e.kind)), ['first'], 'answered before the batch ended');
  t.same(frees, [a.offset], 'and its region freed then');
  lane.out!.add(0, 200, 0, 'again');
  t.equal(sink.of('a').length, 1, 'a second answer for the same request is dropped');
  t.same(frees, [a.offset], 'and frees nothing');
  lane.out!.add(1, 204, 0, null);
  lane.end!.resolve();
  await tick();
  t.equal(sink.events.length, 2);
  t.equal(frees.length, 2, 'each region freed once');
  await d.whenIdle();
  d.close();
});

t.test('an inline batch that fails after some answers releases only the rest, once each', async (t) => {
  const lane = new ScriptedLane();
  const { d, job, sink, frees } = setup(1, {}, lane);
  const names = ['a', 'b', 'c'];
  for (const n of names) {
    const j = job(n);
    j.flags = 0;
    d.submit(j);
  }
  await tick();
  lane.out!.add(0, 200, 0, 'ok');
  lane.out!.add(1, kStatusDeferred, 0, null);
  lane.end!.reject(new Error('engine threw'));
  await tick();
  t.same(sink.of('a').map((e) => e.kind), ['answer']);
  t.same(sink.of('b').map((e) => (e.kind === 'noBid' ? e.reason : e.kind)), [NoBidReason.WorkerFailed], 'the deferred one is not left waiting');
  t.same(sink.of('c').map((e) => (e.kind === 'noBid' ? e.reason : e.kind)), [NoBidReason.WorkerFailed]);
  t.equal(new Set(frees).size, 3, 'three regions freed');
  t.equal(frees.length, 3, 'each once');
  await d.whenIdle();
  d.close();
});

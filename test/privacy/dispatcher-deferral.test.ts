/**
 * The dispatcher's side of consent deferral (src/pool/dispatcher.ts): a request the inline
 * lane answers with kStatusDeferred goes to the pool, keeping its receive-slab region
 * (freed exactly once, when the pool answers), and never goes to the lane again.
 */
import t from 'tap';
import { kStatusDeferred, ReplyWriter } from '../../src/codec/reply-batch';
import { kFlagConsentDeferred, kReqFlags, kReqId, kReqOffset, kTaskCount, requestBase } from '../../src/codec/request-batch';
import { NoBidReason } from '../../src/decisioning/no-bid-reasons';
import type { ReplySink } from '../../src/engine/bid-engine';
import { type BidJob, Dispatcher, type DispatcherOptions, type JobSink, type LaneRunner, type PoolRunner } from '../../src/pool/dispatcher';
import { ReceiveSlab } from '../../src/pool/receive-slab';
import { monoNowMs } from '../../src/util/clock';

interface Job extends BidJob {
  name: string;
}

function ids(words: Float64Array): number[] {
  return Array.from({ length: words[kTaskCount] }, (_, i) => words[requestBase(i) + kReqId]);
}

function offsets(words: Float64Array): number[] {
  return Array.from({ length: words[kTaskCount] }, (_, i) => words[requestBase(i) + kReqOffset]);
}

function reply(idList: number[], status: (id: number) => number): ArrayBuffer {
  const w = new ReplyWriter();
  w.begin();
  for (const id of idList) w.add(id, status(id), 0, status(id) === 200 ? `body-${id}` : null);
  return w.finish(0, 1, 2);
}

class Pool implements PoolRunner {
  readonly tasks: { words: Float64Array; resolve: (b: ArrayBuffer) => void }[] = [];
  constructor(readonly capacity = 2) {}
  run(task: ArrayBuffer): Promise<ArrayBuffer> {
    return new Promise((resolve) => this.tasks.push({ words: new Float64Array(task), resolve }));
  }
}

/** Defers the requests named in `defer` (by position in its batch), answers the rest. */
class Lane implements LaneRunner {
  readonly batches: Float64Array[] = [];
  readonly idle = true;
  readonly maxBatch = 8;
  constructor(private readonly defer: (position: number) => boolean, private readonly during: () => void = () => {}) {}
  readonly last = { requests: 0, rows: 0, modelMs: 0, totalMs: 0, startedAt: 0, finishedAt: 0 };
  async runInto(words: Float64Array, out: ReplySink): Promise<void> {
    this.batches.push(words);
    this.during();
    for (const id of ids(words)) {
      const status = this.defer(id) ? kStatusDeferred : 200;
      out.add(id, status, 0, status === 200 ? `body-${id}` : null);
    }
  }
}

class Sink implements JobSink<Job> {
  readonly answers: { name: string; status: number; body: string | null }[] = [];
  readonly noBids: { name: string; reason: NoBidReason }[] = [];
  answer(job: Job, status: number, _o: number, body: Uint8Array | string | null): void {
    this.answers.push({ name: job.name, status, body: body === null ? null : Buffer.from(body).toString() });
  }
  noBid(job: Job, reason: NoBidReason): void {
    this.noBids.push({ name: job.name, reason });
  }
}

const options: DispatcherOptions = { maxBatchSize: 64, maxPendingRequests: 100, maxQueueDelayMs: 10_000, hardTimeoutMs: 10_000 };
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup(lane: Lane, capacity = 2) {
  const pool = new Pool(capacity);
  const slab = new ReceiveSlab(64 * 1024, 2);
  const frees: number[] = [];
  const free = slab.free.bind(slab);
  slab.free = (offset: number): void => {
    frees.push(offset);
    free(offset);
  };
  const sink = new Sink();
  const d = new Dispatcher<Job>(pool, slab, sink, options, lane, null);
  t.teardown(() => d.close());
  const job = (name: string): Job => {
    const offset = slab.alloc(100);
    return { name, arrivedAt: monoNowMs(), receivedAt: monoNowMs(), offset, length: 100, flags: 0, done: false };
  };
  return { pool, slab, sink, d, job, frees };
}

t.test('a deferred request is answered by the pool, from the same slab region, freed once', async (t) => {
  const lane = new Lane((pos) => pos === 1);
  const { pool, sink, d, job, frees } = setup(lane);
  const a = job('a');
  const b = job('b');
  d.submit(a);
  d.submit(b);
  await tick();
  await tick();
  t.equal(lane.batches.length, 1, 'the lane took both');
  t.same(sink.answers.map((x) => x.name), ['a'], 'a answered inline');
  t.same(frees, [a.offset], "b's region is not freed on deferral");
  t.equal(pool.tasks.length, 1, 'b went to the pool');
  t.same(offsets(pool.tasks[0].words), [b.offset], 'its body is read where it already is: not re-copied');
  t.equal(pool.tasks[0].words[requestBase(0) + kReqFlags], kFlagConsentDeferred, 'the worker is told the lane deferred it');
  pool.tasks[0].resolve(reply([0], () => 200));
  await tick();
  t.same(sink.answers.map((x) => [x.name, x.status, x.body]), [['a', 200, 'body-0'], ['b', 200, 'body-0']]);
  t.same(frees, [a.offset, b.offset], 'freed exactly once, after the pool answered');
  t.equal(d.pendingCount(), 0);
  t.equal(d.inFlightBatches(), 0);
});

t.test('a deferred request never goes back to the lane; the lane serves the next one', async (t) => {
  const lane = new Lane(() => true);
  const { pool, sink, d, job } = setup(lane, 1);
  const a = job('a');
  d.submit(a);
  await tick();
  await tick();
  t.equal(lane.batches.length, 1, 'the lane took a, and deferred it');
  t.same(pool.tasks.map((x) => offsets(x.words)), [[a.offset]], 'a went to the pool, not back to the idle lane');
  const c = job('c');
  d.submit(c);
  await tick();
  t.equal(lane.batches.length, 2, 'c goes to the lane at once, though the pool holds a');
  t.equal(pool.tasks.length, 1, 'c, deferred too, waits for the busy pool');
  pool.tasks[0].resolve(reply([0], () => 200));
  await tick();
  t.same(sink.answers.map((x) => x.name), ['a'], 'the pool answered a');
  t.same(lane.batches.map((w) => offsets(w)), [[a.offset], [c.offset]], 'the lane saw a once; c, never deferred, goes to it');
  t.equal(sink.noBids.length, 0);
});

t.test('a pool worker may not defer: that is a worker failure, answered with a no-bid', async (t) => {
  const lane = new Lane(() => true);
  const { pool, sink, d, job, frees } = setup(lane);
  const a = job('a');
  d.submit(a);
  await tick();
  await tick();
  pool.tasks[0].resolve(reply([0], () => kStatusDeferred));
  await tick();
  t.same(sink.noBids, [{ name: 'a', reason: NoBidReason.WorkerFailed }]);
  t.same(frees, [a.offset], 'freed once');
  t.equal(pool.tasks.length, 1, 'not re-queued forever');
});

t.test('a deferred request already answered meanwhile is dropped and its region freed', async (t) => {
  let a: Job | null = null;
  // While the lane holds it, the request is answered some other way (the hard timeout).
  const lane = new Lane(() => true, () => { a!.done = true; });
  const { pool, d, job, frees, sink } = setup(lane);
  a = job('a');
  d.submit(a);
  await tick();
  await tick();
  t.equal(pool.tasks.length, 0);
  t.same(frees, [a.offset]);
  t.equal(sink.answers.length, 0);
});

import t from 'tap';
import { Worker } from 'node:worker_threads';
import { ALL_ERROR_CODES } from '../../src/errors';
import { ALL_NO_BID_REASONS } from '../../src/decisioning/no-bid-reasons';
import { buildMetricsLayout, M, OutcomeTable, STAGES } from '../../src/metrics/definitions';
import { createRegistry, type PoolGauges } from '../../src/metrics/registry';
import {
  claimSlot,
  type HistogramDef,
  kMainSlot,
  kMaxSlots,
  MetricsLayout,
  releaseDeadSlots,
  SlotReader,
  SlotWriter,
} from '../../src/metrics/shared-metrics';

const outcomes = new OutcomeTable(ALL_ERROR_CODES);

/** Every word range [start, end) a layout assigns, with a name for messages. */
function ranges(layout: MetricsLayout): [string, number, number][] {
  const out: [string, number, number][] = [];
  for (const { def, offsets } of layout.counters) def.series.forEach((v, i) => out.push([`${def.name}{${v}}`, offsets[i], offsets[i] + 1]));
  for (const { def, offsets } of layout.histograms) {
    def.series.forEach((v, i) => out.push([`${def.name}{${v}}`, offsets[i], offsets[i] + def.buckets.length + 2]));
  }
  return out;
}

t.test('OutcomeTable: bid first, then every no-bid reason, then every error code', async (t) => {
  t.equal(outcomes.bid, 0);
  t.same(outcomes.labels[0], ['bid', 'none']);
  t.equal(outcomes.labels.length, 1 + ALL_NO_BID_REASONS.length + ALL_ERROR_CODES.length);
  for (const r of ALL_NO_BID_REASONS) t.same(outcomes.labels[outcomes.noBid(r)], ['no_bid', r]);
  for (const c of ALL_ERROR_CODES) t.same(outcomes.labels[outcomes.error(c)], ['error', c]);
  t.throws(() => outcomes.noBid('nope'));
  t.throws(() => outcomes.error('NOPE'));
});

t.test('layout: series do not overlap, fill the slot, and are stable for identical definitions', async (t) => {
  const a = buildMetricsLayout(outcomes, 8);
  const b = buildMetricsLayout(new OutcomeTable(ALL_ERROR_CODES), 8);
  const ra = ranges(a).sort((x, y) => x[1] - y[1]);
  let end = 0;
  for (const [name, start, stop] of ra) {
    t.equal(start, end, `${name} starts where the previous series ends`);
    end = stop;
  }
  t.equal(end, a.wordsPerSlot, 'slot holds exactly the series');
  t.same(ranges(b), ranges(a), 'identical definitions give identical offsets');
  t.equal(a.wordsPerSlot, b.wordsPerSlot);
  t.equal(a.offset(M.requests, ['no_bid', 'overloaded']), b.offset(M.requests, ['no_bid', 'overloaded']));
  t.equal(a.offset(M.stageDuration, ['score']), b.offset(M.stageDuration, ['score']));
  t.throws(() => a.offset(M.requests, ['no_bid', 'unknown']), /not defined/);
  t.throws(() => a.bounds(a.offset(M.bids)), /not a histogram/);
  t.equal(a.byteLength() % 8, 0);
  t.equal(a.allocate().byteLength, a.byteLength());
  t.ok(a.byteLength() >= kMaxSlots * a.wordsPerSlot * 8 + kMaxSlots * 4);
});

const hdef: HistogramDef = { name: 'h', help: 'h', labelNames: ['k'], series: [['x'], ['y']], buckets: [1, 2, 5] };
const small = new MetricsLayout([{ name: 'c', help: 'c', labelNames: [], series: [[]] }], [hdef]);

t.test('SlotWriter: inc and observe land in the right words; a boundary value goes to its le bucket', async (t) => {
  const buf = small.allocate();
  const w = new SlotWriter(small, buf, 3);
  const r = new SlotReader(small, buf);
  const c = small.offset('c');
  w.inc(c);
  w.inc(c, 2.5);
  t.equal(r.inSlot(3, c), 3.5);
  t.equal(r.inSlot(0, c), 0, 'other slots untouched');
  const hx = w.histogram('h', ['x']);
  const hy = w.histogram('h', ['y']);
  t.same(Array.from(hx.bounds), [1, 2, 5]);
  for (const v of [0.5, 1, 1.0001, 2, 5, 5.5, 100]) w.observe(hx, v);
  const words = (h: { offset: number }) => Array.from({ length: 5 }, (_, i) => r.inSlot(3, h.offset + i));
  // buckets le=1, le=2, le=5, +Inf, then the sum
  t.same(words(hx), [2, 2, 1, 2, 0.5 + 1 + 1.0001 + 2 + 5 + 5.5 + 100]);
  t.same(words(hy), [0, 0, 0, 0, 0], 'the other series of the same histogram is untouched');
  t.throws(() => w.histogram('c'), /not a histogram/);
});

t.test('claimSlot: distinct worker slots, never the main slot, -1 when full', async (t) => {
  const buf = small.allocate();
  const slots = new Set<number>();
  for (let i = 0; i < kMaxSlots - 1; i++) {
    const s = claimSlot(buf, 1000 + i);
    t.not(s, kMainSlot);
    t.ok(s > 0 && s < kMaxSlots);
    slots.add(s);
  }
  t.equal(slots.size, kMaxSlots - 1, 'all distinct');
  t.equal(claimSlot(buf, 5000), -1, 'full');
});

t.test('releaseDeadSlots frees only slots whose owner is gone', async (t) => {
  const buf = small.allocate();
  const owners = new Int32Array(buf, 0, kMaxSlots);
  const a = claimSlot(buf, 11);
  const b = claimSlot(buf, 12);
  const c = claimSlot(buf, 13);
  t.equal(releaseDeadSlots(buf, new Set([12, 99])), 2);
  t.equal(owners[a], 0);
  t.equal(owners[b], 12, 'live owner keeps its slot');
  t.equal(owners[c], 0);
  t.equal(releaseDeadSlots(buf, new Set([12])), 0, 'nothing more to free');
  t.equal(claimSlot(buf, 14), a, 'freed slot reused by a replacement');
  t.equal(claimSlot(buf, 15), c);
});

t.test('SlotReader sums a series across every slot', async (t) => {
  const buf = small.allocate();
  const c = small.offset('c');
  new SlotWriter(small, buf, 0).inc(c, 1);
  new SlotWriter(small, buf, 1).inc(c, 10);
  new SlotWriter(small, buf, kMaxSlots - 1).inc(c, 100);
  const r = new SlotReader(small, buf);
  t.equal(r.sum(c), 111);
  t.equal(r.inSlot(kMaxSlots - 1, c), 100);
});

function gauges(): PoolGauges {
  return { requestsInFlight: () => 9, pendingRequests: () => 7, queuedTasks: () => 1, inFlightBatches: () => 2, threads: () => 4, slabSegmentsInUse: () => 3, receivingBytes: () => 5 };
}

function sample(text: string, line: string): number | undefined {
  for (const l of text.split('\n')) {
    if (l.startsWith(line + ' ')) return Number(l.slice(line.length + 1));
  }
  return undefined;
}

t.test('registry text: cumulative buckets, +Inf equals _count, zero series, gauges, model info', async (t) => {
  const layout = buildMetricsLayout(outcomes, 4);
  const buf = layout.allocate();
  const main = new SlotWriter(layout, buf, kMainSlot);
  const worker = new SlotWriter(layout, buf, claimSlot(buf, 42));
  const score = main.histogram(M.stageDuration, ['score']);
  main.observe(score, 0.00004); // le=5e-05
  main.observe(score, 0.0003); // le=0.0005
  worker.observe(worker.histogram(M.stageDuration, ['score']), 0.0003);
  worker.observe(worker.histogram(M.stageDuration, ['score']), 2); // +Inf
  main.inc(layout.offset(M.requests, ['bid', 'none']), 3);
  worker.inc(layout.offset(M.requests, ['no_bid', 'below_floor']), 2);
  const registry = createRegistry(layout, buf, gauges(), { name: 'ctr-logreg', version: '1.2.3' });
  const text = await registry.metrics();

  const b = (le: string) => sample(text, `${M.stageDuration}_bucket{le="${le}",stage="score"}`) ??
    sample(text, `${M.stageDuration}_bucket{stage="score",le="${le}"}`);
  t.equal(b('0.00005'), 1);
  t.equal(b('0.0001'), 1);
  t.equal(b('0.00025'), 1);
  t.equal(b('0.0005'), 3, 'cumulative');
  t.equal(b('1'), 3);
  t.equal(b('+Inf'), 4);
  t.equal(sample(text, `${M.stageDuration}_count{stage="score"}`), 4, '+Inf == _count');
  t.ok(Math.abs(sample(text, `${M.stageDuration}_sum{stage="score"}`)! - (0.00004 + 0.0003 + 0.0003 + 2)) < 1e-12);
  for (const s of STAGES) t.ok(text.includes(`${M.stageDuration}_count{stage="${s}"}`), `stage ${s} pre-created`);

  t.equal(sample(text, `${M.requests}{outcome="bid",reason="none"}`), 3);
  t.equal(sample(text, `${M.requests}{outcome="no_bid",reason="below_floor"}`), 2);
  for (const [o, r] of outcomes.labels) {
    t.not(sample(text, `${M.requests}{outcome="${o}",reason="${r}"}`), undefined, `series ${o}/${r} exists before traffic`);
  }
  t.equal(sample(text, `${M.requests}{outcome="error",reason="BAD_JSON"}`), 0);
  t.equal(sample(text, `${M.requests}{outcome="no_bid",reason="overloaded"}`), 0);
  t.match(text, new RegExp(`# TYPE ${M.stageDuration} histogram`));
  t.match(text, new RegExp(`# TYPE ${M.requests} counter`));

  t.equal(sample(text, 'bidder_pool_queue_depth_requests'), 7);
  t.equal(sample(text, 'bidder_pool_inflight_batches'), 2);
  t.equal(sample(text, 'bidder_pool_queued_tasks'), 1);
  t.equal(sample(text, 'bidder_requests_in_flight'), 9);
  t.equal(sample(text, 'bidder_pool_threads'), 4);
  t.equal(sample(text, 'bidder_receive_slab_segments_in_use'), 3);
  t.equal(sample(text, 'bidder_receiving_bytes'), 5);
  t.equal(sample(text, 'bidder_model_info{name="ctr-logreg",version="1.2.3"}'), 1);
  for (let i = 1; i <= 4; i++) t.not(sample(text, `${M.workerBusy}{worker="${i}"}`), undefined, `worker ${i} busy series`);
});

t.test('values written by a real worker thread into its slot are visible to the reader', async (t) => {
  const layout = buildMetricsLayout(outcomes, 4);
  const buf = layout.allocate();
  const ownerBytes = layout.byteLength() - kMaxSlots * layout.wordsPerSlot * 8;
  const offset = layout.offset(M.requests, ['no_bid', 'no_candidates']);
  const code = `
    const { workerData, parentPort, threadId } = require('node:worker_threads');
    const { buffer, offset, wordsPerSlot, ownerBytes, maxSlots } = workerData;
    const owners = new Int32Array(buffer, 0, maxSlots);
    let slot = -1;
    for (let s = 1; s < maxSlots; s++) if (Atomics.compareExchange(owners, s, 0, threadId) === 0) { slot = s; break; }
    const words = new Float64Array(buffer, ownerBytes + slot * wordsPerSlot * 8, wordsPerSlot);
    for (let i = 0; i < 1000; i++) words[offset] += 1;
    parentPort.postMessage({ slot, threadId });
  `;
  const worker = new Worker(code, {
    eval: true,
    workerData: { buffer: buf, offset, wordsPerSlot: layout.wordsPerSlot, ownerBytes, maxSlots: kMaxSlots },
  });
  const msg = await new Promise<{ slot: number; threadId: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  t.ok(msg.slot > 0);
  new SlotWriter(layout, buf, kMainSlot).inc(offset, 5);
  const reader = new SlotReader(layout, buf);
  t.equal(reader.inSlot(msg.slot, offset), 1000);
  t.equal(reader.sum(offset), 1005);
  t.equal(new Int32Array(buf, 0, kMaxSlots)[msg.slot], msg.threadId, 'owner table names the worker');
  t.equal(releaseDeadSlots(buf, new Set()), 1, 'its slot is freed once it is gone');
  t.equal(reader.sum(offset), 1005, 'totals survive the slot being freed');
  const text = await createRegistry(layout, buf, gauges(), { name: 'm', version: 'v' }).metrics();
  t.equal(sample(text, `${M.requests}{outcome="no_bid",reason="no_candidates"}`), 1005);
});

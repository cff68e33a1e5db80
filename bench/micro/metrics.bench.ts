/**
 * Recording an observation: the front end's HDR stage histograms (src/metrics/latency.ts)
 * and the shared-memory slot histograms and counters every thread writes
 * (src/metrics/shared-metrics.ts), with the bidder's real metric layout.
 */
import { ALL_ERROR_CODES } from '../../src/errors';
import { buildMetricsLayout, M, OutcomeTable, STAGES } from '../../src/metrics/definitions';
import { StageLatency } from '../../src/metrics/latency';
import { kMaxSlots, SlotWriter, type HistogramHandle } from '../../src/metrics/shared-metrics';
import type { MicroCase } from './micro-case';

/** Values spread over the buckets as real traffic spreads them, cycled so no branch is always taken. */
const kValues = 1024;
function spread(lo: number, hi: number): Float64Array {
  const v = new Float64Array(kValues);
  let x = 0x9e3779b9;
  for (let i = 0; i < kValues; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    v[i] = lo * Math.pow(hi / lo, x / 2 ** 32); // log-uniform in [lo, hi)
  }
  return v;
}

const latencyMs = spread(0.05, 50);
const latencyS = latencyMs.map((ms) => ms / 1000);
const pricesUsd = spread(0.05, 20);

let stages!: StageLatency;
let writer!: SlotWriter;
let modelRun!: HistogramHandle;
let bidPrice!: HistogramHandle;
let bids = 0;
let i = 0;

function setup(): void {
  stages = new StageLatency();
  const outcomes = new OutcomeTable(ALL_ERROR_CODES);
  const layout = buildMetricsLayout(outcomes, kMaxSlots - 1);
  writer = new SlotWriter(layout, layout.allocate(), 1);
  modelRun = writer.histogram(M.modelRun);
  bidPrice = writer.histogram(M.bidPrice);
  bids = layout.offset(M.bids);
}

const TOTAL = STAGES.indexOf('total');

export const cases: MicroCase[] = [
  {
    name: 'StageLatency.record (HDR, 0.05-50 ms)',
    setup,
    fn() {
      stages.record(TOTAL, latencyMs[i++ & (kValues - 1)]);
      return stages;
    },
  },
  {
    name: 'SlotWriter.observe latency (14 buckets)',
    setup,
    fn() {
      writer.observe(modelRun, latencyS[i++ & (kValues - 1)]);
      return writer;
    },
  },
  {
    name: 'SlotWriter.observe price (12 buckets)',
    setup,
    fn() {
      writer.observe(bidPrice, pricesUsd[i++ & (kValues - 1)]);
      return writer;
    },
  },
  {
    name: 'SlotWriter.inc counter',
    setup,
    fn() {
      writer.inc(bids);
      return writer;
    },
  },
];

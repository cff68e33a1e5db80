import t from 'tap';
import * as hdr from 'hdr-histogram-js';
import { STAGES } from '../../src/metrics/definitions';
import { allocateLatencySnapshot, countsIndexOf, LatencyReport, StageLatency } from '../../src/metrics/latency';

/** What the operations thread renders: a snapshot of `l`, loaded into a report. */
function report(l: StageLatency, into = new LatencyReport()): LatencyReport {
  const buf = allocateLatencySnapshot();
  l.snapshotInto(buf);
  into.load(buf);
  return into;
}

const near = (actual: number, expected: number, rel = 0.002): boolean => Math.abs(actual - expected) <= expected * rel;

t.test('record converts milliseconds to microseconds per stage', async (t) => {
  const l = new StageLatency();
  const score = STAGES.indexOf('score');
  l.record(score, 1.5); // 1500 us
  l.record(score, 2.5); // 2500 us
  l.record(score, 10); // 10000 us
  const j = report(l).toJSON();
  t.equal(j.score.count, 3);
  t.ok(near(j.score.p50, 2500), `p50 ${j.score.p50}`);
  t.ok(near(j.score.max, 10_000), `max ${j.score.max}`);
  t.ok(near(j.score.p99, 10_000), `p99 ${j.score.p99}`);
  for (const s of STAGES) {
    if (s !== 'score') t.equal(j[s].count, 0, `${s} untouched`);
  }
});

t.test('JSON has count, p50, p99 and max for every stage', async (t) => {
  const l = new StageLatency();
  STAGES.forEach((_, i) => {
    for (let v = 1; v <= 100; v++) l.record(i, v * (i + 1) * 0.01);
  });
  const j = report(l).toJSON();
  t.same(Object.keys(j), [...STAGES]);
  STAGES.forEach((s, i) => {
    t.equal(j[s].count, 100);
    t.ok(near(j[s].p50, 50 * (i + 1) * 10, 0.01), `${s} p50 ${j[s].p50}`);
    t.ok(near(j[s].p99, 99 * (i + 1) * 10, 0.01), `${s} p99 ${j[s].p99}`);
    t.ok(near(j[s].max, 100 * (i + 1) * 10, 0.01), `${s} max ${j[s].max}`);
    t.ok(j[s].p50 <= j[s].p99 && j[s].p99 <= j[s].max);
  });
  t.same(JSON.parse(JSON.stringify(report(l))), j, 'serialises through JSON.stringify');
});

t.test('tiny and huge values are clamped into the trackable range', async (t) => {
  const l = new StageLatency();
  l.record(0, 0);
  l.record(0, -5);
  l.record(0, 0.0001);
  l.record(1, 1e9);
  const j = report(l).toJSON();
  t.equal(j.receive.count, 3);
  t.equal(j.receive.max, 1, 'sub-microsecond values count as 1 us');
  t.equal(j.queue.count, 1);
  t.ok(near(j.queue.max, 60_000_000, 0.001), `clamped to 60 s (${j.queue.max})`);
});

t.test('reset clears every stage', async (t) => {
  const l = new StageLatency();
  STAGES.forEach((_, i) => l.record(i, 1));
  l.reset();
  const j = report(l).toJSON();
  for (const s of STAGES) t.equal(j[s].count, 0);
});

t.test('text output has a header per stage, in order', async (t) => {
  const l = new StageLatency();
  l.record(STAGES.indexOf('total'), 3);
  const text = report(l).toText();
  t.match(text, /^# Request latency by stage, microseconds/);
  let last = -1;
  for (const s of STAGES) {
    const at = text.indexOf(`## stage=${s}\n`);
    t.ok(at > last, `header for ${s} present and after the previous one`);
    last = at;
  }
  t.match(text, /Value\s+Percentile/, 'includes the percentile distribution');
});

t.test('a snapshot renders exactly what the live histograms would', async (t) => {
  const l = new StageLatency();
  const direct = STAGES.map(() => new hdr.Float64Histogram(1, 60_000_000, 3));
  let seed = 7;
  for (let n = 0; n < 5_000; n++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const stage = n % STAGES.length;
    const ms = (seed / 2 ** 31) ** 3 * 40; // skewed, 0-40 ms
    l.record(stage, ms);
    direct[stage].recordValue(Math.max(1, Math.round(ms * 1000)));
  }
  const r = report(l);
  const j = r.toJSON();
  STAGES.forEach((s, i) => {
    t.equal(j[s].count, direct[i].totalCount, `${s} count`);
    t.equal(j[s].max, direct[i].maxValue, `${s} exact max carried`);
    t.equal(j[s].p99, direct[i].getValueAtPercentile(99), `${s} p99`);
    t.ok(r.toText().includes(direct[i].outputPercentileDistribution()), `${s} distribution identical`);
  });
});

t.test('a report follows each new snapshot, not the first', async (t) => {
  const l = new StageLatency();
  const r = new LatencyReport();
  l.record(0, 1);
  t.equal(report(l, r).toJSON().receive.count, 1);
  const firstText = r.toText();
  l.record(0, 5);
  report(l, r);
  t.equal(r.toJSON().receive.count, 2, 'JSON re-rendered after load');
  t.not(r.toText(), firstText, 'text re-rendered after load');
  t.ok(near(r.toJSON().receive.max, 5000), 'max follows');
});

t.test("the recording index is the library's over the whole range", async (t) => {
  const h = new hdr.Float64Histogram(1, 60_000_000, 3);
  const indexOf = (v: number): number => (h as unknown as { countsArrayIndex(v: number): number }).countsArrayIndex(v);
  let checked = 0;
  let mismatches = 0;
  // Every value up to 5,000, then every bucket edge and a spread of values in between.
  for (let v = 1; v <= 5_000; v++, checked++) if (countsIndexOf(v) !== indexOf(v)) mismatches++;
  for (let p = 12; p <= 26; p++) {
    const edge = 2 ** p;
    for (const v of [edge - 2, edge - 1, edge, edge + 1, edge + 2, Math.floor(edge * 1.37), Math.floor(edge * 1.99)]) {
      if (v > 60_000_000) continue;
      checked++;
      if (countsIndexOf(v) !== indexOf(v)) mismatches++;
    }
  }
  for (let i = 0; i < 20_000; i++, checked++) {
    const v = 1 + Math.floor(Math.random() * 60_000_000);
    if (countsIndexOf(v) !== indexOf(v)) mismatches++;
  }
  t.equal(mismatches, 0, `${checked} values`);
});

t.test('recording gives the snapshot the library would', async (t) => {
  const ours = new StageLatency();
  const theirs = new hdr.Float64Histogram(1, 60_000_000, 3);
  for (let i = 0; i < 5_000; i++) {
    const ms = Math.random() < 0.01 ? Math.random() * 2_000 : Math.random() * 5;
    ours.record(0, ms);
    let us = Math.round(ms * 1000);
    if (us < 1) us = 1;
    theirs.recordValue(us);
  }
  const snapshot = allocateLatencySnapshot();
  ours.snapshotInto(snapshot);
  const report = new LatencyReport();
  report.load(snapshot);
  const summary = report.toJSON()[STAGES[0]];
  t.equal(summary.count, theirs.totalCount);
  t.equal(ours.count(0), theirs.totalCount, 'count()');
  t.equal(summary.max, theirs.maxValue);
  t.equal(summary.p99, theirs.getValueAtPercentile(99));
  t.equal(summary.p50, theirs.getValueAtPercentile(50));
});

import t from 'tap';
import { STAGES } from '../../src/metrics/definitions';
import { StageLatency } from '../../src/metrics/latency';

const near = (actual: number, expected: number, rel = 0.002): boolean => Math.abs(actual - expected) <= expected * rel;

t.test('record converts milliseconds to microseconds per stage', async (t) => {
  const l = new StageLatency();
  const score = STAGES.indexOf('score');
  l.record(score, 1.5); // 1500 us
  l.record(score, 2.5); // 2500 us
  l.record(score, 10); // 10000 us
  const j = l.toJSON();
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
  const j = l.toJSON();
  t.same(Object.keys(j), [...STAGES]);
  STAGES.forEach((s, i) => {
    t.equal(j[s].count, 100);
    t.ok(near(j[s].p50, 50 * (i + 1) * 10, 0.01), `${s} p50 ${j[s].p50}`);
    t.ok(near(j[s].p99, 99 * (i + 1) * 10, 0.01), `${s} p99 ${j[s].p99}`);
    t.ok(near(j[s].max, 100 * (i + 1) * 10, 0.01), `${s} max ${j[s].max}`);
    t.ok(j[s].p50 <= j[s].p99 && j[s].p99 <= j[s].max);
  });
  t.same(JSON.parse(JSON.stringify(l)), j, 'serialises through JSON.stringify');
});

t.test('tiny and huge values are clamped into the trackable range', async (t) => {
  const l = new StageLatency();
  l.record(0, 0);
  l.record(0, -5);
  l.record(0, 0.0001);
  l.record(1, 1e9);
  const j = l.toJSON();
  t.equal(j.receive.count, 3);
  t.equal(j.receive.max, 1, 'sub-microsecond values count as 1 us');
  t.equal(j.queue.count, 1);
  t.ok(near(j.queue.max, 60_000_000, 0.001), `clamped to 60 s (${j.queue.max})`);
});

t.test('reset clears every stage', async (t) => {
  const l = new StageLatency();
  STAGES.forEach((_, i) => l.record(i, 1));
  l.reset();
  for (const s of STAGES) t.equal(l.toJSON()[s].count, 0);
});

t.test('text output has a header per stage, in order', async (t) => {
  const l = new StageLatency();
  l.record(STAGES.indexOf('total'), 3);
  const text = l.toText();
  t.match(text, /^# Request latency by stage, microseconds/);
  let last = -1;
  for (const s of STAGES) {
    const at = text.indexOf(`## stage=${s}\n`);
    t.ok(at > last, `header for ${s} present and after the previous one`);
    last = at;
  }
  t.match(text, /Value\s+Percentile/, 'includes the percentile distribution');
});

/**
 * The operations thread's refresh policy, without threads: one request outstanding at a
 * time, answers reused for kRefreshMaxAgeMs, a stalled front end answered from what was
 * last published, and the snapshot read only when its answer arrives.
 */
import t from 'tap';
import { allocateLatencySnapshot, StageLatency } from '../../src/metrics/latency';
import { FrontRefresher } from '../../src/ops/front-refresher';
import type { OpsMessage } from '../../src/ops/ops-protocol';

type Request = Extract<OpsMessage, { type: 'refresh' }>;

function setup(timeoutMs = 1_000, drainPending?: () => void) {
  let now = 1_000;
  const posted: Request[] = [];
  const snapshot = allocateLatencySnapshot();
  const refresher = new FrontRefresher({ post: (m) => posted.push(m), snapshot, now: () => now, maxAgeMs: 100, timeoutMs, drainPending });
  return {
    refresher,
    posted,
    snapshot,
    advance: (ms: number) => {
      now += ms;
    },
    /** The front end's side: answer the last request (copying `latency` when asked), taken `agoMs` ago. */
    answer: (latency?: StageLatency, agoMs = 0) => {
      const r = posted[posted.length - 1];
      if (r.latency && latency) latency.snapshotInto(snapshot);
      refresher.onRefreshed(r.id, r.latency, now - agoMs);
    },
  };
}

t.test('a storm of calls costs the front end one refresh', async (t) => {
  const s = setup();
  const calls = Array.from({ length: 200 }, () => s.refresher.refresh(true));
  t.equal(s.posted.length, 1, 'one request for 200 calls');
  t.equal(s.posted[0].latency, true);
  s.answer(new StageLatency());
  t.same(await Promise.all(calls), Array(200).fill(true), 'every call answered fresh');
  t.ok(s.refresher.hasLatency);
});

t.test('an answer is reused while younger than maxAgeMs, then refreshed', async (t) => {
  const s = setup();
  const first = s.refresher.refresh(true);
  s.answer(new StageLatency());
  await first;
  s.advance(99);
  t.equal(await s.refresher.refresh(true), true);
  t.equal(await s.refresher.refresh(false), true);
  t.equal(s.posted.length, 1, 'reused within 100 ms');
  s.advance(2);
  const later = s.refresher.refresh(false);
  t.equal(s.posted.length, 2, 'asked again once older');
  t.equal(s.posted[1].latency, false, 'a scrape asks for gauges only');
  s.answer();
  t.equal(await later, true);
});

t.test('a latency call behind a gauges-only request asks again after it', async (t) => {
  const s = setup();
  const scrape = s.refresher.refresh(false);
  const latency = s.refresher.refresh(true);
  t.equal(s.posted.length, 1, 'never two requests outstanding');
  s.answer();
  t.equal(await scrape, true);
  t.equal(s.posted.length, 2, 'then one carrying a snapshot');
  t.equal(s.posted[1].latency, true);
  t.notOk(s.refresher.hasLatency, 'no snapshot yet');
  const l = new StageLatency();
  l.record(2, 3);
  s.answer(l);
  t.equal(await latency, true);
  t.equal(s.refresher.report.toJSON().score.count, 1, 'the snapshot was loaded on its answer');
});

t.test('a stalled front end: calls resolve false after the timeout, with no second request', async (t) => {
  const s = setup(30);
  const a = s.refresher.refresh(true);
  s.advance(500);
  const b = s.refresher.refresh(true);
  t.same(await Promise.all([a, b]), [false, false], 'served from what was last published');
  t.equal(s.posted.length, 1, 'the snapshot buffer is never asked for twice at once');
  const l = new StageLatency();
  l.record(0, 1);
  s.answer(l);
  t.equal(s.refresher.report.toJSON().receive.count, 1, 'a late answer still loads');
  t.equal(await s.refresher.refresh(true), true, 'and is fresh for the next call');
});

t.test('answers to anything but the outstanding request are ignored', async (t) => {
  const s = setup(30);
  const a = s.refresher.refresh(true);
  s.refresher.onRefreshed(s.posted[0].id + 1, true, 1_000);
  t.notOk(s.refresher.hasLatency, 'a stray answer loads nothing');
  t.equal(await a, false);
});

t.test('an answer read late is as old as when the front end took it', async (t) => {
  const s = setup();
  const first = s.refresher.refresh(true);
  // Taken 150 ms ago (this thread was starved meanwhile): it answers the waiting call...
  s.answer(new StageLatency(), 150);
  t.equal(await first, true);
  // ...but is too old to be reused by the next one.
  const next = s.refresher.refresh(true);
  t.equal(s.posted.length, 2, 'a new snapshot is asked for');
  s.answer(new StageLatency());
  t.equal(await next, true);
});

t.test('before giving up, a timeout reads an answer already queued behind it', async (t) => {
  let queued: (() => void) | null = null;
  const s = setup(30, () => queued?.());
  const l = new StageLatency();
  l.record(4, 2);
  const call = s.refresher.refresh(true);
  // The answer arrived but this thread has not read it yet (its timers run first).
  queued = () => s.answer(l);
  t.equal(await call, true, 'answered fresh, not from the previous values');
  t.equal(s.refresher.report.toJSON().total.count, 1);
});

t.test('the start-up warm-up round trip refreshes nothing', async (t) => {
  const s = setup();
  s.refresher.warmUp();
  t.equal(s.posted.length, 1);
  t.equal(s.posted[0].latency, true, 'it runs the snapshot path');
  const joined = s.refresher.refresh(true);
  s.answer(new StageLatency());
  t.notOk(s.refresher.hasLatency, 'no snapshot counted');
  t.equal(s.posted.length, 2, 'a call that waited on it asks again');
  s.answer(new StageLatency());
  t.equal(await joined, true);
  t.ok(s.refresher.hasLatency);
});

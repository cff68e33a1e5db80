/**
 * The front end's answers without a socket: every no-bid it decides is counted once under
 * its reason, takes its job out of the in-flight count once, is corked exactly when it is
 * written after the handler, and closes the connection only when asked, in a form uWS can
 * end; error answers the same way, with their precomputed status and body.
 */
import t from 'tap';
import { ALL_NO_BID_REASONS } from '../../src/decisioning/no-bid-reasons';
import { ALL_ERROR_CODES, errorBody, requestError } from '../../src/errors';
import { buildMetricsLayout, M, OutcomeTable, STAGES } from '../../src/metrics/definitions';
import type { StageLatency } from '../../src/metrics/latency';
import { SlotReader, SlotWriter } from '../../src/metrics/shared-metrics';
import { HttpJob, InFlightRequests } from '../../src/server/bid-route';
import { FrontAnswers, kCloseConnection, kInHandler, kLater, type FrontJob } from '../../src/server/front-answers';
import { createSink } from '../../src/server/http-server';

const outcomes = new OutcomeTable(ALL_ERROR_CODES);
const layout = buildMetricsLayout(outcomes, 8);

/** A response that records each call, and whether it was made inside cork. */
function fakeRes() {
  const calls: [method: string, args: unknown[], corked: boolean][] = [];
  let corks = 0;
  let inCork = false;
  const res = {
    calls,
    corks: () => corks,
    cork(f: () => void) {
      corks++;
      inCork = true;
      f();
      inCork = false;
      return res;
    },
    writeStatus: (...args: unknown[]) => (calls.push(['writeStatus', args, inCork]), res),
    writeHeader: (...args: unknown[]) => (calls.push(['writeHeader', args, inCork]), res),
    end: (...args: unknown[]) => (calls.push(['end', args, inCork]), res),
    endWithoutBody: (...args: unknown[]) => (calls.push(['endWithoutBody', args, inCork]), res),
  };
  return res;
}

function setup() {
  const buffer = layout.allocate();
  const metrics = new SlotWriter(layout, buffer, 0);
  const reader = new SlotReader(layout, buffer);
  const recorded: number[] = [];
  const latency = { record: (stage: number) => recorded.push(stage) } as unknown as StageLatency;
  const answers = new FrontAnswers(metrics, outcomes, latency);
  const requests = (o: string, r: string) => reader.sum(layout.offset(M.requests, [o, r]));
  /** Every request counted, live and test, whatever its outcome. */
  const counted = () =>
    outcomes.labels.reduce((n, l) => n + reader.sum(layout.offset(M.requests, l)) + reader.sum(layout.offset(M.testRequests, l)), 0);
  const inFlight = new InFlightRequests();
  const job = (receivedAt = 0) => {
    const res = fakeRes();
    const j = new HttpJob(res as never, 1, 10, 0, inFlight);
    j.receivedAt = receivedAt;
    return { res, job: j };
  };
  return { metrics, reader, answers, requests, counted, inFlight, job, recorded, latency };
}

t.test('every no-bid reason is counted once, on live traffic only', async (t) => {
  for (const reason of ALL_NO_BID_REASONS) {
    const s = setup();
    const { res, job } = s.job();
    s.answers.noBid(res as never, job, reason, kLater);
    t.equal(s.requests('no_bid', reason), 1, `${reason} counted under no_bid/${reason}`);
    t.equal(s.counted(), 1, `${reason}: nothing else counted`);
  }
  const s = setup();
  s.answers.noBid(fakeRes() as never, null, 'draining', kInHandler | kCloseConnection);
  t.equal(s.requests('no_bid', 'draining'), 1, 'a no-bid before any job (draining) is counted too');
  t.equal(s.counted(), 1);
});

t.test('a no-bid takes its job out of the in-flight count once and marks it done', async (t) => {
  const s = setup();
  const { res, job } = s.job();
  t.equal(s.inFlight.count, 1);
  s.answers.noBid(res as never, job, 'overloaded', kLater);
  t.equal(s.inFlight.count, 0, 'answered: out of the count');
  t.ok(job.done, 'later answers are dropped');
  job.close(); // the client goes away afterwards (onAborted)
  t.equal(s.inFlight.count, 0, 'not counted out twice');

  let closes = 0;
  const fake = { res: fakeRes(), close: () => closes++, arrivedAt: 1, receivedAt: 0, offset: 0, length: 0, flags: 0, done: false };
  s.answers.noBid(fake.res as never, fake as unknown as FrontJob, 'worker_failed', kLater);
  t.equal(closes, 1, 'the no-bid path closes the job exactly once');
});

t.test('a later no-bid is corked and keeps the connection; one in the handler is not corked', async (t) => {
  const s = setup();
  const { res, job } = s.job();
  s.answers.noBid(res as never, job, 'tmax_exceeded', kLater);
  t.equal(res.corks(), 1, 'corked once');
  t.same(res.calls, [
    ['writeStatus', ['204 No Content'], true],
    ['endWithoutBody', [], true],
  ], 'a bare 204, ended without arguments (no reported length, no close)');

  const early = fakeRes();
  s.answers.noBid(early as never, null, 'draining', kInHandler | kCloseConnection);
  t.equal(early.corks(), 0, 'inside the handler uWS corks already');
  // Any first argument is read as a length: undefined became 2^63 and the 204 never ended.
  t.same(early.calls, [
    ['writeStatus', ['204 No Content'], false],
    ['endWithoutBody', [0, true], false],
  ], 'closing: an explicit empty length, then close');
});

t.test('latency is recorded only for a body that was received', async (t) => {
  const s = setup();
  const overloaded = s.job(0);
  s.answers.noBid(overloaded.res as never, overloaded.job, 'overloaded', kLater);
  t.same(s.recorded, [], 'never received: no stages');
  const shed = s.job(5);
  s.answers.noBid(shed.res as never, shed.job, 'overloaded', kLater);
  t.same(s.recorded, [STAGES.indexOf('receive'), STAGES.indexOf('total')], 'received: receive and total, no worker stages');
});

t.test('error answers: counted under their code, precomputed status and body, close when asked', async (t) => {
  const s = setup();
  const { res, job } = s.job();
  s.answers.error(res as never, job, 'BODY_TIMEOUT', kLater | kCloseConnection);
  t.equal(s.requests('error', 'BODY_TIMEOUT'), 1);
  t.equal(s.counted(), 1);
  t.equal(s.inFlight.count, 0, 'job closed');
  t.ok(job.done);
  const e = requestError('BODY_TIMEOUT');
  t.equal(res.corks(), 1);
  t.same(res.calls, [
    ['writeStatus', ['408 Request Timeout'], true],
    ['writeHeader', ['content-type', 'application/json'], true],
    ['end', [errorBody(e), true], true],
  ]);

  const notFound = fakeRes();
  s.answers.error(notFound as never, null, 'NOT_FOUND', kInHandler);
  t.equal(notFound.corks(), 0);
  t.same(notFound.calls.at(-1), ['end', [errorBody(requestError('NOT_FOUND')), false], false], 'kept open');
  t.equal(s.requests('error', 'NOT_FOUND'), 1);
});

t.test("the dispatcher's sink no-bids go through the same path", async (t) => {
  const s = setup();
  const sink = createSink({ metrics: s.metrics, outcomes, latency: s.latency });
  const { res, job } = s.job(3);
  job.done = true; // as the dispatcher leaves it
  sink.noBid(job, 'tmax_exceeded');
  t.equal(s.requests('no_bid', 'tmax_exceeded'), 1);
  t.equal(s.counted(), 1);
  t.equal(s.inFlight.count, 0);
  t.equal(res.corks(), 1);
  t.same(res.calls.at(-1), ['endWithoutBody', [], true]);
});

import t from 'tap';
import { countFailures, faultCounts, noBidReasons, reasonDeltas } from '../../bench/chaos/verdict';
import type { LoadResult } from '../../bench/load/open-loop';

function result(o: Partial<LoadResult>): LoadResult {
  return {
    offeredRate: 100, durationS: 10, sent: 1_000, completed: 1_000, achievedRate: 100, status: { 200: 900, 204: 100 }, errors: 0, late: 0,
    latencyUs: { p50: 1, p90: 1, p99: 1, p999: 1, max: 1, mean: 1 }, curve: [], ...o,
  };
}

t.test('a clean run passes, and designed 204s are not failures', async (t) => {
  const c = faultCounts(result({}), 100);
  t.same(c, { offered: 1_000, sent: 1_000, answered: 1_000, lost: 0, fiveXx: 0, otherStatus: 0, late: 0, notSent: 0, bids: 900, noBids: 100 });
  t.same(countFailures(c), []);
});

t.test('lost, 5xx, other statuses and late answers each fail the fault', async (t) => {
  t.same(countFailures(faultCounts(result({ completed: 990, errors: 4, status: { 200: 990 } }), 100)), ['10 lost'], 'in flight on a closed connection (4) and never answered (6)');
  t.same(countFailures(faultCounts(result({ status: { 200: 990, 503: 10 } }), 100)), ['10 answered 5xx']);
  t.same(countFailures(faultCounts(result({ status: { 200: 990, 400: 10 } }), 100)), ['10 answered neither 200, 204 nor 5xx']);
  t.same(countFailures(faultCounts(result({ late: 3 }), 100)), ['3 late']);
  t.same(countFailures(faultCounts(result({ sent: 0, completed: 0, status: {} }), 100)), ['nothing was answered: the load never reached the bidder']);
});

t.test('requests never sent (a closed listener) are reported, not failed', async (t) => {
  const c = faultCounts(result({ sent: 400, completed: 400, status: { 200: 380, 204: 20 } }), 100);
  t.equal(c.notSent, 600);
  t.same(countFailures(c), []);
});

t.test('no-bid reasons are read from the exposition and differenced', async (t) => {
  const before = noBidReasons('bidder_requests_total{outcome="no_bid",reason="draining"} 2\nbidder_requests_total{outcome="bid",reason="none"} 9\n');
  const after = noBidReasons('bidder_requests_total{outcome="no_bid",reason="draining"} 5\nbidder_requests_total{outcome="no_bid",reason="worker_failed"} 0\n');
  t.same(reasonDeltas(before, after), { draining: 3 });
});

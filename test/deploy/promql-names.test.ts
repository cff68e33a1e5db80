import t from 'tap';
import { metricNamesIn, unknownNames } from '../helpers/promql-names';

t.test('metricNamesIn keeps metric names and drops functions, labels, durations and variables', async (t) => {
  t.same(metricNamesIn('sum by (stage) (rate(bidder_request_stage_duration_seconds_bucket{stage!="total"}[5m]))'), ['bidder_request_stage_duration_seconds_bucket']);
  t.same(metricNamesIn('histogram_quantile(0.99, sum by (le) (rate(x_bucket[$__rate_interval])))'), ['x_bucket']);
  t.same(metricNamesIn('job:bidder_requests:rate5m > 1e3 and on (instance) up == 0 offset 5m'), ['job:bidder_requests:rate5m', 'up']);
  t.same(metricNamesIn('max by (campaign) (a{campaign=~"$campaign"}) / ignoring (x) group_left b'), ['a', 'b']);
  t.same(metricNamesIn('count(x) without (pod) or vector(0)'), ['x']);
});

t.test('unknownNames resolves histogram suffixes and recording rules', async (t) => {
  const exported = new Set(['bidder_stage_seconds', 'bidder_requests_total']);
  t.same(unknownNames(['rate(bidder_stage_seconds_bucket[1m])', 'rate(bidder_requests_total[1m])', 'job:x:rate5m'], exported, new Set(['job:x:rate5m'])), []);
  t.same(unknownNames(['rate(bidder_request_total[1m])', 'up'], exported), ['bidder_request_total']);
});

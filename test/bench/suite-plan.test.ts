import t from 'tap';
import { parseSuiteArgs } from '../../bench/run';
import { SCENARIOS } from '../../bench/scenarios';
import { parseServerName, serverLaunch } from '../../bench/lib/servers';

t.test('the twin runs in every scenario', async (t) => {
  for (const s of SCENARIOS) t.ok(s.peers.includes('twin'), s.name);
});

t.test('the bidder runs with its default thread counts, except where a thread count is the point', async (t) => {
  for (const s of SCENARIOS) {
    const threads = Object.keys(s.env).filter((k) => k.endsWith('_THREADS'));
    if (s.name === 'banner-1-thread') t.same(s.env.BIDDER_POOL_THREADS, '1', s.name);
    else t.same(threads, [], `${s.name} sets no thread count`);
  }
});

t.test("the goal rates of issue 9 are the scenarios' own", async (t) => {
  const byName = Object.fromEntries(SCENARIOS.map((s) => [s.name, s]));
  t.same(byName['banner-small'].goalRates, [5000, 10000, 20000]);
  t.equal(byName['banner-small'].env.BIDDER_MODEL, 'ctr-logreg');
  t.same(byName['banner-realistic'].goalRates, [2500, 5000]);
  t.equal(byName['banner-realistic'].env.BIDDER_MODEL, 'ctr-dnn');
});

t.test('the twin is called twin; inline-batched still names it on a command line', async (t) => {
  t.equal(parseServerName('inline-batched'), 'twin');
  t.equal(parseServerName('twin'), 'twin');
  t.throws(() => parseServerName('nginx'), /unknown server "nginx"/);
  t.same(serverLaunch('twin', {}).args, ['--batched']);
});

t.test('suite command line', async (t) => {
  const a = parseSuiteArgs(['--scenario', 'banner-small', '--quick', '--duration', '1', '--open-duration', '2', '--server', 'inline-batched', '--server', 'ceiling', '--env', 'BIDDER_X=1', '--twin-commit', 'ab69f35']);
  t.same(a.scenarios.map((s) => s.name), ['banner-small']);
  t.equal(a.scenarios[0].env.BIDDER_X, '1');
  t.equal(a.scenarios[0].env.BIDDER_MODEL, 'ctr-logreg', 'the scenario keeps its model');
  t.same(a.servers, ['twin', 'ceiling']);
  t.equal(a.twinCommit, 'ab69f35');
  t.same([a.plan.closed.durationS, a.plan.closed.warmupS, a.plan.openDurationS], [1, 1, 2]);
  const full = parseSuiteArgs([]);
  t.equal(full.scenarios.length, SCENARIOS.length);
  t.same([full.servers, full.twinCommit, full.plan.closed.durationS], [null, null, 8]);
  t.throws(() => parseSuiteArgs(['--env', 'PATH=/x']), /BIDDER_NAME=value/);
  t.throws(() => parseSuiteArgs(['--duration', '0']), /above 0/);
  t.throws(() => parseSuiteArgs(['--bogus']), /Unknown option/);
  t.throws(() => parseSuiteArgs(['--scenario', 'nope']), /unknown scenario/);
});

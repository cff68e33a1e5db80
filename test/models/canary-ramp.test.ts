/**
 * The canary's ramp: 1% → 5% → 25% → 100% a step per stepSec, promoted after the last;
 * never promoted on no evidence (a step needs its runs); rolled back at once on errors or
 * a mean run time over the bound.
 */
import t from 'tap';
import { CanaryRamp, kCanarySteps } from '../../src/models/canary-ramp';

const bounds = { stepSec: 10, maxErrorPermille: 10, maxRunUs: 1_000, minRuns: 20 };

t.test('steps through the ramp and promotes', async (t) => {
  const r = new CanaryRamp(bounds, 0, { runs: 0, errors: 0, runSeconds: 0 });
  t.equal(r.basisPoints, 100);
  let runs = 0;
  const verdicts: string[] = [];
  for (let now = 1_000; now <= 50_000; now += 1_000) {
    runs += 10;
    const v = r.check(now, { runs, errors: 0, runSeconds: runs * 0.0002 });
    if (v.kind !== 'hold') verdicts.push(v.kind === 'step' ? `step ${v.basisPoints}` : v.kind);
    if (v.kind === 'promote') break;
  }
  t.same(verdicts, kCanarySteps.slice(1).map((b) => `step ${b}`).concat('promote'));
});

t.test('a step without enough runs holds, however long', async (t) => {
  const r = new CanaryRamp(bounds, 0, { runs: 0, errors: 0, runSeconds: 0 });
  t.equal(r.check(1_000_000, { runs: 19, errors: 0, runSeconds: 0 }).kind, 'hold');
  t.equal(r.check(1_000_001, { runs: 20, errors: 0, runSeconds: 0 }).kind, 'step');
});

t.test('errors over the bound roll back at once; latency once judged', async (t) => {
  const e = new CanaryRamp(bounds, 0, { runs: 100, errors: 0, runSeconds: 0 });
  const v = e.check(1, { runs: 150, errors: 1, runSeconds: 0 });
  t.match(v, { kind: 'rollback', reason: 'errors' }, '1 failure in 50 runs is 20 per 1,000');
  const ok = new CanaryRamp(bounds, 0, { runs: 0, errors: 0, runSeconds: 0 });
  t.equal(ok.check(1, { runs: 1_000, errors: 5, runSeconds: 0.1 }).kind, 'hold', '5 per 1,000 is within 10');
  const slow = new CanaryRamp(bounds, 0, { runs: 0, errors: 0, runSeconds: 0 });
  t.equal(slow.check(1, { runs: 10, errors: 0, runSeconds: 1 }).kind, 'hold', 'too few runs to judge latency');
  t.match(slow.check(2, { runs: 20, errors: 0, runSeconds: 0.1 }), { kind: 'rollback', reason: 'latency' }, 'mean 5,000 us over 1,000');
});

/**
 * The free-cores probe's reading of the machine's idle time (/proc/stat's first line)
 * agrees with os.cpus() and moves forward, and the probe's estimate stays within its budget.
 */
import t from 'tap';
import { cpus } from 'node:os';
import { FreeCores, machineIdleMs } from '../../src/pool/free-cores';

t.test('machine idle time agrees with os.cpus() and does not go back', async (t) => {
  let fromOs = 0;
  for (const c of cpus()) fromOs += c.times.idle;
  const fromStat = machineIdleMs();
  // Both read the same counters a moment apart: within a few ticks per CPU.
  t.ok(Math.abs(fromStat - fromOs) <= 50 * cpus().length, `${fromStat} ms against ${fromOs} ms`);
  await new Promise((r) => setTimeout(r, 50));
  t.ok(machineIdleMs() >= fromStat, 'monotonic');
});

t.test('the estimate never exceeds the budget, and counts the pool back in', async (t) => {
  const start = performance.now();
  const probe = new FreeCores(2, start);
  t.equal(probe.free, 1, 'before any sample: the budget less this thread');
  await new Promise((r) => setTimeout(r, 120));
  probe.sample(performance.now(), 0);
  t.ok(probe.free >= 0 && probe.free <= 2, `within the budget (${probe.free})`);
  const before = probe.free;
  await new Promise((r) => setTimeout(r, 120));
  // The pool used about one core over the interval: that core would run a pool batch.
  probe.sample(performance.now(), 120);
  t.ok(probe.free <= 2, 'still within the budget');
  t.ok(probe.free >= before - 0.5, `pool time adds back (${before} -> ${probe.free})`);
});

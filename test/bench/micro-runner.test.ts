import t from 'tap';
import type { MicroCase } from '../../bench/micro/micro-case';
import { measureCase } from '../../bench/micro/runner';

// Tiny samples: this checks the measuring, not the machine.
const TINY = { samples: 3, sampleMs: 5, warmupMs: 5 };

const data = Float64Array.from({ length: 4000 }, () => Math.random());

/** Sums the first `n` values; the sum is returned so the work cannot be dropped. */
function sumCase(name: string, n: number): MicroCase {
  return {
    name,
    fn() {
      let s = 0;
      for (let i = 0; i < n; i++) s += data[i];
      return s;
    },
  };
}

t.test('reports a positive, finite ns/call and a spread around it', async (t) => {
  const m = await measureCase(sumCase('sum 200', 200), TINY);
  t.ok(Number.isFinite(m.nsPerCall) && m.nsPerCall > 0, `ns/call ${m.nsPerCall}`);
  t.equal(m.samplesNs.length, TINY.samples);
  t.ok(m.minNs <= m.nsPerCall && m.nsPerCall <= m.maxNs, `${m.minNs} <= ${m.nsPerCall} <= ${m.maxNs}`);
  t.ok(m.iterations >= 1);
  t.ok(Math.abs(m.opsPerSec - 1e9 / m.nsPerCall) < 1e-6 * m.opsPerSec);
  t.ok(m.madPct >= 0);
});

t.test('ten times the work reports a clearly larger ns/call', async (t) => {
  const small = await measureCase(sumCase('sum 200', 200), TINY);
  const large = await measureCase(sumCase('sum 2000', 2000), TINY);
  const ratio = large.nsPerCall / small.nsPerCall;
  t.ok(ratio > 3, `2000 values ${large.nsPerCall.toFixed(1)} ns vs 200 values ${small.nsPerCall.toFixed(1)} ns: ratio ${ratio.toFixed(2)}`);
});

t.test('async cases are awaited call by call; setup and teardown run once', async (t) => {
  let setups = 0;
  let teardowns = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const m = await measureCase(
    {
      name: 'async',
      async: true,
      setup: () => void setups++,
      teardown: () => void teardowns++,
      async fn() {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await Promise.resolve();
        inFlight--;
        return 1;
      },
    },
    TINY,
  );
  t.ok(Number.isFinite(m.nsPerCall) && m.nsPerCall > 0, `ns/call ${m.nsPerCall}`);
  t.equal(setups, 1);
  t.equal(teardowns, 1);
  t.equal(maxInFlight, 1);
});

t.test('bad options and a throwing case reject', async (t) => {
  await t.rejects(measureCase(sumCase('x', 1), { ...TINY, samples: 0 }), RangeError);
  let teardowns = 0;
  await t.rejects(
    measureCase({ name: 'throws', fn: () => { throw new Error('boom'); }, teardown: () => void teardowns++ }, TINY),
    { message: 'boom' },
  );
  t.equal(teardowns, 1, 'teardown still runs');
});

/**
 * The front block: what the front end publishes is what the operations thread reads,
 * gauge by gauge, and the state flags cross with Atomics.
 */
import t from 'tap';
import { Worker } from 'node:worker_threads';
import type { PoolGauges } from '../../src/metrics/registry';
import {
  allocateFrontBlock,
  FrontBlockReader,
  FrontGaugePublisher,
  kGaugeHeapUsedBytes,
  kGaugeLoopBusySeconds,
  kGaugeLoopLagSeconds,
  kGaugeLoopDelayMaxSeconds,
  kStateDraining,
  kStateReady,
  POOL_GAUGE_KEYS,
  stateWords,
} from '../../src/ops/front-block';

function distinctGauges(): PoolGauges {
  const g = {} as Record<keyof PoolGauges, () => number>;
  POOL_GAUGE_KEYS.forEach((k, i) => {
    g[k] = () => 10 + i;
  });
  return g;
}

t.test('each pool gauge published is read back under its own name', async (t) => {
  const block = allocateFrontBlock();
  const publisher = new FrontGaugePublisher(block, distinctGauges());
  t.teardown(() => publisher.close());
  const reader = new FrontBlockReader(block);
  POOL_GAUGE_KEYS.forEach((k) => t.equal(reader.pool[k](), 0, `${k} 0 before publishing`));
  publisher.publish(3);
  POOL_GAUGE_KEYS.forEach((k, i) => t.equal(reader.pool[k](), 10 + i, k));
  t.equal(reader.runtime(kGaugeLoopLagSeconds), 0.003, 'lag in seconds');
  t.ok(reader.runtime(kGaugeHeapUsedBytes) > 1e6, 'this thread heap in use');
  t.ok(reader.runtime(kGaugeLoopBusySeconds) > 0, 'loop busy time');
  publisher.publish(-1);
  t.equal(reader.runtime(kGaugeLoopLagSeconds), 0, 'a negative lag (clock skew) reads 0');
});

t.test('the event-loop delay covers the time since the previous publish', async (t) => {
  const block = allocateFrontBlock();
  const publisher = new FrontGaugePublisher(block, distinctGauges());
  t.teardown(() => publisher.close());
  const reader = new FrontBlockReader(block);
  await new Promise((r) => setTimeout(r, 30));
  const until = Date.now() + 60;
  while (Date.now() < until); // hold the loop for 60 ms
  await new Promise((r) => setTimeout(r, 30));
  publisher.publish(0);
  t.ok(reader.runtime(kGaugeLoopDelayMaxSeconds) >= 0.04, `max delay ${reader.runtime(kGaugeLoopDelayMaxSeconds)} s`);
  await new Promise((r) => setTimeout(r, 50));
  publisher.publish(0);
  t.ok(reader.runtime(kGaugeLoopDelayMaxSeconds) < 0.04, 'reset at each publish');
});

t.test('ready and draining cross to another thread', async (t) => {
  const block = allocateFrontBlock();
  const state = stateWords(block);
  const read = (): Promise<[number, number]> =>
    new Promise((resolve, reject) => {
      const w = new Worker(
        `const { workerData, parentPort } = require('node:worker_threads');
         const s = new Int32Array(workerData, 0, 4);
         parentPort.postMessage([Atomics.load(s, ${kStateReady}), Atomics.load(s, ${kStateDraining})]);`,
        { eval: true, workerData: block },
      );
      w.once('message', resolve);
      w.once('error', reject);
    });
  t.same(await read(), [0, 0]);
  Atomics.store(state, kStateReady, 1);
  Atomics.store(state, kStateDraining, 1);
  t.same(await read(), [1, 1]);
  const reader = new FrontBlockReader(block);
  t.equal(reader.ready(), true);
  t.equal(reader.draining(), true);
});

import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScoringPool } from '../../src/pool/scoring-pool';

/** A worker file that echoes its task: enough to start threads and look at their limits. */
function echoWorker(t: Tap.Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'scoring-pool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'echo.worker.js');
  writeFileSync(file, 'module.exports = (task) => task;\n');
  return file;
}

async function startedPool(t: Tap.Test, youngGenerationMb?: number): Promise<ScoringPool> {
  const pool = new ScoringPool({ filename: echoWorker(t), threads: 2, maxBatchesPerWorker: 1, atomics: 'sync', workerData: null, youngGenerationMb }, () => {});
  t.teardown(() => pool.close());
  // A round trip per thread proves both started before their limits are read.
  await Promise.all([pool.run(new ArrayBuffer(8)), pool.run(new ArrayBuffer(8))]);
  return pool;
}

t.test('youngGenerationMb caps every worker thread\'s V8 young generation', async (t) => {
  const pool = await startedPool(t, 6);
  const workers = pool.threads();
  t.equal(workers.length, 2);
  for (const w of workers) t.equal(w.resourceLimits?.maxYoungGenerationSizeMb, 6);
});

t.test('0 leaves V8\'s default young generation', async (t) => {
  const pool = await startedPool(t, 0);
  for (const w of pool.threads()) t.not(w.resourceLimits?.maxYoungGenerationSizeMb, 6);
  const echoed = await pool.run(new Uint8Array([1, 2, 3]).buffer);
  t.same([...new Uint8Array(echoed)], [1, 2, 3], 'tasks run through the pool');
});

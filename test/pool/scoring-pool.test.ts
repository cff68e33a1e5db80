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

/**
 * A worker whose task's first byte says what to do: 0 echo, 1 spin forever in JS,
 * 2 block 400 ms in native code (execSync: terminate() cannot interrupt it), 3 wait forever.
 */
function hangingWorker(t: Tap.Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'scoring-pool-hang-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'hang.worker.js');
  writeFileSync(
    file,
    [
      "const { execSync } = require('node:child_process');",
      'module.exports = async (task) => {',
      '  const op = new Uint8Array(task)[0];',
      '  if (op === 1) for (;;) {}',
      "  if (op === 2) execSync('sleep 0.4');",
      '  if (op === 3) await new Promise(() => {});',
      '  return task;',
      '};',
      '',
    ].join('\n'),
  );
  return file;
}

const op = (n: number): ArrayBuffer => new Uint8Array([n]).buffer;

async function hangingPool(t: Tap.Test, threads: number, maxBatchesPerWorker: number): Promise<{ pool: ScoringPool; gone: number[][] }> {
  const gone: number[][] = [];
  const pool = new ScoringPool(
    { filename: hangingWorker(t), threads, maxBatchesPerWorker, atomics: 'sync', workerData: null },
    (live) => gone.push([...live]),
  );
  t.teardown(() => pool.close());
  await Promise.all(Array.from({ length: threads }, () => pool.run(op(0))));
  return { pool, gone };
}

async function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!pred() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  return pred();
}

t.test('aborting a task stuck in a loop terminates its worker; piscina starts a replacement', async (t) => {
  const { pool, gone } = await hangingPool(t, 2, 1);
  const before = pool.threads();
  const abort = new AbortController();
  const stuck = pool.run(op(1), abort.signal);
  await new Promise((r) => setTimeout(r, 50));
  abort.abort();
  const err = await stuck.then(() => null, (e: Error) => e);
  t.equal(err?.name, 'AbortError', 'rejected as aborted');
  t.equal(before.filter((w) => w.threadId === -1).length, 1, 'when it rejects, the worker that held it has exited');
  t.ok(gone.some((live) => live.length >= 1), 'the exit is reported, so its metrics slot can be released');
  t.ok(await waitFor(() => pool.threadCount === 2, 5_000), 'back to 2 threads');
  const echoed = await pool.run(new Uint8Array([0, 7]).buffer);
  t.same([...new Uint8Array(echoed)], [0, 7], 'and tasks run again');
});

t.test('a rejection waits until the terminated worker leaves native code', async (t) => {
  const { pool } = await hangingPool(t, 1, 1);
  const abort = new AbortController();
  const blocked = pool.run(op(2), abort.signal);
  await new Promise((r) => setTimeout(r, 50));
  const abortedAt = Date.now();
  abort.abort();
  await blocked.then(
    () => t.fail('an aborted task must not resolve'),
    () => undefined,
  );
  const waited = Date.now() - abortedAt;
  t.ok(waited >= 250, `rejected ${waited} ms after the abort: not before the thread stopped`);
});

t.test('with two tasks on a worker, aborting one fails the other, both after the exit', async (t) => {
  const { pool } = await hangingPool(t, 1, 2);
  const worker = pool.threads()[0];
  const abort = new AbortController();
  const outcome = (p: Promise<ArrayBuffer>): Promise<string> =>
    p.then(
      () => 'resolved',
      (e: Error) => `${e.name}, ${worker.threadId === -1 ? 'after' : 'before'} the exit`,
    );
  const aborted = outcome(pool.run(op(3), abort.signal));
  const other = outcome(pool.run(op(3)));
  await new Promise((r) => setTimeout(r, 50));
  abort.abort();
  t.equal(await aborted, 'AbortError, after the exit');
  t.match(await other, /, after the exit$/, 'the other task on the terminated worker fails too');
  t.ok(await waitFor(() => pool.threadCount === 1, 5_000), 'replaced');
});

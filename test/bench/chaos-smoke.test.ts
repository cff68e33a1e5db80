/**
 * `npm run chaos` runs end to end (a short, light run of two faults): it starts the
 * bidder, injects each fault under load, and writes its results. Late answers are not
 * asserted here (the suite runs test files side by side on two cores); lost requests, 5xx
 * and the drain's exit are.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../helpers/test-bidder';

t.setTimeout(120_000);

interface ChaosReport {
  results: { fault: string; counts: { lost: number; fiveXx: number; otherStatus: number; answered: number }; detail: Record<string, unknown>; failures: string[] }[];
}

t.test('chaos: a worker crash and a SIGTERM under light load lose nothing and answer no 5xx', async (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'chaos-smoke-')), 'chaos.json');
  const run = spawnSync(process.execPath, [resolve(REPO_ROOT, 'dist/bench/chaos.js'), '--only', 'worker-crash,sigterm', '--rate', '200', '--duration', '5', '--results', out], {
    cwd: REPO_ROOT, encoding: 'utf8', timeout: 100_000,
  });
  t.not(run.status, 2, `it ran (stderr: ${run.stderr.slice(-500)})`);
  t.match(run.stdout, /faults under load: 200 req\/s/, 'printed its table');
  const report = JSON.parse(readFileSync(out, 'utf8')) as ChaosReport;
  t.same(report.results.map((r) => r.fault), ['worker-crash', 'sigterm']);
  for (const r of report.results) {
    t.equal(r.counts.lost, 0, `${r.fault}: none lost${r.counts.lost > 0 ? ` (stderr: ${run.stderr.slice(-1500)})` : ''}`);
    t.equal(r.counts.fiveXx + r.counts.otherStatus, 0, `${r.fault}: no 5xx, no other status`);
    t.ok(r.counts.answered > 0, `${r.fault}: answered ${r.counts.answered}`);
  }
  const sigterm = report.results[1].detail;
  t.equal(sigterm.exitCode, 0, 'the bidder exited 0 after SIGTERM');
  t.equal(sigterm.listenerClosed, true, 'and its listener is closed');
  t.equal(report.results[0].detail.injectedAnswers, '204 204 204', 'each crashing request got its 204');
});

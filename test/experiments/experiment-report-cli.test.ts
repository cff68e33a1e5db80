/**
 * `npm run experiment:report`: the CLI in process and as a process on a temp folder of event
 * files (text with the figures, --json that parses to them, --html, --experiment,
 * --control, the error codes), and the HTML page: self-contained, the sample-ratio verdict
 * visible, hostile ids from the log escaped.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeEvent, EventEncoder } from '../../src/codec/event-records';
import { buildExperimentReport } from '../../src/experiments/experiment-report';
import { main } from '../../src/experiments/experiment-report-cli';
import { escapeHtml, renderHtmlReport } from '../../src/experiments/experiment-report-html';
import { printable } from '../../src/experiments/experiment-report-text';
import { scenarioRecord, writeScenario } from '../helpers/experiment-scenario';

const kHostile = '<script>alert(1)</script>';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (l) => out.push(l), (l) => err.push(l), () => new Date(Date.UTC(2026, 11, 3)));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

t.test('the CLI in process: text, --json, --html, filters and error codes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'experiment-cli-'));
  await writeScenario(dir, [
    scenarioRecord('exposure', { arm: `e3:${kHostile}`, count: 5300, weight: 50, control: true }),
    scenarioRecord('exposure', { arm: 'e3:B', count: 4700, weight: 50 }),
  ]);
  const text = await run(['--dir', dir]);
  t.equal(text.code, 0, text.err);
  t.equal(text.err, '');
  t.match(text.out, /^experiment e1: control A \(exposure records\)$/m);
  t.match(text.out, /^ {2}A \(control\) +50 +1000 +250 +20\.00% +100 +40\.00% +80 +0\.1600 +2\.0000 +0\.000160 +4 +4\.00% +0\.0800 USD$/m);
  t.match(text.out, /^ {2}B +50 +1000 +300 +30\.00% +150 +50\.00% +150 +0\.3750 +2\.5000 +0\.000375 +9 +6\.00% +0\.0375 USD$/m);
  t.match(text.out, /^ {2}B +\+50\.00% \[\+28\.34%, \+75\.32%\] \* +\+25\.00% \[/m, 'the lifts of B with their intervals');
  t.match(text.out, /sample ratio OK \(chi2 0\.000, df 1, p = 1\.0000\)/);
  t.match(text.out, /SAMPLE RATIO MISMATCH \(chi2 36\.000, df 1, p = \d\.\d\de-9 < 0\.001\)/, 'e3 is flagged');
  t.match(text.out, /approximation|model's estimate/, 'the surplus caveat');

  const json = await run(['--dir', dir, '--json']);
  t.equal(json.code, 0);
  const doc = JSON.parse(json.out);
  t.equal(doc.dir, dir);
  t.same(doc.experiments.map((e: { experimentId: string }) => e.experimentId), ['e1', 'e2', 'e3']);
  t.match(doc.experiments[0].arms[1], { armId: 'B', requests: 1000, bids: 300, wins: 150, bills: 150, clicks: 9, spendUsd: 0.375, ecpmUsd: 2.5 });
  t.equal(doc.experiments[0].arms[1].lift.bidRate.significant, true);
  t.match(doc.experiments[2].srm, { chi2: 36, df: 1, mismatch: true });
  t.same(doc.counts, { records: 1202, testRecords: 3, malformedArms: 0 });

  const html = join(dir, 'report.html');
  const filtered = await run(['--dir', dir, '--experiment', 'e1', '--control', 'B', '--json', '--html', html]);
  t.equal(filtered.code, 0, filtered.err);
  const only = JSON.parse(filtered.out);
  t.same(only.experiments.map((e: { experimentId: string }) => e.experimentId), ['e1']);
  t.same([only.experiments[0].controlArmId, only.experiments[0].controlSource], ['B', 'option']);
  const page = readFileSync(html, 'utf8');
  t.match(page, /^<!doctype html>/);
  t.match(page, /Experiment <code>e1<\/code>/);
  t.notMatch(page, /Experiment <code>e[23]/, '--experiment applies to the page too');

  const all = join(dir, 'all.html');
  t.equal((await run(['--dir', dir, '--html', all])).code, 0);
  const allPage = readFileSync(all, 'utf8');
  t.notMatch(allPage, /<script/i, 'the hostile arm id is never markup');
  t.match(allPage, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  t.match(allPage, /class="srm mismatch">SAMPLE RATIO MISMATCH/);

  const unknown = await run(['--dir', dir, '--experiment', 'nope']);
  t.same([unknown.code, unknown.err.split(':')[0]], [1, 'EXPERIMENTS_UNKNOWN_EXPERIMENT']);
  const noControl = await run(['--dir', dir, '--control', 'Q']);
  t.same([noControl.code, noControl.err.split(':')[0]], [1, 'EXPERIMENTS_UNKNOWN_CONTROL']);
  const usage = await run(['--dir', dir, '--frobnicate']);
  t.same([usage.code, usage.err.split(':')[0]], [2, 'EXPERIMENTS_USAGE']);
  t.equal((await run(['--experiment', ''])).code, 2);
  const missing = await run(['--dir', join(dir, 'nope')]);
  t.same([missing.code, missing.err.split(':')[0]], [1, 'EVENTS_DIR_UNREADABLE']);
  const unwritable = await run(['--dir', dir, '--html', join(dir, 'no', 'such', 'folder.html')]);
  t.same([unwritable.code, unwritable.err.split(':')[0]], [1, 'EXPERIMENTS_HTML_UNWRITABLE']);
  t.equal((await run(['--help'])).code, 0);
});

t.test('the CLI as a process on a temp folder', async (t) => {
  const cli = resolve(__dirname, '../../dist/src/experiments/experiment-report-cli.js');
  if (!existsSync(cli)) {
    t.skip('run `npx tsc -p .` first');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'experiment-proc-'));
  await writeScenario(dir);
  const text = spawnSync(process.execPath, [cli, '--dir', dir], { encoding: 'utf8' });
  t.equal(text.status, 0, text.stderr);
  t.match(text.stdout, /A \(control\) +50 +1000 +250 +20\.00% +100 +40\.00% +80 +0\.1600 +2\.0000/);
  t.match(text.stdout, /1200 records read, 3 test records left out/);
  const json = spawnSync(process.execPath, [cli, '--dir', dir, '--json', '--experiment', 'e1'], { encoding: 'utf8' });
  t.equal(json.status, 0, json.stderr);
  const doc = JSON.parse(json.stdout);
  t.match(doc.experiments[0].arms[0], { armId: 'A', control: true, requests: 1000, bidRate: 0.2, winRate: 0.4, ctr: 0.04, spendUsd: 0.16, ecpmUsd: 2 });
  t.equal(spawnSync(process.execPath, [cli, '--bogus'], { encoding: 'utf8' }).status, 2);
});

t.test('the HTML page: self-contained, the verdict visible, every id from the log escaped', async (t) => {
  const enc = new EventEncoder();
  const rec = (arm: string, count: number, control: boolean, extra: object = {}) => decodeEvent(enc.encode(scenarioRecord('exposure', { arm, count, weight: 1, control, ...extra })).slice());
  const { experiments, counts } = buildExperimentReport([
    rec(`x"'&<b>:${kHostile}`, 5050, true),
    rec(`x"'&<b>:B\u001b[2J`, 4950, false),
    decodeEvent(enc.encode(scenarioRecord('bid', { arm: `x"'&<b>:${kHostile}`, bidId: 'b', requestId: 'r', currency: '<i>EUR' })).slice()),
    decodeEvent(enc.encode(scenarioRecord('bill', { arm: `x"'&<b>:${kHostile}`, bidId: 'b', requestId: 'r', currency: '<i>EUR', clearingMicros: 1, valueMicros: 2_000_001 })).slice()),
  ]);
  const page = renderHtmlReport(experiments, { dir: '/tmp/<evil>', generatedAt: '2026-12-03T00:00:00.000Z', counts });
  t.notMatch(page, /<script|<b>|<i>|<evil>/, 'no id becomes markup');
  t.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  t.match(page, /x&quot;&#39;&amp;&lt;b&gt;/, 'the experiment id, quotes and ampersand included');
  t.match(page, /B\\u001b\[2J/, 'a control character made visible');
  t.notMatch(page, /\u001b/);
  t.notMatch(page, /\s(src|href)=|url\(|@import/, 'no external asset');
  t.match(page, /class="srm ok">sample ratio OK \(chi2 1\.000, df 1, p = 0\.3173\)/);
  t.match(page, /0\.0020 &lt;i&gt;EUR/, 'surplus in its (escaped) currency');
  t.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  t.equal(printable('a\u0000b\u009bc'), 'a\\u0000b\\u009bc');
});

t.test('an SVG bar: the interval on the axis, the colour by significance', async (t) => {
  const { liftBar } = await import('../../src/experiments/experiment-report-html');
  const up = liftBar({ lift: 0.5, low: 0.25, high: 0.75, significant: true }, 1);
  t.match(up, /<rect x="112" y="5" width="44" /, '0.25..0.75 of ±1 on 180 px (2 px margins)');
  t.match(up, /fill="#2e7d32"/);
  t.match(liftBar({ lift: 0, low: -0.1, high: 0.1, significant: false }, 1), /fill="#9e9e9e"/);
  t.match(liftBar({ lift: -0.5, low: -0.6, high: -0.4, significant: true }, 1), /fill="#c62828"/);
  t.match(liftBar({ lift: 3, low: 2, high: 9, significant: true }, 1), /<rect x="178" y="5" width="1" /, 'clipped at the axis end');
});

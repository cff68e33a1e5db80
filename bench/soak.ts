/**
 * The soak: the bidder at half its peak rate for a long while (10 minutes by default),
 * open loop, in one-minute segments. RSS is sampled every few seconds; the verdict is
 * that RSS stays flat after the warm-up (rssVerdict: later peaks within 5% of earlier
 * ones) and that no request errors. Writes bench/results/soak-<time>.json.
 *
 *   npm run bench:soak [-- --minutes 10] [--warmup-minutes 2] [--scenario banner-small] [--rate R]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRequestSet } from './load/request-set';
import { halfPeakRate } from './lib/analysis';
import { measureClosed, measureOpen } from './lib/measure';
import { rssMb, startServer } from './lib/proc';
import { table } from './lib/print';
import type { OpenLoopResult } from './lib/results';
import { serverLaunch } from './lib/servers';
import { RESULTS_DIR, timestamp } from './lib/write-results';
import { machineInfo } from './run';
import { findScenario, REPO_ROOT, scenarioBodies, unavailableReason } from './scenarios';

const kRssSampleMs = 5_000;
const kFlatTolerance = 0.05;

export interface RssSample {
  atS: number;
  rssMb: number;
}

/**
 * Flat after warm-up: RSS is a sawtooth (each isolate's heap grows until a major GC, then
 * drops), so single samples depend on where in a tooth they fall. The verdict compares
 * peaks with peaks: the highest RSS in the last third of the run after the warm-up
 * against the highest in the first third. A leak lifts the later peaks; a steady process
 * repeats them. Growth above the tolerance (5%) fails.
 */
export function rssVerdict(samples: RssSample[], warmupS: number, tolerance = kFlatTolerance): { firstPeakMb: number; lastPeakMb: number; minMb: number; maxMb: number; endMb: number; growth: number; flat: boolean } {
  const after = samples.filter((s) => s.atS >= warmupS);
  if (after.length < 6) throw new Error('not enough RSS samples after the warm-up');
  const third = Math.floor(after.length / 3);
  const firstPeakMb = Math.max(...after.slice(0, third).map((s) => s.rssMb));
  const lastPeakMb = Math.max(...after.slice(after.length - third).map((s) => s.rssMb));
  const growth = (lastPeakMb - firstPeakMb) / firstPeakMb;
  return {
    firstPeakMb,
    lastPeakMb,
    minMb: Math.min(...after.map((s) => s.rssMb)),
    maxMb: Math.max(...after.map((s) => s.rssMb)),
    endMb: after[after.length - 1].rssMb,
    growth: Math.round(growth * 1000) / 1000,
    flat: growth <= tolerance,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let minutes = 10;
  let warmupMinutes = 2;
  let scenarioName = 'banner-small';
  let rate = 0;
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--minutes') minutes = Number(v), i++;
    else if (argv[i] === '--warmup-minutes') warmupMinutes = Number(v), i++;
    else if (argv[i] === '--scenario') scenarioName = v, i++;
    else if (argv[i] === '--rate') rate = Number(v), i++;
    else throw new Error(`unknown argument ${argv[i]} (see the header of bench/soak.ts)`);
  }
  if (!(minutes > warmupMinutes && warmupMinutes >= 0 && minutes <= 120)) throw new Error('need 0 <= --warmup-minutes < --minutes <= 120');
  const s = findScenario(scenarioName);
  const why = unavailableReason(s);
  if (why) throw new Error(`cannot soak ${s.name}: ${why}`);
  const dir = mkdtempSync(join(tmpdir(), 'bidder-soak-'));
  const set = writeRequestSet(dir, s.name, scenarioBodies(s), s.gzip);
  const startedAt = new Date().toISOString();
  const server = await startServer(REPO_ROOT, serverLaunch('bidder', s.env));
  const samples: RssSample[] = [];
  const segments: OpenLoopResult[] = [];
  let peak = 0;
  try {
    if (rate === 0) {
      peak = (await measureClosed(server, set, { connections: 64, warmupS: 2, durationS: 5 })).rps;
      rate = halfPeakRate(peak);
    }
    process.stderr.write(`soak: ${s.name}, ${rate} req/s for ${minutes} min (peak ${peak || 'not measured'}), RSS every ${kRssSampleMs / 1000} s\n`);
    const t0 = Date.now();
    const sample = (): void => {
      samples.push({ atS: Math.round((Date.now() - t0) / 1000), rssMb: rssMb(server.pid) });
    };
    sample();
    const timer = setInterval(sample, kRssSampleMs);
    for (let m = 1; m <= minutes; m++) {
      const r = await measureOpen(server, set, rate, 60, 64);
      segments.push(r);
      process.stderr.write(`  minute ${m}: achieved ${r.achievedRate} req/s, p99 ${(r.latencyUs.p99 / 1000).toFixed(2)} ms, p99.9 ${(r.latencyUs.p999 / 1000).toFixed(2)} ms, errors ${r.errors}, RSS ${rssMb(server.pid)} MB\n`);
    }
    clearInterval(timer);
    sample();
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const rss = rssVerdict(samples, warmupMinutes * 60);
  const errors = segments.reduce((n, r) => n + r.errors, 0);
  const non2xx = segments.reduce((n, r) => n + Object.entries(r.status).reduce((k, [code, c]) => (code.startsWith('2') ? k : k + c), 0), 0);
  const sent = segments.reduce((n, r) => n + r.sent, 0);
  const completed = segments.reduce((n, r) => n + r.completed, 0);
  process.stdout.write(
    `\n${table(
      ['minute', 'achieved req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors', 'bid share', 'CPU ms/1k', 'RSS MB'],
      segments.map((r, i) => [i + 1, r.achievedRate, (r.latencyUs.p50 / 1000).toFixed(2), (r.latencyUs.p99 / 1000).toFixed(2), (r.latencyUs.p999 / 1000).toFixed(2), (r.latencyUs.max / 1000).toFixed(2), r.errors, r.bidShare === null ? '-' : `${(r.bidShare * 100).toFixed(1)}%`, r.cpuMsPer1000, r.rssMb]),
    )}\n`,
  );
  const passed = rss.flat && errors === 0 && non2xx === 0 && completed === sent;
  process.stdout.write(
    `\nsoak: ${sent} sent, ${completed} answered, ${errors} errors, ${non2xx} non-2xx; RSS after warm-up between ${rss.minMb} and ${rss.maxMb} MB, peak of the first third ${rss.firstPeakMb} MB, of the last third ${rss.lastPeakMb} MB (${rss.growth >= 0 ? '+' : ''}${(rss.growth * 100).toFixed(1)}%), end ${rss.endMb} MB: ${passed ? 'PASSED' : 'FAILED'}\n`,
  );
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `soak-${timestamp(startedAt)}.json`);
  writeFileSync(
    file,
    JSON.stringify({ kind: 'soak', startedAt, finishedAt: new Date().toISOString(), command: `npm run bench:soak -- ${argv.join(' ')}`.trim(), machine: machineInfo(), scenario: s.name, peak, rate, minutes, warmupMinutes, rss, samples, errors, non2xx, sent, completed, passed, segments: segments.map(({ curve: _c, ...rest }) => rest) }, null, 1),
  );
  process.stdout.write(`results: ${file}\n`);
  process.exitCode = passed ? 0 : 1;
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`soak: ${(err as Error).stack}\n`);
    process.exit(2);
  });
}

/**
 * Micro-timing of both CTR models through the worker scorer (not a test, not the gate):
 *   tsc -p . && node dist/native-models/time-models.js [--json]
 * Reports microseconds per batch (median, p90, p99 over many runs) for 1, 16 and 64 rows,
 * single-threaded session as in the workers. Rows come from the real feature encoder.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FeatureEncoder } from '../src/features/feature-encoder';
import { loadModelShared } from '../src/models/model-bytes';
import type { BidRequest } from '../src/openrtb/types';
import { createScorer, type Scorer } from '../src/engine/onnx-scorer';
import { defaultOutDir } from './build-models';

const BATCHES = [1, 16, 64] as const;
const RUNS = 2000;
const MAX_ROWS = 64;

function fill(scorer: Scorer): void {
  const enc = new FeatureEncoder();
  const req: BidRequest = {
    id: 't',
    imp: [{ id: '1', banner: { w: 300, h: 250, pos: 1 } }],
    site: { domain: 'news.example.com', publisher: { id: 'p1' } },
    device: { devicetype: 4, os: 'iOS', connectiontype: 2, ifa: 'x', geo: { country: 'USA', region: 'NY' } },
    tmax: 150,
  };
  enc.beginRequest(req, Date.UTC(2025, 0, 1, 12));
  enc.beginImp(req.imp[0]!, 0.8);
  for (let r = 0; r < MAX_ROWS; r++) {
    const keys = FeatureEncoder.candidateKeys({
      campaignId: `c${r}`,
      creativeId: `cr${r}`,
      advertiserDomain: `adv${r % 7}.com`,
      iabCategory: `IAB${r % 26}`,
      mediaType: 'banner',
      w: 300,
      h: 250,
    });
    enc.writeRow(keys, scorer.cat, scorer.num, r);
  }
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Row {
  model: string;
  rows: number;
  medianUs: number;
  p90Us: number;
  p99Us: number;
  perRowUs: number;
}

async function timeModel(dir: string, name: string): Promise<Row[]> {
  const loaded = loadModelShared(dir, name);
  if (!loaded.ok) throw new Error(`${name}: ${loaded.errors.map((e) => `${e.code} ${e.message}`).join('; ')}`);
  const scorer = await createScorer(loaded.shared, loaded.byteLength, MAX_ROWS);
  await scorer.warm();
  fill(scorer);
  const out: Row[] = [];
  for (const rows of BATCHES) {
    for (let i = 0; i < 200; i++) await scorer.score(scorer.cat, scorer.num, rows);
    const us: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      await scorer.score(scorer.cat, scorer.num, rows);
      us.push((performance.now() - t0) * 1000);
    }
    us.sort((a, b) => a - b);
    const median = quantile(us, 0.5);
    out.push({
      model: name,
      rows,
      medianUs: round1(median),
      p90Us: round1(quantile(us, 0.9)),
      p99Us: round1(quantile(us, 0.99)),
      perRowUs: round1(median / rows),
    });
  }
  await scorer.release();
  return out;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

async function main(): Promise<void> {
  const dir = process.argv.includes('--dir') ? process.argv[process.argv.indexOf('--dir') + 1]! : defaultOutDir();
  const results: Row[] = [];
  for (const name of ['ctr-logreg', 'ctr-mlp']) results.push(...(await timeModel(join(dir), name)));
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ runs: RUNS, results }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`model        rows  median_us  p90_us  p99_us  us_per_row   (${RUNS} runs each, 1 thread)\n`);
  for (const r of results) {
    process.stdout.write(
      `${r.model.padEnd(12)} ${String(r.rows).padStart(4)} ${r.medianUs.toFixed(1).padStart(10)} ${r.p90Us.toFixed(1).padStart(7)} ${r.p99Us.toFixed(1).padStart(7)} ${r.perRowUs.toFixed(2).padStart(11)}\n`,
    );
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}

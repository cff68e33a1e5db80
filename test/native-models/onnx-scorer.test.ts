import t from 'tap';
import { resolve } from 'node:path';
import { CAT_WIDTH, FeatureEncoder, NUM_WIDTH, type CandidateFeatures } from '../../src/features/feature-encoder';
import { loadModelShared } from '../../src/models/model-bytes';
import type { BidRequest } from '../../src/openrtb/types';
import { createScorer, type Scorer } from '../../src/engine/onnx-scorer';

const MODELS_DIR = resolve(__dirname, '..', '..', 'native-models');
const MAX_ROWS = 64;
const NOW = Date.UTC(2025, 5, 1, 18, 0);

async function scorerFor(name: string): Promise<Scorer> {
  const r = loadModelShared(MODELS_DIR, name);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return createScorer(r.shared, r.byteLength, MAX_ROWS);
}

const SITES = ['news.example.com', 'games.example.org', 'weather.example.net', 'recipes.example.io'];

/** 64 rows: 16 candidates on each of 4 sites, through the real encoder. */
function encodedBatch(scorer: Scorer): void {
  const enc = new FeatureEncoder();
  const keys = Array.from({ length: 16 }, (_, i) =>
    FeatureEncoder.candidateKeys({
      campaignId: `camp-${i}`,
      creativeId: `cr-${i}`,
      advertiserDomain: `brand${i % 5}.com`,
      iabCategory: `IAB${(i % 20) + 1}`,
      mediaType: 'banner',
      w: 300,
      h: 250,
    } satisfies CandidateFeatures),
  );
  SITES.forEach((domain, s) => {
    const req: BidRequest = {
      id: `r${s}`,
      imp: [{ id: '1', banner: { w: 300, h: 250 } }],
      site: { domain, publisher: { id: `pub${s}` } },
      device: { devicetype: 2, os: 'android', geo: { country: 'USA' } },
      tmax: 100,
    };
    enc.beginRequest(req, NOW);
    enc.beginImp(req.imp[0]!, 0.5);
    keys.forEach((k, i) => enc.writeRow(k, scorer.cat, scorer.num, s * 16 + i));
  });
}

for (const name of ['ctr-logreg', 'ctr-mlp', 'ctr-dnn']) {
  t.test(name, async (t) => {
    const scorer = await scorerFor(name);
    t.teardown(() => scorer.release());
    await scorer.warm();
    encodedBatch(scorer);

    const all = Array.from(await scorer.score(scorer.cat, scorer.num, MAX_ROWS));
    t.equal(all.length, MAX_ROWS);
    t.ok(all.every((p) => p > 0 && p < 1), 'probabilities in (0, 1)');
    t.ok(all.every((p) => p > 1e-4 && p < 0.2), `plausible CTRs: ${Math.min(...all)}..${Math.max(...all)}`);
    t.ok(new Set(all).size > 60, 'different candidates and sites give different CTRs');
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    t.ok(mean > 0.001 && mean < 0.05, `mean ${mean}`);

    // Scores are per row: a row alone equals the same row inside the batch.
    for (const row of [0, 17, 63]) {
      const cat = scorer.cat.slice(row * CAT_WIDTH, (row + 1) * CAT_WIDTH);
      const num = scorer.num.slice(row * NUM_WIDTH, (row + 1) * NUM_WIDTH);
      const one = await scorer.score(cat, num, 1);
      t.ok(Math.abs(one[0]! - all[row]!) <= 1e-6 * Math.max(1, all[row]!), `row ${row}: ${one[0]} vs ${all[row]}`);
    }

    // Prefix batches reuse the scorer's own buffers and agree with the full batch.
    const eight = await scorer.score(scorer.cat, scorer.num, 8);
    t.same(Array.from(eight), all.slice(0, 8).map((v) => Math.fround(v)));

    // SharedArrayBuffer-backed inputs are staged through private memory, not rejected.
    const sharedCat = new Int32Array(new SharedArrayBuffer(MAX_ROWS * CAT_WIDTH * 4));
    const sharedNum = new Float32Array(new SharedArrayBuffer(MAX_ROWS * NUM_WIDTH * 4));
    sharedCat.set(scorer.cat);
    sharedNum.set(scorer.num);
    const viaShared = await scorer.score(sharedCat, sharedNum, 4);
    t.same(Array.from(viaShared), all.slice(0, 4));

    await t.rejects(scorer.score(scorer.cat, scorer.num, 0), RangeError);
    await t.rejects(scorer.score(scorer.cat, scorer.num, MAX_ROWS + 1), RangeError);
    await t.rejects(scorer.score(new Int32Array(CAT_WIDTH), new Float32Array(NUM_WIDTH), 2), RangeError);
  });
}

/**
 * One model run as a worker makes it (src/engine/onnx-scorer.ts: createScorer, score, which
 * calls session.run on tensors over the scorer's own arrays), on 1 and 32 rows of real
 * encoded features. The bytes are loaded and verified as the main thread does
 * (bench/micro/scorer-fixture.ts). Each case builds its own session.
 */
import { FeatureEncoder } from '../../src/features/feature-encoder';
import type { Scorer } from '../../src/engine/onnx-scorer';
import { BATCH_NOW_MS, keysByCreative, preparedRequest, type PreparedRequest } from './fixtures';
import type { MicroCase } from './micro-case';
import { loadScorer } from './scorer-fixture';

/** Fills the first `rows` rows of the scorer's input with the sample requests' candidate rows, cycled. */
function fillRows(scorer: Scorer, rows: number): void {
  const encoder = new FeatureEncoder();
  const keys = keysByCreative();
  const requests: PreparedRequest[] = [preparedRequest('site'), preparedRequest('app')];
  let row = 0;
  for (let r = 0; row < rows; r++) {
    const p = requests[r % requests.length];
    encoder.beginRequest(p.req, BATCH_NOW_MS);
    for (const imp of p.imps) {
      encoder.beginImp(p.req.imp[imp.impIndex], imp.floorUsd);
      for (const c of imp.candidates) {
        if (row === rows) return;
        encoder.writeRow(keys.get(c.creative)!, scorer.cat, scorer.num, row++);
      }
    }
  }
}

function scoreCase(model: string, rows: number): MicroCase {
  let scorer: Scorer | undefined;
  return {
    name: `score ${model} ${rows} row${rows === 1 ? '' : 's'}`,
    async: true,
    async setup() {
      scorer = await loadScorer(model);
      fillRows(scorer, rows);
      const ctr = await scorer.score(scorer.cat, scorer.num, rows);
      if (ctr.length < rows || !ctr.subarray(0, rows).every((x) => x > 0 && x < 1)) throw new Error(`${model}: implausible output`);
    },
    fn: () => scorer!.score(scorer!.cat, scorer!.num, rows),
    async teardown() {
      await scorer?.release();
      scorer = undefined;
    },
  };
}

export const cases: MicroCase[] = [
  scoreCase('ctr-logreg', 1),
  scoreCase('ctr-logreg', 32),
  scoreCase('ctr-mlp', 1),
  scoreCase('ctr-mlp', 32),
  scoreCase('ctr-dnn', 1),
  scoreCase('ctr-dnn', 32),
];

/**
 * How a worker fills the model input for a batch (src/engine/bid-engine.ts, prepare + score):
 * per request beginRequest, per imp beginImp, per candidate its precomputed keys and
 * writeRow into the batch matrices, then the copy of the rows into the scorer's own
 * Int32/Float32 tensors. The requests come already parsed with their candidates looked up,
 * so this is the encoding work alone; the other steps have their own cases.
 */
import type { Creative } from '../../src/decisioning/campaign-types';
import { CAT_WIDTH, FeatureEncoder, NUM_WIDTH, type CandidateKeys } from '../../src/features/feature-encoder';
import { BATCH_NOW_MS, keysByCreative, kMaxModelRows, preparedRequest, requestFixture, type PreparedRequest } from './fixtures';
import type { MicroCase } from './micro-case';

class BatchFill {
  private readonly encoder = new FeatureEncoder();
  private keys = new Map<Creative, CandidateKeys>();
  /** The engine's batch matrices and the scorer's tensor memory, sized as they are there. */
  private batchCat = new Int32Array(0);
  private batchNum = new Float32Array(0);
  readonly scorerCat = new Int32Array(kMaxModelRows * CAT_WIDTH);
  readonly scorerNum = new Float32Array(kMaxModelRows * NUM_WIDTH);
  requests: PreparedRequest[] = [];
  rows = 0;

  setup(requests: PreparedRequest[]): void {
    this.keys = keysByCreative();
    this.requests = requests;
    this.rows = requests.reduce((s, r) => s + r.rows, 0);
    const cap = Math.max(1024, this.rows);
    this.batchCat = new Int32Array(cap * CAT_WIDTH);
    this.batchNum = new Float32Array(cap * NUM_WIDTH);
  }

  /** Rows written into the batch matrices; mirrors BidEngine.prepare's loop. */
  encode(): number {
    const encoder = this.encoder;
    const keys = this.keys;
    let rows = 0;
    for (let r = 0; r < this.requests.length; r++) {
      const p = this.requests[r];
      encoder.beginRequest(p.req, BATCH_NOW_MS);
      for (let j = 0; j < p.imps.length; j++) {
        const imp = p.imps[j];
        const cands = imp.candidates;
        if (cands.length === 0) continue;
        encoder.beginImp(p.req.imp[imp.impIndex], imp.floorUsd);
        for (let k = 0; k < cands.length; k++) encoder.writeRow(keys.get(cands[k].creative)!, this.batchCat, this.batchNum, rows + k);
        rows += cands.length;
      }
    }
    return rows;
  }

  /** The copy BidEngine.score makes into the scorer's tensors (rows <= maxRows here). */
  copyToScorer(rows: number): Int32Array {
    this.scorerCat.set(this.batchCat.subarray(0, rows * CAT_WIDTH));
    this.scorerNum.set(this.batchNum.subarray(0, rows * NUM_WIDTH));
    return this.scorerCat;
  }
}

function fillCase(name: string, requests: () => PreparedRequest[]): MicroCase[] {
  const b = new BatchFill();
  const setup = (): void => {
    b.setup(requests());
    if (b.encode() !== b.rows) throw new Error(`${name}: encoded row count differs from the candidates`);
  };
  return [
    { name: `encode ${name}`, setup, fn: () => b.encode() },
    { name: `encode + copy to scorer ${name}`, setup, fn: () => b.copyToScorer(b.encode()) },
  ];
}

const site = requestFixture('site').label;
const app = requestFixture('app').label;

export const cases: MicroCase[] = [
  ...fillCase(`1 request ${site}`, () => [preparedRequest('site')]),
  ...fillCase(`1 request ${app}`, () => [preparedRequest('app')]),
  // A batch as the pool hands it to a worker: several requests, their rows in one matrix.
  ...fillCase(`batch of 16 requests (${site} + ${app})`, () => {
    const s = preparedRequest('site');
    const a = preparedRequest('app');
    return Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? s : a));
  }),
];

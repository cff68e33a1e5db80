/**
 * Feature hashing (src/features/feature-encoder.ts) at each of its levels: request fields
 * once per request (beginRequest), imp fields once per imp (beginImp), one candidate row
 * (writeRow: copies plus two cross hashes), and the string hash under all of them.
 */
import { CAT_WIDTH, FeatureEncoder, NUM_WIDTH, type CandidateKeys } from '../../src/features/feature-encoder';
import { fieldSeed, hashString } from '../../src/features/hash';
import { BATCH_NOW_MS, keysByCreative, preparedRequest, requestFixture, type PreparedRequest, type RequestKind } from './fixtures';
import type { MicroCase } from './micro-case';

const KINDS: readonly RequestKind[] = ['site', 'app'];

function requestCases(kind: RequestKind): MicroCase[] {
  const { label } = requestFixture(kind);
  const encoder = new FeatureEncoder();
  let p!: PreparedRequest;
  let keys!: CandidateKeys;
  let cat = new Int32Array(0);
  let num = new Float32Array(0);
  const setup = (): void => {
    p = preparedRequest(kind);
    const first = p.imps.find((i) => i.candidates.length > 0)!;
    keys = keysByCreative().get(first.candidates[0].creative)!;
    cat = new Int32Array(p.rows * CAT_WIDTH);
    num = new Float32Array(p.rows * NUM_WIDTH);
    encoder.beginRequest(p.req, BATCH_NOW_MS);
    encoder.beginImp(p.req.imp[first.impIndex], first.floorUsd);
  };
  return [
    {
      name: `beginRequest ${label}`,
      setup,
      fn() {
        encoder.beginRequest(p.req, BATCH_NOW_MS);
        return encoder;
      },
    },
    {
      name: `beginImp ${label} imp 0`,
      setup,
      fn() {
        encoder.beginImp(p.req.imp[0], p.imps[0].floorUsd);
        return encoder;
      },
    },
    {
      name: `writeRow ${label} (1 row)`,
      setup,
      fn() {
        encoder.writeRow(keys, cat, num, 0);
        return cat;
      },
    },
  ];
}

const SEED = fieldSeed('site_or_app');

export const cases: MicroCase[] = [
  ...KINDS.flatMap(requestCases),
  { name: 'hashString www.foobar.com (fold case)', fn: () => hashString(SEED, 'www.foobar.com', true) },
  { name: 'hashString 40-char id (exact case)', fn: () => hashString(SEED, 'AA000DFE74168477C70D291f574D344790E0BB11', false) },
];

/**
 * Request body text -> BidRequest: the depth pre-check, the engine's JSON.parse, and
 * parseBidRequest, which is both plus validation (src/openrtb/parse-request.ts).
 */
import { exceedsDepth, MAX_DEPTH, parseBidRequest } from '../../src/openrtb/parse-request';
import { requestFixture, type RequestKind } from './fixtures';
import type { MicroCase } from './micro-case';

const KINDS: readonly RequestKind[] = ['site', 'app'];

export const cases: MicroCase[] = KINDS.flatMap((kind): MicroCase[] => {
  const { label, text } = requestFixture(kind);
  return [
    { name: `JSON.parse ${label}`, fn: () => JSON.parse(text) },
    { name: `exceedsDepth ${label}`, fn: () => exceedsDepth(text, MAX_DEPTH) },
    {
      name: `parseBidRequest ${label}`,
      setup() {
        const r = parseBidRequest(text);
        if (!r.ok) throw new Error(`${label} rejected: ${r.error.code}`);
      },
      fn: () => parseBidRequest(text),
    },
  ];
});

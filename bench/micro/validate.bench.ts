/** validateBidRequest (src/openrtb/validate.ts) on an already parsed, valid request. */
import { validateBidRequest } from '../../src/openrtb/validate';
import { requestFixture, type RequestKind } from './fixtures';
import type { MicroCase } from './micro-case';

const KINDS: readonly RequestKind[] = ['site', 'app'];

export const cases: MicroCase[] = KINDS.map((kind): MicroCase => {
  const { label, text } = requestFixture(kind);
  // Validation only rewrites null optional fields to undefined, so one object serves every call.
  let parsed: unknown;
  return {
    name: `validateBidRequest ${label}`,
    setup() {
      parsed = JSON.parse(text);
      const err = validateBidRequest(parsed);
      if (err !== null) throw new Error(`${label} rejected: ${err.code}`);
    },
    fn: () => validateBidRequest(parsed),
  };
});

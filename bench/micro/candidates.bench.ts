/**
 * From a valid request to its candidates: the request context (prepareRequest, once per
 * request) and the campaign index lookup (CampaignIndex.candidatesFor, once per imp) over
 * the sample campaigns; scanCandidates, the index-free reference, for the ratio.
 */
import { scanCandidates } from '../../src/decisioning/campaign-index';
import type { Candidate } from '../../src/decisioning/campaign-types';
import { prepareRequest } from '../../src/decisioning/request-context';
import { campaignIndex, DECISION, preparedRequest, requestFixture, type PreparedRequest, type RequestKind } from './fixtures';
import type { MicroCase } from './micro-case';

const KINDS: readonly RequestKind[] = ['site', 'app'];

export const cases: MicroCase[] = KINDS.flatMap((kind): MicroCase[] => {
  const { label } = requestFixture(kind);
  let p!: PreparedRequest;
  const scratch: Candidate[] = [];
  const setup = (): void => {
    p = preparedRequest(kind);
  };
  return [
    { name: `prepareRequest ${label}`, setup, fn: () => prepareRequest(p.req, DECISION) },
    {
      name: `candidatesFor ${label} (every imp)`,
      setup,
      fn() {
        const index = campaignIndex();
        const { req, ctx } = p;
        let n = 0;
        for (let i = 0; i < req.imp.length; i++) n += index.candidatesFor(req, req.imp[i], ctx, scratch);
        return n;
      },
    },
    {
      name: `scanCandidates ${label} (every imp, no index)`,
      setup,
      fn() {
        const compiled = campaignIndex().compiled;
        const { req, ctx } = p;
        let n = 0;
        for (let i = 0; i < req.imp.length; i++) n += scanCandidates(compiled, req.imp[i], ctx, scratch);
        return n;
      },
    },
  ];
});

/**
 * After scoring: price the candidates of an imp and pick the best (decide), then the bid
 * and BidResponse JSON (src/decisioning/bid-builder.ts bidJson, bidResponseJson), as
 * BidEngine.decide does for a request with one winning imp; and the same answer as UTF-8
 * bytes (src/decisioning/response-bytes.ts), as the engine writes it for a BatchReply,
 * beside the string answer encoded the way the writer used to encode it.
 */
import { bidJson, bidResponseJson, pickBest } from '../../src/decisioning/bid-builder';
import type { Candidate } from '../../src/decisioning/campaign-types';
import { priceCandidate } from '../../src/decisioning/pricing';
import { ResponseBytes } from '../../src/decisioning/response-bytes';
import { preparedRequest, requestFixture, SEAT, type PreparedImp, type PreparedRequest, type RequestKind } from './fixtures';
import type { MicroCase } from './micro-case';

const KINDS: readonly RequestKind[] = ['site', 'app'];
/** A plausible model output; every candidate gets it so the prices differ only by campaign. */
const CTR = 0.02;
const BID_ID = 'w1mabc123-1k';
const RESPONSE_ID = 'w1mabc123-1l';

function requestCases(kind: RequestKind): MicroCase[] {
  const { label } = requestFixture(kind);
  let p!: PreparedRequest;
  let imp!: PreparedImp;
  let winner!: Candidate;
  let price = 0;
  let bid = '';
  const prices = new Float64Array(64);
  const scratch = Buffer.allocUnsafeSlow(64 * 1024);
  const bytes = new ResponseBytes();
  const setup = (): void => {
    p = preparedRequest(kind);
    imp = p.imps.find((i) => i.candidates.length > 0)!;
    const n = imp.candidates.length;
    for (let k = 0; k < n; k++) prices[k] = priceCandidate(imp.candidates[k], CTR, imp.floorUsd);
    const best = pickBest(prices, n);
    // Below every floor at this CTR: bid the floor anyway, the JSON costs the same.
    winner = imp.candidates[best < 0 ? 0 : best];
    price = best < 0 ? Math.max(imp.floorUsd, 0.01) : prices[best];
    bid = bidJson(p.req.imp[imp.impIndex], winner, price, p.ctx, BID_ID);
    JSON.parse(bidResponseJson(p.req.id, RESPONSE_ID, p.ctx.currency, SEAT, [bid]));
  };
  return [
    {
      name: `priceCandidate + pickBest ${label} imp`,
      setup,
      fn() {
        const cands = imp.candidates;
        for (let k = 0; k < cands.length; k++) prices[k] = priceCandidate(cands[k], CTR, imp.floorUsd);
        return pickBest(prices, cands.length);
      },
    },
    { name: `bidJson ${label}`, setup, fn: () => bidJson(p.req.imp[imp.impIndex], winner, price, p.ctx, BID_ID) },
    { name: `bidResponseJson ${label} (1 bid)`, setup, fn: () => bidResponseJson(p.req.id, RESPONSE_ID, p.ctx.currency, SEAT, [bid]) },
    {
      name: `bidJson + bidResponseJson + UTF-8 write ${label} (1 bid)`,
      setup,
      fn() {
        const body = bidResponseJson(p.req.id, RESPONSE_ID, p.ctx.currency, SEAT, [bidJson(p.req.imp[imp.impIndex], winner, price, p.ctx, BID_ID)]);
        return scratch.write(body, 0, 'utf8');
      },
    },
    {
      name: `ResponseBytes ${label} (1 bid)`,
      setup,
      fn() {
        bytes.begin(p.req.id);
        bytes.bid(p.req.imp[imp.impIndex], winner, price, BID_ID);
        return bytes.end(RESPONSE_ID, p.ctx.currency, SEAT);
      },
    },
  ];
}

export const cases: MicroCase[] = KINDS.flatMap(requestCases);

/**
 * Runs decisioning over a folder of bid requests with a fixed CTR and prints how many
 * requests would get a bid and why the others would not. Used to tune the sample
 * campaigns against real traffic shapes.
 *
 *   npx tsc -p . && node dist/src/decisioning/corpus-report.js [requestsDir] [campaignFile]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BidRequest } from '../openrtb/types';
import { noBidReasonFor } from './bid-builder';
import { CampaignIndex } from './campaign-index';
import { loadCampaignFile } from './campaign-loader';
import type { Candidate, DecisionConfig } from './campaign-types';
import { defaultCampaigns } from './default-campaigns';
import { impFloorUsd, prepareRequest } from './request-context';
import { impMediaMask } from './eligibility';
import { priceCandidate } from './pricing';

export interface CorpusReport {
  requests: number;
  unparseable: number;
  withBid: number;
  /** Request-level outcome: "bid" or a NoBidReason code. */
  outcomes: Record<string, number>;
  /** Finer diagnostics for no_candidates requests (not protocol codes). */
  noCandidateDetail: Record<string, number>;
  /** Winning bids by campaign id. */
  winsByCampaign: Record<string, number>;
}

function inc(m: Record<string, number>, k: string): void {
  m[k] = (m[k] ?? 0) + 1;
}

export function runCorpus(dir: string, index: CampaignIndex, cfg: DecisionConfig, ctr: number): CorpusReport {
  const r: CorpusReport = { requests: 0, unparseable: 0, withBid: 0, outcomes: {}, noCandidateDetail: {}, winsByCampaign: {} };
  const out: Candidate[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    r.requests++;
    let req: BidRequest;
    try {
      req = JSON.parse(readFileSync(join(dir, f), 'utf8')) as BidRequest;
    } catch {
      r.unparseable++;
      continue;
    }
    if (typeof req !== 'object' || req === null || !Array.isArray(req.imp)) {
      r.unparseable++;
      continue;
    }
    const prep = prepareRequest(req, cfg);
    if (!prep.ok) {
      inc(r.outcomes, prep.reason);
      continue;
    }
    const ctx = prep.ctx;
    let cands = 0;
    let bids = 0;
    let detail = 'no_eligible_campaign';
    for (const imp of req.imp) {
      const floor = impFloorUsd(imp, ctx);
      if (Number.isNaN(floor)) detail = 'floor_currency_without_rate';
      else if (impMediaMask(imp) === 0) detail = 'imp_without_media';
      const n = index.candidatesFor(req, imp, ctx, out);
      cands += n;
      let best = 0;
      let winner = '';
      for (let i = 0; i < n; i++) {
        const p = priceCandidate(out[i], ctr, floor);
        if (p > best) {
          best = p;
          winner = out[i].campaign.id;
        }
      }
      if (best > 0) {
        bids++;
        inc(r.winsByCampaign, winner);
      }
    }
    const reason = noBidReasonFor(cands, bids);
    if (reason === null) {
      r.withBid++;
      inc(r.outcomes, 'bid');
    } else {
      inc(r.outcomes, reason);
      if (cands === 0) inc(r.noCandidateDetail, detail);
    }
  }
  return r;
}

/** Rates and seat the report runs with: EUR and GBP configured, RUB deliberately not. */
export const REPORT_CONFIG: DecisionConfig = { fxRates: { EUR: 0.92, GBP: 0.79 }, seatId: 'rtb-bidder' };

function main(): void {
  const dir = process.argv[2] ?? join(process.cwd(), '..', 'shared', 'corpus', 'exchange-requests');
  const loaded = process.argv[3] !== undefined ? loadCampaignFile(process.argv[3]) : defaultCampaigns();
  if (!loaded.ok) {
    process.stderr.write(loaded.errors.join('\n') + '\n');
    process.exitCode = 1;
    return;
  }
  const index = new CampaignIndex(loaded.campaigns);
  const r = runCorpus(dir, index, REPORT_CONFIG, 0.01);
  const lines = [
    `corpus: ${dir}`,
    `campaigns: ${index.size}, ctr: 0.01, fxRates: EUR 0.92, GBP 0.79`,
    `requests: ${r.requests} (unparseable ${r.unparseable})`,
    `with at least one bid: ${r.withBid} (${((100 * r.withBid) / r.requests).toFixed(1)}%)`,
    'outcomes:',
    ...Object.entries(r.outcomes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `  ${k.padEnd(28)} ${v}`),
    'no_candidates detail (last imp seen):',
    ...Object.entries(r.noCandidateDetail).sort((a, b) => b[1] - a[1]).map(([k, v]) => `  ${k.padEnd(28)} ${v}`),
    `campaigns winning at least once: ${Object.keys(r.winsByCampaign).length}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

if (require.main === module) main();

/**
 * The campaigns shipped with the bidder (campaigns/sample-campaigns.json), compiled into the
 * build so a bidder started without a campaign file still has something to serve.
 */
import sample from '../../campaigns/sample-campaigns.json';
import type { ParseResult } from './campaign-loader';
import { parseCampaigns } from './campaign-loader';

export function defaultCampaigns(): ParseResult {
  return parseCampaigns(sample as unknown);
}

/**
 * The exchange's side of one request: send it, read the bid, run the auction, fire the
 * notices the way an exchange fires them, draw the click, and enter it all in the books.
 * Counts every HTTP answer by status and never throws on one.
 */
import { kMacAlreadyVerified, verifyNoticeToken } from '../../src/notices/notice-token';
import { formatUnits4, runAuction, toUnits4 } from './auction';
import { isLoopback, type ExchangeClient } from './client';
import { substituteMacros, type MacroValues } from './macros';
import { trueValueCpm } from './predict';
import type { TruthLedger } from './truth';
import type { AuctionType, SimCampaign, SimulationResult, StatusCounts } from './types';
import { bidRequest, requestId, type RequestDraw, type World } from './world';

/** The path of the click notice (the bidder counts the click for the bid's campaign and arms). */
export const kClickPath = '/notice/click';

export type NoticeKind = 'win' | 'bill' | 'loss' | 'click';

/** What one bid in a BidResponse tells the exchange. */
interface ResponseBid {
  price: number;
  nurl: string;
  burl: string;
  lurl: string;
}

/** The first bid of a BidResponse, or null when there is none with a price and all three notice URLs. */
export function firstBid(body: string): ResponseBid | null {
  try {
    const r = JSON.parse(body) as { seatbid?: { bid?: Partial<ResponseBid>[] }[] };
    const b = r.seatbid?.[0]?.bid?.[0];
    if (b === undefined || typeof b.price !== 'number') return null;
    if (typeof b.nurl !== 'string' || typeof b.burl !== 'string' || typeof b.lurl !== 'string') return null;
    return b as ResponseBid;
  } catch {
    return null;
  }
}

function bump(c: StatusCounts, status: number): void {
  const k = String(status);
  c[k] = (c[k] ?? 0) + 1;
}

export interface ExchangeSettings {
  at: AuctionType;
  tmaxMs: number;
  clicks: boolean;
}

export class Exchange {
  readonly counts: Pick<SimulationResult, 'requests' | 'notices'> = {
    requests: { sent: 0, answered: 0, bids: 0, noBids: 0, status: {}, badTokens: 0 },
    notices: { win: {}, bill: {}, loss: {}, click: {}, refused: 0 },
  };

  /** Notices the bidder answered 204: what its own counters must reach. */
  readonly taken = { wins: 0, bills: 0, losses: 0 };

  private readonly campaigns: Map<string, SimCampaign>;

  constructor(
    private readonly world: World,
    private readonly settings: ExchangeSettings,
    private readonly client: ExchangeClient,
    private readonly ledger: TruthLedger,
    private readonly bidderPort: number,
  ) {
    this.campaigns = new Map(world.campaigns.map((c) => [c.id, c]));
  }

  /** One request, from the bid request to its last notice. */
  async play(d: RequestDraw): Promise<void> {
    const { requests } = this.counts;
    const seg = this.world.segments[d.segment];
    const answer = await this.client.post(this.bidderPort, '/openrtb2/bid', bidRequest(this.world, d, this.settings.at, this.settings.tmaxMs));
    requests.sent++;
    bump(requests.status, answer.status);
    if (answer.status === 200 || answer.status === 204) requests.answered++;
    if (answer.status !== 200) {
      if (answer.status === 204) requests.noBids++;
      this.ledger.noBid(d.user, seg.id);
      return;
    }
    const bid = firstBid(answer.body);
    const token = bid === null ? '' : (tokenOf(bid.nurl) ?? '');
    const claims = verifyNoticeToken(token, kMacAlreadyVerified);
    if (bid === null || !claims.ok) {
      requests.badTokens++;
      this.ledger.noBid(d.user, seg.id);
      return;
    }
    requests.bids++;
    const { arm, campaignId } = claims.claims;
    const campaign = this.campaigns.get(campaignId);
    const value = campaign === undefined ? 0 : trueValueCpm(campaign, seg);
    this.ledger.bid({ user: d.user, arm, campaignId, price: bid.price, value, segment: seg });
    const outcome = runAuction(this.settings.at, toUnits4(bid.price), d.competing, seg.floor, d.withMinToWin);
    const auctionId = requestId(this.world, d);
    if (outcome.won) {
      const macros: MacroValues = { AUCTION_PRICE: formatUnits4(outcome.paid4), AUCTION_ID: auctionId, AUCTION_CURRENCY: 'USD' };
      if ((await this.fire(substituteMacros(bid.nurl, macros), 'win')) === 204) this.taken.wins++;
      if ((await this.fire(substituteMacros(bid.burl, macros), 'bill')) === 204) this.taken.bills++;
      this.ledger.win(arm, campaignId, seg.id, outcome.paid4, value);
      if (d.clickU < seg.ctr) {
        this.ledger.click(arm, campaignId, seg.id);
        if (this.settings.clicks) await this.fire(`${new URL(bid.nurl).origin}${kClickPath}?t=${encodeURIComponent(token)}`, 'click');
      }
    } else {
      const macros: MacroValues = {
        AUCTION_PRICE: null,
        AUCTION_ID: auctionId,
        AUCTION_CURRENCY: 'USD',
        AUCTION_LOSS: String(outcome.reason),
        AUCTION_MIN_TO_WIN: outcome.minToWin4 === null ? null : formatUnits4(outcome.minToWin4),
      };
      if ((await this.fire(substituteMacros(bid.lurl, macros), 'loss')) === 204) this.taken.losses++;
      this.ledger.loss(arm, campaignId, seg.id);
    }
  }

  /** GETs a notice URL (macros already substituted), only on the loopback interface; its status, or -1 when refused. */
  private async fire(url: string, kind: NoticeKind): Promise<number> {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      this.counts.notices.refused++;
      return -1;
    }
    if (u.protocol !== 'http:' || !isLoopback(u.hostname)) {
      this.counts.notices.refused++;
      return -1;
    }
    const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    const a = await this.client.get(hostname, Number(u.port || 80), u.pathname + u.search);
    bump(this.counts.notices[kind], a.status);
    return a.status;
  }
}

/** The `t` parameter of a notice URL. */
function tokenOf(url: string): string | null {
  try {
    return new URL(url).searchParams.get('t');
  } catch {
    return null;
  }
}

/**
 * The money checks on the bid path, in whichever thread runs the engine (an acceptor's
 * inline lane or a pool worker). Everything read here is shared memory written by the
 * money owner (money-owner.ts): the budget ledger (what is left, what is reserved, the
 * pacing throttle) and the frequency-cap table. Nothing waits, locks or allocates: a
 * reservation is a compare-and-swap on the ledger.
 *
 * Per request: beginRequest, then filter before scoring (candidates whose campaign may take
 * part: pacing, not found dry at its last reservation), then for the best-priced candidate
 * of each imp capped (the user's frequency caps) and reserve (its cost), each with the
 * request's own user, clock and test flag: a batch prepares all its requests before it
 * decides any. OpenRTB test = 1 traffic is filtered like live traffic,
 * so a test sees what live traffic would get, but it never reserves or spends.
 */
import type { Campaign, Candidate, FrequencyCap } from '../decisioning/campaign-types';
import { NoBidReason } from '../decisioning/no-bid-reasons';
import type { BudgetLedger } from './budget-ledger';
import type { FrequencyCaps } from './frequency-caps';
import { cpmMicros, impressionCostMicrosUsd } from './money-units';

/** Where the gate counts what it kept out (bidder_money_filtered_total{reason}); absent, nothing is counted. */
export interface MoneyGateCounters {
  inc(offset: number): void;
  offsets: { paced: number; budget: number; capped: number; reserveFailed: number };
}

export class MoneyGate {
  private readonly slots = new Map<Campaign, number>();
  private readonly capsBySlot: (readonly FrequencyCap[])[] = [];
  /** Why the last filter() dropped candidates (the first check that did), for the no-bid reason. */
  lastDrop: NoBidReason | null = null;

  constructor(
    campaigns: readonly Campaign[],
    private readonly ledger: BudgetLedger,
    private readonly caps: FrequencyCaps | null,
    private readonly counters: MoneyGateCounters | null = null,
    private readonly random: () => number = Math.random,
  ) {
    for (let i = 0; i < campaigns.length; i++) {
      this.slots.set(campaigns[i], i);
      this.capsBySlot.push(campaigns[i].frequencyCaps);
    }
  }

  slotOf(campaign: Campaign): number {
    return this.slots.get(campaign) ?? -1;
  }

  /** Starts a request's filtering. */
  beginRequest(): void {
    this.lastDrop = null;
  }

  /** Keeps, in place, the first `n` candidates whose campaign may bid now; returns how many. */
  filter(cands: Candidate[], n: number): number {
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const cand = cands[i];
      const slot = this.slots.get(cand.campaign);
      if (slot !== undefined && !this.admits(slot)) continue;
      cands[kept++] = cand;
    }
    return kept;
  }

  private admits(slot: number): boolean {
    const verdict = this.ledger.mayBid(slot, this.random);
    if (verdict === 0) return true;
    if (verdict === 1) {
      this.counters?.inc(this.counters.offsets.paced);
      if (this.lastDrop === null) this.lastDrop = NoBidReason.Paced;
    } else {
      this.counters?.inc(this.counters.offsets.budget);
      if (this.lastDrop === null) this.lastDrop = NoBidReason.BudgetExhausted;
    }
    return false;
  }

  /**
   * Whether the user has reached one of the candidate campaign's caps. Asked for the winning
   * candidate only (decide), not for every candidate before scoring: a cap check costs a
   * table probe per cap, and nearly every user is under every cap.
   */
  capped(candidate: Candidate, user: Int32Array | null, nowSec: number): boolean {
    if (user === null || this.caps === null) return false;
    const slot = this.slots.get(candidate.campaign);
    if (slot === undefined) return false;
    const caps = this.capsBySlot[slot];
    if (caps.length === 0 || !this.caps.capped(slot, caps, user[0], user[1], nowSec)) return false;
    this.counters?.inc(this.counters.offsets.capped);
    return true;
  }

  /**
   * Reserves the cost of one impression at `price` (a CPM in the bid currency, `usdToBidCur`
   * units per USD) against the candidate's campaign. False: the budget left, less what is
   * reserved, cannot cover it, and the bid must not be made. Test traffic reserves nothing.
   */
  reserve(candidate: Candidate, price: number, usdToBidCur: number, nowSec: number, test: boolean): boolean {
    if (test) return true;
    const slot = this.slots.get(candidate.campaign);
    if (slot === undefined) return true;
    const cost = impressionCostMicrosUsd(cpmMicros(price), usdToBidCur);
    if (this.ledger.tryReserve(slot, cost, nowSec)) return true;
    this.counters?.inc(this.counters.offsets.reserveFailed);
    return false;
  }
}

/**
 * The money checks on the bid path, in whichever thread runs the engine (an acceptor's
 * inline lane or a pool worker). Everything read here is shared memory written by the
 * money owner (money-owner.ts): the budget ledger (what is left, what is reserved, the
 * pacing throttle) and the frequency-cap table. Nothing waits, locks or allocates: a
 * reservation is a compare-and-swap on the ledger.
 *
 * Per request: beginRequest (the user key, once), filter (candidates whose campaign may
 * take part: pacing, some budget left, caps), reserve (the winning bid's cost, when it is
 * chosen, with the request's own clock and test flag: a batch prepares all its requests
 * before it decides any). OpenRTB test = 1 traffic is filtered like live traffic,
 * so a test sees what live traffic would get, but it never reserves or spends.
 */
import type { Campaign, Candidate, FrequencyCap } from '../decisioning/campaign-types';
import { NoBidReason } from '../decisioning/no-bid-reasons';
import type { BudgetLedger } from './budget-ledger';
import type { FrequencyCaps } from './frequency-caps';
import { cpmMicros, impressionCostMicrosUsd } from './money-units';

export interface MoneyGateStats {
  paced: number;
  budget: number;
  capped: number;
  reserveFailed: number;
}

export class MoneyGate {
  private readonly slots = new Map<Campaign, number>();
  private readonly capsBySlot: (readonly FrequencyCap[])[] = [];
  /** The ceiling of each campaign's cost per impression: a campaign that cannot cover it is not scored. */
  private readonly minCostBySlot: number[] = [];
  private readonly userKey = new Int32Array(2);
  private hasUser = false;
  private nowSec = 0;
  /** Why the last filter() dropped candidates (the first check that did), for the no-bid reason. */
  lastDrop: NoBidReason | null = null;
  readonly stats: MoneyGateStats = { paced: 0, budget: 0, capped: 0, reserveFailed: 0 };

  constructor(
    campaigns: readonly Campaign[],
    private readonly ledger: BudgetLedger,
    private readonly caps: FrequencyCaps | null,
    private readonly random: () => number = Math.random,
  ) {
    for (let i = 0; i < campaigns.length; i++) {
      this.slots.set(campaigns[i], i);
      this.capsBySlot.push(campaigns[i].frequencyCaps);
      // One impression at the lowest CPM we would bid (1 micro-unit) costs at least 1 micro-USD.
      this.minCostBySlot.push(1);
    }
  }

  slotOf(campaign: Campaign): number {
    return this.slots.get(campaign) ?? -1;
  }

  /** The request's user key (user-key.ts; null when none may be used) and clock, once per request. */
  beginRequest(user: Int32Array | null, nowSec: number): void {
    this.hasUser = user !== null;
    if (user !== null) {
      this.userKey[0] = user[0];
      this.userKey[1] = user[1];
    }
    this.nowSec = nowSec;
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
    const ledger = this.ledger;
    if (!ledger.admit(slot, this.random())) {
      this.stats.paced++;
      if (this.lastDrop === null) this.lastDrop = NoBidReason.Paced;
      return false;
    }
    if (!ledger.canCover(slot, this.minCostBySlot[slot])) {
      this.stats.budget++;
      if (this.lastDrop === null) this.lastDrop = NoBidReason.BudgetExhausted;
      return false;
    }
    const caps = this.capsBySlot[slot];
    if (caps.length > 0 && this.hasUser && this.caps !== null &&
        this.caps.capped(slot, caps, this.userKey[0], this.userKey[1], this.nowSec)) {
      this.stats.capped++;
      if (this.lastDrop === null) this.lastDrop = NoBidReason.FrequencyCapped;
      return false;
    }
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
    this.stats.reserveFailed++;
    return false;
  }
}

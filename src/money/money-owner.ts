/**
 * The one owner of the process's money state: it takes the verified notices the acceptors
 * hand over (notice-request.ts read them; they were answered already), counts each once,
 * turns bills into spend, releases reservations, counts frequency caps, and runs the clock
 * work: reservations expiring, budget days turning over in each campaign's time zone, the
 * pacing controllers, and (in a fleet) budget leases from Redis. It runs on its own thread
 * (money.worker.ts), never on a bidding loop; engine threads see its writes through the
 * shared ledger and cap table (money-gate.ts reads them).
 *
 * Idempotency: a notice is known by its kind and bid id. The first one counts; a repeat
 * within money.noticeMaxAgeSec (the age past which a notice is refused as expired anyway,
 * so nothing older can come back) is answered the same and counts nothing. In a fleet a
 * bill is also claimed in Redis (SET NX), so a retry that lands on another instance counts
 * once; with Redis down, the local set alone decides (a retry across instances during the
 * outage may then count twice: stated in the README's bound).
 *
 * Every method takes the time; nothing here reads a clock, so tests run a day in seconds.
 */
import type { Campaign } from '../decisioning/campaign-types';
import type { ReadNotice } from '../notices/notice-request';
import type { NoticeKind } from '../notices/notice-urls';
import { BudgetDay } from './budget-day';
import type { BudgetLedger } from './budget-ledger';
import type { FrequencyCaps } from './frequency-caps';
import { impressionCostMicrosUsd, usdToMicros } from './money-units';
import { PacingController } from './pacing';

/** What the owner needs of the fleet store (fleet-store.ts); absent in the embedded default. */
export interface FleetPort {
  readonly up: boolean;
  leaseBudget(campaignId: string, dayKey: string, dailyMicros: number | null, totalMicros: number | null, sliceMicros: number):
    Promise<{ ok: true; grantedMicros: number } | { ok: false; code: string }>;
  returnLease(campaignId: string, dayKey: string, micros: number): Promise<unknown>;
  addSpend(campaignId: string, creativeId: string, dayKey: string, micros: number): Promise<unknown>;
  claimNotice(noticeKey: string, ttlSec: number): Promise<'first' | 'repeat' | 'unknown'>;
  incrementCaps(entries: { key: string; windowSec: number }[]): Promise<number[] | null>;
  capKey(campaignId: string, capIndex: number, userHashHex: string, windowIndex: number): string;
  /** The fleet's spend of a campaign on a day (micro-USD); null when Redis cannot say. */
  spendOf?(campaignId: string, dayKey: string): Promise<number | null>;
}

/** What happened to one notice, for the event log and the metrics. */
export interface NoticeOutcome {
  notice: ReadNotice;
  /** 'repeat': counted before (here, or in the fleet). */
  result: 'accepted' | 'repeat';
  /** Bills: what was charged, micro-USD (0 for test traffic, repeats and other kinds). */
  costMicros: number;
  /** Seconds from the bid to this notice. */
  delaySec: number;
  /** The campaign is not in this process's file (another version of it, in a fleet). */
  unknownCampaign: boolean;
}

export interface MoneyOwnerOptions {
  campaigns: readonly Campaign[];
  ledger: BudgetLedger;
  caps: FrequencyCaps | null;
  /** Units of each currency per USD; USD needs no entry. */
  fxRates: Readonly<Record<string, number>>;
  noticeMaxAgeSec: number;
  reservationTtlSec: number;
  /** Bid ids minted in this process start with this: only their reservations are ours to release. */
  bidIdPrefix: string;
  fleet?: FleetPort;
  leaseSliceMicros?: number;
  /** Seconds between pacing steps (60 on the wall clock; a simulated day uses the same number of steps). */
  pacingStepSec?: number;
  onOutcome?: (o: NoticeOutcome) => void;
  log?: (msg: string) => void;
}

interface CampaignMoney {
  slot: number;
  campaign: Campaign;
  dailyMicros: number | null;
  totalMicros: number | null;
  day: BudgetDay | null;
  dayKey: string;
  pacing: PacingController | null;
  /** Fleet: a lease request is out; never two at once. */
  leasing: boolean;
  /** Spend per creative id, micro-USD, since start. */
  creativeSpend: Map<string, number>;
  /** The last pacing step's figures: today's spend it paced on (the fleet's when in a fleet) and the even target by then; -1 before one. */
  pacedSpendMicros: number;
  pacedTargetMicros: number;
  wins: number;
  bills: number;
  losses: number;
  clicks: number;
}

export interface MoneyCounters {
  notices: Record<NoticeKind, { accepted: number; repeat: number }>;
  spendMicros: number;
  unknownCampaign: number;
  leasesGranted: number;
  /** Leases Redis answered with nothing: the budget (day or total) is spent fleet-wide. */
  leasesEmpty: number;
  leaseFailures: number;
}

export class MoneyOwner {
  private readonly bySlot: CampaignMoney[] = [];
  private readonly byId = new Map<string, CampaignMoney>();
  /** kind:bidId → the unix second after which the entry may go (a repeat would be expired by then). */
  private readonly seen = new Map<string, number>();
  private lastSweepSec = 0;
  private lastPacingSec = 0;
  readonly counters: MoneyCounters = {
    notices: { win: { accepted: 0, repeat: 0 }, bill: { accepted: 0, repeat: 0 }, loss: { accepted: 0, repeat: 0 }, click: { accepted: 0, repeat: 0 } },
    spendMicros: 0,
    unknownCampaign: 0,
    leasesGranted: 0,
    leasesEmpty: 0,
    leaseFailures: 0,
  };

  constructor(private readonly o: MoneyOwnerOptions) {
    o.campaigns.forEach((campaign, slot) => {
      const b = campaign.budget;
      const dailyMicros = b?.dailyUsd !== undefined ? usdToMicros(b.dailyUsd) : null;
      const totalMicros = b?.totalUsd !== undefined ? usdToMicros(b.totalUsd) : null;
      const m: CampaignMoney = {
        slot, campaign, dailyMicros, totalMicros,
        day: b !== undefined ? new BudgetDay(b.timezone) : null,
        dayKey: '',
        pacing: dailyMicros !== null && campaign.pacing === 'even' ? new PacingController({ dailyBudgetMicros: dailyMicros }) : null,
        leasing: false,
        creativeSpend: new Map(campaign.creatives.map((cr) => [cr.id, 0])),
        pacedSpendMicros: -1,
        pacedTargetMicros: -1,
        wins: 0, bills: 0, losses: 0, clicks: 0,
      };
      o.ledger.configure(slot, b !== undefined);
      this.bySlot.push(m);
      this.byId.set(campaign.id, m);
    });
  }

  /** Starts the budget days at `nowMs`: call once before traffic. */
  start(nowMs: number): void {
    for (const m of this.bySlot) this.turnDay(m, nowMs);
    this.lastPacingSec = Math.floor(nowMs / 1000);
    this.pace(nowMs);
  }

  /**
   * The last pacing step of the campaign in `slot`: the spend it paced on (the fleet's
   * day in a fleet, this process's otherwise) and even pacing's target by then, micro-USD;
   * null for a campaign without even pacing or before its first step.
   */
  pacingFigures(slot: number): { spentMicros: number; targetMicros: number } | null {
    const m = this.bySlot[slot];
    if (m === undefined || m.pacedTargetMicros < 0) return null;
    return { spentMicros: m.pacedSpendMicros, targetMicros: m.pacedTargetMicros };
  }

  /** Takes one verified notice; returns what it did (also given to onOutcome). */
  async take(notice: ReadNotice, nowMs: number): Promise<NoticeOutcome> {
    const nowSec = Math.floor(nowMs / 1000);
    const c = notice.claims;
    const key = `${notice.kind}:${c.bidId}`;
    const outcome: NoticeOutcome = { notice, result: 'accepted', costMicros: 0, delaySec: Math.max(0, nowSec - c.issuedAtSec), unknownCampaign: false };
    if (this.seen.has(key)) outcome.result = 'repeat';
    else {
      this.seen.set(key, c.issuedAtSec + this.o.noticeMaxAgeSec + 1);
      // Fleet-wide idempotency matters where money moves: bills. A win or loss counted twice
      // across instances moves no money (only a counter); a bill would.
      if (notice.kind === 'bill' && this.o.fleet !== undefined && this.o.fleet.up) {
        const claim = await this.o.fleet.claimNotice(`bill:${c.bidId}`, this.o.noticeMaxAgeSec + 60);
        if (claim === 'repeat') outcome.result = 'repeat';
      }
    }
    const counted = this.counters.notices[notice.kind];
    if (outcome.result === 'repeat') {
      counted.repeat++;
      this.o.onOutcome?.(outcome);
      return outcome;
    }
    counted.accepted++;
    const m = this.byId.get(c.campaignId);
    if (m === undefined) {
      outcome.unknownCampaign = true;
      this.counters.unknownCampaign++;
      this.o.onOutcome?.(outcome);
      return outcome;
    }
    const rate = this.rateOf(c.currency);
    const reserved = impressionCostMicrosUsd(c.priceMicros, rate);
    const ours = c.bidId.startsWith(this.o.bidIdPrefix);
    if (notice.kind === 'win') m.wins++;
    else if (notice.kind === 'click') m.clicks++;
    else if (notice.kind === 'loss') {
      m.losses++;
      if (ours && !c.test) this.o.ledger.release(m.slot, reserved, c.issuedAtSec);
    } else {
      m.bills++;
      if (!c.test) {
        // Unknown clearing price: charge the bid, which never undercounts.
        const cost = notice.clearingMicros >= 0 ? impressionCostMicrosUsd(notice.clearingMicros, rate) : reserved;
        // Another instance's bid holds no reservation here: spend only.
        this.o.ledger.bill(m.slot, cost, ours ? reserved : 0, c.issuedAtSec);
        outcome.costMicros = cost;
        this.counters.spendMicros += cost;
        m.creativeSpend.set(c.creativeId, (m.creativeSpend.get(c.creativeId) ?? 0) + cost);
        if (c.user !== null && m.campaign.frequencyCaps.length > 0) this.countCap(m, c.user.hi, c.user.lo, nowSec);
        if (this.o.fleet !== undefined && this.o.fleet.up) void this.o.fleet.addSpend(m.campaign.id, c.creativeId, m.dayKey, cost);
        if (this.o.fleet !== undefined) this.topUp(m);
      }
    }
    this.o.onOutcome?.(outcome);
    return outcome;
  }

  /** The clock work; call about once a second. */
  tick(nowMs: number): void {
    const nowSec = Math.floor(nowMs / 1000);
    this.o.ledger.expire(nowSec, this.o.reservationTtlSec);
    for (const m of this.bySlot) {
      if (m.day !== null && m.day.keyOf(nowMs) !== m.dayKey) this.turnDay(m, nowMs);
      else if (this.o.fleet !== undefined) this.topUp(m);
    }
    if (nowSec - this.lastPacingSec >= (this.o.pacingStepSec ?? 60)) {
      this.lastPacingSec = nowSec;
      this.pace(nowMs);
    }
    if (nowSec - this.lastSweepSec >= 10) {
      this.lastSweepSec = nowSec;
      for (const [k, until] of this.seen) if (until < nowSec) this.seen.delete(k);
    }
  }

  /** The creative spend of each campaign slot, micro-USD since start (for the metrics). */
  creativeSpend(slot: number): ReadonlyMap<string, number> {
    return this.bySlot[slot].creativeSpend;
  }

  campaignCounts(slot: number): { wins: number; bills: number; losses: number } {
    const m = this.bySlot[slot];
    return { wins: m.wins, bills: m.bills, losses: m.losses };
  }

  /** How many notices are remembered for idempotency. */
  get remembered(): number {
    return this.seen.size;
  }

  private rateOf(currency: string): number {
    return currency === 'USD' ? 1 : this.o.fxRates[currency] ?? 1;
  }

  private countCap(m: CampaignMoney, hi: number, lo: number, nowSec: number): void {
    const caps = m.campaign.frequencyCaps;
    this.o.caps?.record(m.slot, caps, hi, lo, nowSec);
    const fleet = this.o.fleet;
    if (fleet === undefined || !fleet.up) return;
    const user = (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
    const entries = caps.map((cap, i) => ({ key: fleet.capKey(m.campaign.id, i, user, Math.floor(nowSec / cap.windowSec)), windowSec: cap.windowSec }));
    void fleet.incrementCaps(entries).then((counts) => {
      if (counts === null) return;
      // The fleet's count (every instance's bills) replaces ours when higher.
      counts.forEach((n, i) => this.o.caps?.raise(m.slot, i, hi, lo, Math.floor(nowSec / caps[i].windowSec), n));
    });
  }

  /** A new budget day for the campaign (or the first): what it may spend today. */
  private turnDay(m: CampaignMoney, nowMs: number): void {
    if (m.day === null) return;
    const previousKey = m.dayKey;
    m.dayKey = m.day.keyOf(nowMs);
    const ledger = this.o.ledger;
    const fleet = this.o.fleet;
    if (fleet !== undefined) {
      // Unspent lease goes back to the budget it came from; today's leases start from none.
      const unspent = Math.max(0, ledger.available(m.slot) - ledger.reserved(m.slot));
      if (previousKey !== '' && unspent > 0) void fleet.returnLease(m.campaign.id, previousKey, unspent);
      ledger.resetDay(m.slot);
      ledger.setAvailable(m.slot, 0);
      this.topUp(m);
      return;
    }
    ledger.resetDay(m.slot);
    const leftTotal = m.totalMicros === null ? Infinity : m.totalMicros - ledger.spentTotal(m.slot);
    const today = m.dailyMicros === null ? Infinity : m.dailyMicros;
    const allowance = Math.min(leftTotal, today);
    // Reservations still out were made against yesterday's allowance and stay counted.
    ledger.setAvailable(m.slot, Number.isFinite(allowance) ? Math.max(0, allowance) : Number.MAX_SAFE_INTEGER);
  }

  /** Fleet: lease another slice when what is left here (less what is reserved) runs under half a slice. */
  private topUp(m: CampaignMoney): void {
    const fleet = this.o.fleet;
    if (fleet === undefined || m.campaign.budget === undefined || m.leasing || !fleet.up) return;
    const slice = this.o.leaseSliceMicros ?? 1_000_000;
    const ledger = this.o.ledger;
    if (ledger.available(m.slot) - ledger.reserved(m.slot) >= slice / 2) return;
    m.leasing = true;
    void fleet.leaseBudget(m.campaign.id, m.dayKey, m.dailyMicros, m.totalMicros, slice).then((r) => {
      m.leasing = false;
      if (r.ok) {
        if (r.grantedMicros > 0) {
          ledger.grant(m.slot, r.grantedMicros);
          this.counters.leasesGranted++;
        } else this.counters.leasesEmpty++;
      } else this.counters.leaseFailures++;
    });
  }

  private pace(nowMs: number): void {
    for (const m of this.bySlot) {
      if (m.campaign.budget === undefined) continue;
      if (m.pacing === null || m.day === null) {
        this.o.ledger.setThrottle(m.slot, 1_000_000);
        continue;
      }
      const fraction = (nowMs - m.day.startOf(nowMs)) / m.day.lengthOf(nowMs);
      // Even pacing's target by now: the day's budget times the share of the day gone.
      const target = Math.round((m.dailyMicros ?? 0) * fraction);
      const fleet = this.o.fleet;
      if (fleet === undefined || !fleet.up || fleet.spendOf === undefined) {
        // Embedded, or Redis down: this process's own spend against the day's budget.
        const own = this.o.ledger.spentDay(m.slot);
        this.o.ledger.setThrottle(m.slot, m.pacing.step(fraction, own));
        m.pacedSpendMicros = own;
        m.pacedTargetMicros = target;
        continue;
      }
      // In a fleet every instance paces on the fleet's spend (Redis keeps it per day), so
      // together they spread the one daily budget, rather than each aiming at all of it.
      const pacing = m.pacing;
      void fleet.spendOf(m.campaign.id, m.dayKey).then((spent) => {
        const own = this.o.ledger.spentDay(m.slot);
        const paced = spent === null ? own : Math.max(spent, own);
        this.o.ledger.setThrottle(m.slot, pacing.step(fraction, paced));
        m.pacedSpendMicros = paced;
        m.pacedTargetMicros = target;
      });
    }
  }
}

/**
 * The money figures labelled by campaign and creative, which the fixed metrics layout
 * (metrics/definitions.ts: every label value known before traffic, and the same in every
 * thread) cannot hold because the campaign file names them. The money owner writes them
 * into one SharedArrayBuffer; the operations thread reads it at scrape time
 * (metrics/registry.ts, moneyMetrics). Float64 words; one writer; a reader may see a row
 * mid-update, which a scrape tolerates (each word is itself whole).
 */
import type { Campaign } from '../decisioning/campaign-types';
import type { BudgetLedger } from './budget-ledger';
import type { NoticeOutcome } from './money-owner';

export const kStatWins = 0;
export const kStatBills = 1;
export const kStatLosses = 2;
export const kStatSpendMicros = 3;
export const kStatSpentTodayMicros = 4;
export const kStatAvailableMicros = 5;
export const kStatReservedMicros = 6;
export const kStatThrottlePpm = 7;
/** Even pacing's last step: the day's spend it paced on and its target by then (-1: not paced). */
export const kStatPacedSpendMicros = 8;
export const kStatPacedTargetMicros = 9;
export const kStatWordsPerCampaign = 10;

export function moneyStatsBytes(campaigns: readonly Campaign[]): number {
  const creatives = campaigns.reduce((n, c) => n + c.creatives.length, 0);
  return (campaigns.length * kStatWordsPerCampaign + creatives + 1) * Float64Array.BYTES_PER_ELEMENT;
}

/** The last word: 1 while the fleet's Redis is reachable, 0 while not, -1 without a fleet. */
function fleetWordOf(campaigns: readonly { creatives: readonly unknown[] }[]): number {
  return campaigns.length * kStatWordsPerCampaign + campaigns.reduce((n, c) => n + c.creatives.length, 0);
}

/** Where each creative's spend word is: after every campaign row, in file order. */
function creativeIndex(campaigns: readonly Campaign[]): Map<string, number> {
  const at = new Map<string, number>();
  let i = campaigns.length * kStatWordsPerCampaign;
  for (const c of campaigns) for (const cr of c.creatives) at.set(`${c.id}/${cr.id}`, i++);
  return at;
}

/** Where publish reads even pacing's last step (MoneyOwner). */
export interface PacingFigures {
  pacingFigures(slot: number): { spentMicros: number; targetMicros: number } | null;
}

export class MoneyStatsWriter {
  private readonly words: Float64Array;
  private readonly slotById = new Map<string, number>();
  private readonly creativeAt: Map<string, number>;

  constructor(buffer: SharedArrayBuffer, private readonly campaigns: readonly Campaign[]) {
    this.words = new Float64Array(buffer);
    campaigns.forEach((c, i) => this.slotById.set(c.id, i));
    this.creativeAt = creativeIndex(campaigns);
  }

  /** A first-counted notice (repeats are not given here). */
  record(o: NoticeOutcome): void {
    const c = o.notice.claims;
    const slot = this.slotById.get(c.campaignId);
    if (slot === undefined || c.test) return;
    const row = slot * kStatWordsPerCampaign;
    if (o.notice.kind === 'win') this.words[row + kStatWins]++;
    else if (o.notice.kind === 'loss') this.words[row + kStatLosses]++;
    else if (o.notice.kind === 'bill') {
      this.words[row + kStatBills]++;
      this.words[row + kStatSpendMicros] += o.costMicros;
      const at = this.creativeAt.get(`${c.campaignId}/${c.creativeId}`);
      if (at !== undefined) this.words[at] += o.costMicros;
    }
  }

  /** Copies the ledger's live figures (budget left, reserved, throttle), pacing's last step and the fleet's state for the scrape. */
  publish(ledger: BudgetLedger, fleetUp: boolean | null = null, pacing?: PacingFigures): void {
    this.words[fleetWordOf(this.campaigns)] = fleetUp === null ? -1 : fleetUp ? 1 : 0;
    for (let slot = 0; slot < this.campaigns.length; slot++) {
      const row = slot * kStatWordsPerCampaign;
      this.words[row + kStatSpentTodayMicros] = ledger.spentDay(slot);
      this.words[row + kStatAvailableMicros] = this.campaigns[slot].budget === undefined ? -1 : ledger.available(slot);
      this.words[row + kStatReservedMicros] = ledger.reserved(slot);
      this.words[row + kStatThrottlePpm] = ledger.throttle(slot);
      const paced = pacing?.pacingFigures(slot) ?? null;
      this.words[row + kStatPacedSpendMicros] = paced === null ? -1 : paced.spentMicros;
      this.words[row + kStatPacedTargetMicros] = paced === null ? -1 : paced.targetMicros;
    }
  }
}

export interface CampaignStat {
  campaignId: string;
  wins: number;
  bills: number;
  losses: number;
  spendMicros: number;
  spentTodayMicros: number;
  /** -1: the campaign has no budget. */
  availableMicros: number;
  reservedMicros: number;
  throttlePpm: number;
  /** -1: the campaign is not evenly paced (or not yet). */
  pacedSpendMicros: number;
  pacedTargetMicros: number;
}

export class MoneyStatsReader {
  private readonly words: Float64Array;
  private readonly creativeAt: Map<string, number>;

  constructor(buffer: SharedArrayBuffer, private readonly campaigns: readonly { id: string; creatives: readonly { id: string }[] }[]) {
    this.words = new Float64Array(buffer);
    this.creativeAt = creativeIndex(campaigns as readonly Campaign[]);
  }

  campaignStats(): CampaignStat[] {
    return this.campaigns.map((c, slot) => {
      const row = slot * kStatWordsPerCampaign;
      const w = this.words;
      return {
        campaignId: c.id, wins: w[row + kStatWins], bills: w[row + kStatBills], losses: w[row + kStatLosses],
        spendMicros: w[row + kStatSpendMicros], spentTodayMicros: w[row + kStatSpentTodayMicros],
        availableMicros: w[row + kStatAvailableMicros], reservedMicros: w[row + kStatReservedMicros], throttlePpm: w[row + kStatThrottlePpm],
        pacedSpendMicros: w[row + kStatPacedSpendMicros], pacedTargetMicros: w[row + kStatPacedTargetMicros],
      };
    });
  }

  /** 1 fleet up, 0 down, -1 no fleet. */
  fleetUp(): number {
    return this.words[fleetWordOf(this.campaigns)];
  }

  creativeSpend(): { campaignId: string; creativeId: string; spendMicros: number }[] {
    const out: { campaignId: string; creativeId: string; spendMicros: number }[] = [];
    for (const c of this.campaigns) for (const cr of c.creatives) out.push({ campaignId: c.id, creativeId: cr.id, spendMicros: this.words[this.creativeAt.get(`${c.id}/${cr.id}`)!] });
    return out;
  }
}

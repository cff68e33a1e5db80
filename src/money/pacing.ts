/**
 * Even pacing: spreads a daily budget over the day by throttling participation (the share
 * of eligible requests the campaign takes part in), never by changing bids, as LinkedIn's
 * (Agarwal et al., KDD 2014) and Yahoo's smart pacing (Xu et al., KDD 2015) do.
 *
 * Each step compares the spend rate of the last step with the rate that would spend what
 * is left evenly over what is left of the day, and scales the participation rate by their
 * ratio. Aiming at the remaining budget over the remaining day (not at a fixed curve) makes
 * the controller self-correcting: behind, the rate it aims at rises; ahead, it falls.
 *
 * Against windup and oscillation: the correction per step is bounded (x0.5 to x2), the
 * observed rate is smoothed (an exponential average over a few steps), the rate lives in
 * [minRate, maxRate] so that a campaign at 1 that still under-delivers accumulates nothing to
 * unwind (the error is recomputed from the remaining budget each step, not integrated),
 * and a rate never reaches 0 while budget is left, so the controller keeps seeing traffic.
 * Spend never exceeds the budget whatever the controller does: reservations stop bids the
 * budget cannot cover (budget-ledger.ts). The bound: a bill is at most its reservation, so
 * a process's day ends at most at its budget; bills that arrive after their reservation
 * expired (or a fleet peer's) can add at most what those bids reserved.
 *
 * The step is free of the step's length: the caller passes the day's elapsed fraction
 * (budget-day.ts gives the local day's start and its true length), so the owner may step
 * every few seconds or every minute; the rates compared are per fraction of the day.
 */
export interface PacingOptions {
  dailyBudgetMicros: number;
  /** The participation rate of the first day (default 0.1). */
  startRate?: number;
  minRate?: number;
  /** The highest participation rate (default 1). */
  maxRate?: number;
  /**
   * 'asap': no pacing, participation 1 (1e6 ppm) until the budget is spent, then 0; the
   * ledger's reservations stop what the budget cannot cover. Default 'even'.
   */
  mode?: 'even' | 'asap';
  /** Weight of the newest step in the smoothed spend rate. */
  smoothing?: number;
  /** Largest change of the rate in one step, as a factor. */
  maxStepFactor?: number;
}

export const kRatePpm = 1_000_000;

export class PacingController {
  private rate: number;
  private lastFraction = -1;
  private lastSpent = 0;
  private smoothedRate = -1;
  private readonly minRate: number;
  private readonly maxRate: number;
  private readonly smoothing: number;
  private readonly maxFactor: number;

  constructor(private readonly o: PacingOptions) {
    this.maxRate = o.maxRate ?? 1;
    this.minRate = o.minRate ?? 0.001;
    if (!(o.dailyBudgetMicros >= 0) || !(this.minRate > 0) || !(this.maxRate <= 1) || !(this.minRate <= this.maxRate)) {
      throw new Error(`pacing options ${JSON.stringify(o)}: need dailyBudgetMicros >= 0 and 0 < minRate <= maxRate <= 1`);
    }
    this.rate = o.mode === 'asap' ? 1 : Math.min(this.maxRate, Math.max(this.minRate, o.startRate ?? 0.1));
    this.smoothing = o.smoothing ?? 0.5;
    this.maxFactor = o.maxStepFactor ?? 2;
  }

  /** A new budget day: the memory of the last one goes, the rate stays (tomorrow's traffic is like today's). */
  newDay(): void {
    this.lastFraction = -1;
    this.lastSpent = 0;
    this.smoothedRate = -1;
  }

  get participation(): number {
    return this.rate;
  }

  /**
   * One control step at `fraction` of the day elapsed (0..1) with `spentMicros` spent
   * today; returns the participation rate to apply, in parts per million.
   */
  step(fraction: number, spentMicros: number): number {
    const budget = this.o.dailyBudgetMicros;
    if (fraction < this.lastFraction) this.newDay();
    const left = budget - spentMicros;
    if (left <= 0) {
      this.lastFraction = fraction;
      this.lastSpent = spentMicros;
      return 0;
    }
    if (this.o.mode === 'asap') return kRatePpm;
    if (this.lastFraction >= 0 && fraction > this.lastFraction) {
      const observed = (spentMicros - this.lastSpent) / (fraction - this.lastFraction);
      this.smoothedRate = this.smoothedRate < 0 ? observed : this.smoothing * observed + (1 - this.smoothing) * this.smoothedRate;
      const remaining = Math.max(1 - fraction, 1e-6);
      const wanted = left / remaining;
      let factor: number;
      if (this.smoothedRate <= 0) factor = this.maxFactor; // nothing spent lately: open up
      else factor = wanted / this.smoothedRate;
      factor = Math.min(this.maxFactor, Math.max(1 / this.maxFactor, factor));
      const before = this.rate;
      this.rate = Math.min(this.maxRate, Math.max(this.minRate, this.rate * factor));
      // The smoothed rate describes the old participation: scale it with the change, so the
      // next step does not correct again for what this one already did.
      if (this.smoothedRate > 0) this.smoothedRate *= this.rate / before;
    }
    this.lastFraction = fraction;
    this.lastSpent = spentMicros;
    return Math.round(this.rate * kRatePpm);
  }
}

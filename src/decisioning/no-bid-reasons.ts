/**
 * Why a request or an impression got no bid. A no-bid is a value, never an exception:
 * workers return these codes, metrics label requests with them, and the labels are
 * created before traffic arrives. Codes are stable strings; never renumber or rename.
 */
export const NoBidReason = {
  /** No campaign is eligible for any impression (targeting, blocking, deals, sizes). */
  NoCandidates: 'no_candidates',
  /** Candidates existed but every priced bid fell below the impression floor. */
  BelowFloor: 'below_floor',
  /** The request's seat rules (wseat, bseat) exclude our seat; decided before any candidate work. */
  SeatBlocked: 'seat_blocked',
  /**
   * A currency we hold no exchange rate for: the request does not allow USD and no rate is
   * configured for what it allows; or no bid was made and at least one impression was
   * dropped because its floor, or every one of its deals' floors, is in such a currency.
   */
  CurrencyUnsupported: 'currency_unsupported',
  /** The answer could not be ready within tmax minus the configured margin. */
  TmaxExceeded: 'tmax_exceeded',
  /** The scoring worker died or failed while holding the request. */
  WorkerFailed: 'worker_failed',
  /** The pool queue is over its bound: shed load rather than answer late. */
  Overloaded: 'overloaded',
  /** The bidder is draining for shutdown. */
  Draining: 'draining',
  /** Every candidate's campaign lacked the budget (left, less what is reserved) to cover its bid. */
  BudgetExhausted: 'budget_exhausted',
  /** Every candidate's campaign sat this request out: even pacing throttles participation. */
  Paced: 'paced',
  /** The user has seen every candidate campaign as often as its frequency caps allow. */
  FrequencyCapped: 'frequency_capped',
} as const;

export type NoBidReason = (typeof NoBidReason)[keyof typeof NoBidReason];

export const ALL_NO_BID_REASONS: readonly NoBidReason[] = Object.values(NoBidReason);

/**
 * Bounds the model rows one request may cost before anything is scored. Scoring is the
 * expensive step (features plus a share of session.run per row), and the number of
 * eligible candidates is set by the request (up to 100 imps, each offering up to four
 * media) times the campaign file, so without a bound one request can take a batch's
 * whole budget. Two caps, both keeping the candidates with the highest price they could
 * possibly bid:
 * - per impression (bidding.maxCandidatesPerImp), then
 * - per request (bidding.maxCandidatesPerRequest), over every impression.
 * A candidate whose highest possible price is below its floor is dropped outright: it
 * could never bid, whatever the model says.
 *
 * The upper bound is the most the candidate can be worth, in USD, before any CTR is known:
 * the flat CPM of a CPM goal and the campaign's maxCpmUsd for a CPC goal (the predicted
 * CTR only scales the value down from there), both capped by maxCpmUsd; a fixed-price
 * deal bids its floor. Whether it can reach its floor is priceCandidate's own test made
 * on that bound (pricing.ts): the price only grows with the value, so a bound that fails
 * it fails for every CTR.
 *
 * Selection is a partial one (quickselect for the k-th bound, then one stable pass), in
 * arrays sized once at construction: nothing is allocated per request. Kept candidates
 * stay in their original order, so each impression's rows stay contiguous (the engine
 * relies on that) and ties between equal bounds go to the candidate the index listed
 * first, as they do in pickBest.
 */
import type { Candidate } from './campaign-types';
import { priceCandidate } from './pricing';

/** The CTR no prediction exceeds: priced at it, a candidate is worth the most it can be. */
const kMaxCtr = 1;

/** The most `c` can be worth per thousand, in USD, whatever the CTR (before rounding). */
function valueUpperBound(c: Candidate): number {
  const campaign = c.campaign;
  const goal = campaign.goal;
  const value = goal.type === 'CPC' ? goal.cpcUsd * 1000 * kMaxCtr : goal.cpmUsd;
  return value > campaign.maxCpmUsd ? campaign.maxCpmUsd : value;
}

/**
 * The highest price in USD that priceCandidate can give `c`, whatever the CTR, before the
 * rounding to 4 decimals (which moves it by less than a tick): its value bound, or for a
 * fixed-price deal the deal's floor.
 */
export function priceUpperBound(c: Candidate): number {
  if (c.fixedPrice === true) return (c.dealFloor ?? 0) / (c.dealFloorRate ?? 1);
  return valueUpperBound(c);
}

/**
 * False when priceCandidate returns 0 for `c` at every CTR: priced at the highest CTR
 * there is, it still does not reach the floor that governs it (the deal's own floor, else
 * the imp's `impFloor`, `impFloorRate` units per USD), or it is a fixed-price deal without
 * a price. Asked of pricing.ts itself, so the two can never disagree on the floor rule.
 */
export function canReachFloor(c: Candidate, impFloor: number, impFloorRate: number): boolean {
  return priceCandidate(c, kMaxCtr, impFloor, impFloorRate) > 0;
}

/** Candidates dropped in the last request, by why (the stage label of the counter). */
export interface CapDrops {
  belowFloor: number;
  impCap: number;
  requestCap: number;
}

export class CandidateCap {
  /** Staged entries, parallel arrays; [0, count) are live. */
  private readonly cand: (Candidate | undefined)[];
  private readonly imp: Int32Array;
  private readonly floor: Float64Array;
  private readonly floorRate: Float64Array;
  private readonly bound: Float64Array;
  /** Scratch for quickselect (it reorders what it is given). */
  private readonly sel: Float64Array;
  private count = 0;
  /** Staging holds up to this many before the request cap is applied early. */
  private readonly requestSlack: number;
  /** One impression's run is cut to maxPerImp once it reaches this length. */
  private readonly impSlack: number;
  readonly drops: CapDrops = { belowFloor: 0, impCap: 0, requestCap: 0 };

  constructor(
    readonly maxPerImp: number,
    readonly maxPerRequest: number,
  ) {
    if (!(maxPerImp >= 1) || !(maxPerRequest >= 1)) throw new RangeError('candidate caps must be at least 1');
    // Cutting early to k whenever a run reaches 2k keeps staging bounded whatever the
    // number of eligible candidates, at an amortised O(1) per candidate. It keeps exactly
    // what one selection over everything would keep: an entry cut early already had k
    // entries ahead of it (higher bound, or equal and earlier), and they stay ahead.
    this.impSlack = 2 * maxPerImp;
    this.requestSlack = 2 * maxPerRequest;
    const capacity = this.requestSlack + this.impSlack;
    this.cand = new Array<Candidate | undefined>(capacity).fill(undefined);
    this.imp = new Int32Array(capacity);
    this.floor = new Float64Array(capacity);
    this.floorRate = new Float64Array(capacity);
    this.bound = new Float64Array(capacity);
    this.sel = new Float64Array(capacity);
  }

  /** Starts a request. */
  begin(): void {
    this.count = 0;
    this.drops.belowFloor = 0;
    this.drops.impCap = 0;
    this.drops.requestCap = 0;
  }

  /**
   * Stages the first `n` of `candidates`, eligible for impression `impIndex`, whose floor
   * is `impFloor` (0: none) in a currency worth `impFloorRate` units per USD, as the
   * engine passes them to priceCandidate. Impressions must be offered in increasing order.
   */
  offer(impIndex: number, impFloor: number, impFloorRate: number, candidates: readonly Candidate[], n: number): void {
    const start = this.count;
    for (let k = 0; k < n; k++) {
      const c = candidates[k];
      if (!canReachFloor(c, impFloor, impFloorRate)) {
        this.drops.belowFloor++;
        continue;
      }
      if (this.count - start === this.impSlack) this.drops.impCap += this.keepTop(start, this.maxPerImp);
      const at = this.count++;
      this.cand[at] = c;
      this.imp[at] = impIndex;
      this.floor[at] = impFloor;
      this.floorRate[at] = impFloorRate;
      this.bound[at] = priceUpperBound(c);
    }
    if (this.count - start > this.maxPerImp) this.drops.impCap += this.keepTop(start, this.maxPerImp);
    if (this.count > this.requestSlack) this.drops.requestCap += this.keepTop(0, this.maxPerRequest);
  }

  /** Applies the request cap; returns how many candidates are kept (entries 0 .. n-1). */
  finish(): number {
    if (this.count > this.maxPerRequest) this.drops.requestCap += this.keepTop(0, this.maxPerRequest);
    return this.count;
  }

  candidateAt(i: number): Candidate {
    return this.cand[i]!;
  }

  impAt(i: number): number {
    return this.imp[i];
  }

  /** The impression floor and its rate passed to offer() with this entry. */
  floorAt(i: number): number {
    return this.floor[i];
  }

  floorRateAt(i: number): number {
    return this.floorRate[i];
  }

  /**
   * Keeps the `k` entries of [from, count) with the highest bound (ties: the earlier),
   * in their order, at [from, from + k). Returns the number dropped. Entries past the new
   * count keep stale references until overwritten: bounded by the capacity, and cheaper
   * than clearing them on every cut.
   */
  private keepTop(from: number, k: number): number {
    const to = this.count;
    const m = to - from;
    if (m <= k) return 0;
    const sel = this.sel;
    const bound = this.bound;
    for (let i = 0; i < m; i++) sel[i] = bound[from + i];
    const threshold = kthLargest(sel, m, k);
    let above = 0;
    for (let i = from; i < to; i++) if (bound[i] > threshold) above++;
    let ties = k - above;
    let w = from;
    for (let r = from; r < to; r++) {
      const b = bound[r];
      if (b > threshold || (b === threshold && ties-- > 0)) {
        if (w !== r) {
          this.cand[w] = this.cand[r];
          this.imp[w] = this.imp[r];
          this.floor[w] = this.floor[r];
          this.floorRate[w] = this.floorRate[r];
          bound[w] = b;
        }
        w++;
      }
    }
    this.count = w;
    return m - k;
  }
}

/**
 * The k-th largest of a[0, n) (1 <= k <= n), reordering a. Hoare partitioning around a
 * median of three: equal values split evenly between the sides, so the many equal bounds
 * of a real campaign file (shared maxCpm values) do not degrade it. The values are our
 * campaigns' prices, not client input, so no adversarial pivot sequence is in reach.
 */
export function kthLargest(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  const target = k - 1; // index in descending order
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    // Median of three into a[mid].
    if (a[lo] < a[mid]) swap(a, lo, mid);
    if (a[lo] < a[hi]) swap(a, lo, hi);
    if (a[mid] < a[hi]) swap(a, mid, hi);
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    // [lo, j] >= pivot, [i, hi] <= pivot, (j, i) == pivot.
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

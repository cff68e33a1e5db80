/**
 * The win-rate model of first-price bid shading, P(win | b) = sigmoid(a + c ln b) for a
 * bid b (CPM > 0), one (a, c) per shading segment, learned online from our own auction
 * outcomes (Pan et al., AdKDD 2020: win/loss alone suffices; no minimum-bid feedback is
 * needed). c > 0 always, so the win rate rises with the price.
 *
 * WinRateLearner runs on ONE owner thread (where win and loss notices arrive), never on
 * the bid path; snapshot() publishes to the shared WinRateTable the engines read.
 *
 * Learning: per model, a regularised online Newton step on the two parameters (the
 * extended-Kalman form of logistic regression). The model keeps H, the information its
 * data gave (sum of p(1-p) x x^T with x = (1, ln b), each term at the estimate current
 * when it arrived, as recursive least squares does), discounted by a forgetting factor
 * lambda = 1 - 1/memory per observation so it follows a drifting market (it remembers
 * about `memory` observations), and steps theta -= (H + R)^-1 (grad + (1 - lambda) R
 * (theta - centre)): the Newton step of the discounted log loss plus a Gaussian prior of
 * precision R around `centre` that is not discounted (the second term is what the prior
 * adds once the data's weight has shrunk by lambda, taking theta as the last optimum).
 *
 * Shrinkage: the global model (segment 0) sees every observation. A segment starts at the
 * global model, and its prior stays centred on the global model as that moves (each time
 * the segment is touched, the shift of the centre moves the segment by (H + R)^-1 R times
 * it: exact for the quadratic posterior). R is worth `priorObservations` (default 50)
 * typical observations (the global model's average information per observation), so a
 * segment with a few observations is mostly the global model, with ~50 it is half its
 * own, and with a few hundred it is its own. Readers may also refuse segments under a
 * count (the arm's minObservations, WinRateTable.read).
 *
 * A loss whose notice carries ${AUCTION_MIN_TO_WIN} m (OpenRTB 2.6) tells us the highest
 * competing bid was m, so P(win | b) is its distribution function F at b. By default
 * ('density') such a loss contributes the log density of m, log F'(m) = log c - ln m +
 * log F + log(1 - F) at m, in place of the Bernoulli "b lost" (which m implies). The
 * simpler reading "a bid at m would have won, and b lost" ('counterfactual') is kept as
 * an option, but it only ever adds wins above the bid, never the matching losses, so it
 * overstates the win rate: in our simulation (log-normal market, median 1.5 CPM, sigma
 * 0.5, min-to-win on 30% of losses) it is about +0.11 off at the median price, against
 * under 0.01 for 'density' (test/strategy/win-rate-model.test.ts measures both). A
 * min-to-win below the bid (an inconsistent notice) is ignored: a plain loss.
 */
import { kOutA, kOutC, kOutCount, type WinRateTable } from './win-rate-table';

/** P(win | bidCpm) under (a, c); 0 for a bid that is not a positive number. */
export function winProbability(a: number, c: number, bidCpm: number): number {
  if (!(bidCpm > 0)) return 0;
  return 1 / (1 + Math.exp(-(a + c * Math.log(bidCpm))));
}

export type MinToWinUse = 'density' | 'counterfactual' | 'ignore';

export interface WinRateLearnerOptions {
  /** Segments held besides the global model; past it the least recently updated is evicted. */
  maxSegments: number;
  /** Observations a segment remembers (forgetting factor 1 - 1/memory). Default 2,000. */
  segmentMemory?: number;
  /** Observations the global model remembers. Default 20,000. */
  globalMemory?: number;
  /** Observations a segment's prior toward the global model is worth. Default 50. */
  priorObservations?: number;
  /** How a loss's min-to-win price is used (see the file comment). Default 'density'. */
  minToWin?: MinToWinUse;
}

export const kDefaultSegmentMemory = 2_000;
export const kDefaultGlobalMemory = 20_000;
export const kDefaultPriorObservations = 50;

/**
 * Before any data: the competing bid's median is 1 CPM (a = 0) and the curve moderately
 * steep (c = 2, from 12% to 88% win rate between 0.37 and 2.7 CPM), worth
 * kGlobalPriorObservations observations so the first real ones move it at once.
 */
export const kInitialA = 0;
export const kInitialC = 2;
const kGlobalPriorObservations = 5;
/** Information of one observation at p = 1/2 with ln b of order 1, for priors made before the global model has data. */
const kUnitInformation = 0.25;

/** c is kept in [kMinSlope, kMaxSlope] and |a| under kMaxIntercept; Newton steps longer than kMaxStep are cut. */
const kMinSlope = 0.05;
const kMaxSlope = 50;
const kMaxIntercept = 250;
const kMaxStep = 2;
/** Curvature floor: an observation far in a tail still adds a little information. */
const kMinCurvature = 1e-6;

// Per model, Float64 words of `state` (model i at i * kStateWords; model 0 is global).
const kA = 0;
const kC = 1;
const kH11 = 2; // information from data, discounted
const kH12 = 3;
const kH22 = 4;
const kR11 = 5; // prior precision, fixed at creation
const kR12 = 6;
const kR22 = 7;
const kCentreA = 8; // where the prior is centred (the global model when last touched)
const kCentreC = 9;
const kCount = 10; // observations, not discounted
const kStateWords = 11;

const kGlobal = 0;
const kNone = -1;

const kOptionsError = 'WIN_RATE_BAD_OPTIONS';

function optionsError(message: string): Error {
  return Object.assign(new RangeError(message), { code: kOptionsError });
}

export class WinRateLearner {
  private readonly state: Float64Array;
  private readonly keys: Uint32Array;
  /** LRU as a doubly linked list over model indexes 1..maxSegments: head most recent. */
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = kNone;
  private tail = kNone;
  private readonly index = new Map<number, number>();
  private freeTop: number;
  private readonly free: Int32Array;
  /** Segments evicted since the last snapshot: to remove from the table. */
  private readonly evicted = new Set<number>();
  private readonly segmentLambda: number;
  private readonly globalLambda: number;
  private readonly priorObservations: number;
  private readonly minToWin: MinToWinUse;
  readonly maxSegments: number;

  constructor(private readonly table: WinRateTable | null, options: WinRateLearnerOptions) {
    const { maxSegments } = options;
    const segmentMemory = options.segmentMemory ?? kDefaultSegmentMemory;
    const globalMemory = options.globalMemory ?? kDefaultGlobalMemory;
    const priorObservations = options.priorObservations ?? kDefaultPriorObservations;
    const minToWin = options.minToWin ?? 'density';
    const problems: string[] = [];
    if (!Number.isInteger(maxSegments) || maxSegments < 1 || maxSegments > 1 << 24) problems.push(`maxSegments must be an integer from 1 to ${1 << 24}, got ${maxSegments}`);
    if (!(segmentMemory >= 10)) problems.push(`segmentMemory must be at least 10 observations, got ${segmentMemory}`);
    if (!(globalMemory >= 10)) problems.push(`globalMemory must be at least 10 observations, got ${globalMemory}`);
    if (!(priorObservations > 0 && priorObservations < Infinity)) problems.push(`priorObservations must be a positive number, got ${priorObservations}`);
    if (minToWin !== 'density' && minToWin !== 'counterfactual' && minToWin !== 'ignore') problems.push(`minToWin must be density, counterfactual or ignore, got ${String(minToWin)}`);
    if (table !== null && Number.isInteger(maxSegments) && maxSegments * 2 > table.slots) {
      problems.push(`a table of ${table.slots} slots holds at most ${table.slots / 2} segments at load one half; maxSegments is ${maxSegments}`);
    }
    if (problems.length > 0) throw optionsError('win-rate learner: ' + problems.join('; '));
    this.maxSegments = maxSegments;
    this.segmentLambda = 1 - 1 / segmentMemory;
    this.globalLambda = 1 - 1 / globalMemory;
    this.priorObservations = priorObservations;
    this.minToWin = minToWin;
    const models = maxSegments + 1;
    this.state = new Float64Array(models * kStateWords);
    this.keys = new Uint32Array(models);
    this.prev = new Int32Array(models);
    this.next = new Int32Array(models);
    this.free = new Int32Array(maxSegments);
    for (let i = 0; i < maxSegments; i++) this.free[i] = maxSegments - i; // pop gives 1 first
    this.freeTop = maxSegments;
    const s = this.state;
    s[kA] = s[kCentreA] = kInitialA;
    s[kC] = s[kCentreC] = kInitialC;
    s[kR11] = s[kR22] = kGlobalPriorObservations * kUnitInformation;
  }

  /** Segments held now (the global model not counted). */
  get segmentCount(): number {
    return this.index.size;
  }

  /**
   * One auction outcome: our bid `bidCpm` (the price we bid, after shading, in the same
   * currency as every other observation) in `segment` (u32 hash; 0 = none: only the global
   * model learns) won or lost; `minToWinCpm` is the loss notice's AUCTION_MIN_TO_WIN, or -1
   * when unknown. Returns false, learning nothing, for a bid that is not a positive finite
   * number. No allocation, except for a segment seen for the first time (a Map entry, and
   * a Set entry for the segment it evicts).
   */
  observe(segment: number, bidCpm: number, won: boolean, minToWinCpm: number): boolean {
    if (!(bidCpm > 0 && bidCpm < Infinity)) return false;
    const x = Math.log(bidCpm);
    // ln m for a loss whose min-to-win is used; NaN for a plain win or loss.
    const m = !won && this.minToWin !== 'ignore' && minToWinCpm >= bidCpm && minToWinCpm < Infinity ? Math.log(minToWinCpm) : NaN;
    this.learn(kGlobal, this.globalLambda, x, won, m);
    const key = segment >>> 0;
    if (key !== 0) {
      const i = this.touch(key);
      this.recentre(i);
      this.learn(i, this.segmentLambda, x, won, m);
    }
    return true;
  }

  /**
   * Current parameters into out[kOutA, kOutC, kOutCount] (the table's layout) for `segment`, or the global
   * model's when the segment is not held (or is 0). Returns whether it was the segment's.
   */
  params(segment: number, out: Float64Array): boolean {
    const i = segment === 0 ? undefined : this.index.get(segment >>> 0);
    if (i !== undefined) this.recentre(i);
    const base = (i ?? kGlobal) * kStateWords;
    out[kOutA] = this.state[base + kA];
    out[kOutC] = this.state[base + kC];
    out[kOutCount] = this.state[base + kCount];
    return i !== undefined;
  }

  /** P(win | bidCpm) for `segment` as params() would give it. */
  probability(segment: number, bidCpm: number): number {
    const i = segment === 0 ? undefined : this.index.get(segment >>> 0);
    if (i !== undefined) this.recentre(i);
    const base = (i ?? kGlobal) * kStateWords;
    return winProbability(this.state[base + kA], this.state[base + kC], bidCpm);
  }

  /**
   * Publishes the global model and every held segment (each first re-centred on the current
   * global model) to the table, removes the segments evicted since the last snapshot, and
   * bumps the table's version. Call about once a second; cost is O(maxSegments).
   */
  snapshot(): void {
    const table = this.table;
    if (table === null) return;
    const s = this.state;
    for (const key of this.evicted) if (!this.index.has(key)) table.remove(key);
    this.evicted.clear();
    table.publishGlobal(s[kA], s[kC], s[kCount]);
    for (let i = this.head; i !== kNone; i = this.next[i]) {
      this.recentre(i);
      const base = i * kStateWords;
      table.publish(this.keys[i], s[base + kA], s[base + kC], s[base + kCount]);
    }
    table.endSnapshot();
  }

  // ---- segments ----

  /** The model index of `key`, created (evicting the least recent) if new; made most recent. */
  private touch(key: number): number {
    let i = this.index.get(key);
    if (i !== undefined) {
      if (i !== this.head) {
        this.unlink(i);
        this.pushHead(i);
      }
      return i;
    }
    if (this.freeTop > 0) {
      i = this.free[--this.freeTop];
    } else {
      i = this.tail;
      this.unlink(i);
      this.index.delete(this.keys[i]);
      this.evicted.add(this.keys[i]);
    }
    this.keys[i] = key;
    this.index.set(key, i);
    this.pushHead(i);
    this.initSegment(i);
    return i;
  }

  private initSegment(i: number): void {
    const s = this.state;
    const base = i * kStateWords;
    s[base + kA] = s[base + kCentreA] = s[kA];
    s[base + kC] = s[base + kCentreC] = s[kC];
    s[base + kH11] = s[base + kH12] = s[base + kH22] = 0;
    s[base + kCount] = 0;
    // R: priorObservations times the global model's information per observation (its
    // discounted information over its discounted count), or a unit guess while the global
    // model has seen fewer than 10.
    const remembered = geometricSum(this.globalLambda, s[kCount]);
    const h11 = s[kH11];
    const h12 = s[kH12];
    const h22 = s[kH22];
    const k = this.priorObservations;
    if (remembered >= 10 && h11 > 0 && h11 * h22 - h12 * h12 > 1e-12 * h11 * h22) {
      s[base + kR11] = (h11 * k) / remembered;
      s[base + kR12] = (h12 * k) / remembered;
      s[base + kR22] = (h22 * k) / remembered;
    } else {
      s[base + kR11] = k * kUnitInformation;
      s[base + kR12] = 0;
      s[base + kR22] = k * kUnitInformation;
    }
  }

  /** Moves segment i by (H + R)^-1 R (global - centre) and centres it on the global model. */
  private recentre(i: number): void {
    const s = this.state;
    const base = i * kStateWords;
    const da = s[kA] - s[base + kCentreA];
    const dc = s[kC] - s[base + kCentreC];
    if (da === 0 && dc === 0) return;
    const r11 = s[base + kR11];
    const r12 = s[base + kR12];
    const r22 = s[base + kR22];
    const m11 = s[base + kH11] + r11;
    const m12 = s[base + kH12] + r12;
    const m22 = s[base + kH22] + r22;
    const v1 = r11 * da + r12 * dc;
    const v2 = r12 * da + r22 * dc;
    const det = m11 * m22 - m12 * m12;
    if (det > 0) this.move(base, (m22 * v1 - m12 * v2) / det, (m11 * v2 - m12 * v1) / det);
    s[base + kCentreA] = s[kA];
    s[base + kCentreC] = s[kC];
  }

  private unlink(i: number): void {
    const p = this.prev[i];
    const n = this.next[i];
    if (p === kNone) this.head = n;
    else this.next[p] = n;
    if (n === kNone) this.tail = p;
    else this.prev[n] = p;
  }

  private pushHead(i: number): void {
    this.prev[i] = kNone;
    this.next[i] = this.head;
    if (this.head !== kNone) this.prev[this.head] = i;
    this.head = i;
    if (this.tail === kNone) this.tail = i;
  }

  // ---- learning ----

  /** One observation into model i. `m` is ln min-to-win for a loss that carries one, else NaN. */
  private learn(i: number, lambda: number, x: number, won: boolean, m: number): void {
    const s = this.state;
    const base = i * kStateWords;
    s[base + kH11] *= lambda;
    s[base + kH12] *= lambda;
    s[base + kH22] *= lambda;
    s[base + kCount] += 1;
    if (m !== m) {
      this.bernoulli(base, 1 - lambda, x, won ? 1 : 0);
    } else if (this.minToWin === 'density') {
      this.density(base, 1 - lambda, m);
    } else {
      this.bernoulli(base, 1 - lambda, x, 0);
      this.bernoulli(base, 0, m, 1);
    }
  }

  /** A win (y = 1) or loss (y = 0) at ln b = x. `pull` weighs the prior's gradient. */
  private bernoulli(base: number, pull: number, x: number, y: number): void {
    const s = this.state;
    const p = 1 / (1 + Math.exp(-(s[base + kA] + s[base + kC] * x)));
    let w = p * (1 - p);
    if (w < kMinCurvature) w = kMinCurvature;
    s[base + kH11] += w;
    s[base + kH12] += w * x;
    s[base + kH22] += w * x * x;
    const r = p - y;
    this.step(base, pull, r, r * x);
  }

  /**
   * The highest competing bid was exactly e^x: minus the log density is
   * -log c - log F(z) - log(1 - F(z)) (+ x), z = a + c x; gradient ((2F - 1), (2F - 1) x - 1/c),
   * Hessian 2F(1 - F) x x^T + diag(0, 1/c^2).
   */
  private density(base: number, pull: number, x: number): void {
    const s = this.state;
    const c = s[base + kC];
    const p = 1 / (1 + Math.exp(-(s[base + kA] + c * x)));
    let w = 2 * p * (1 - p);
    if (w < kMinCurvature) w = kMinCurvature;
    s[base + kH11] += w;
    s[base + kH12] += w * x;
    s[base + kH22] += w * x * x + 1 / (c * c);
    const r = 2 * p - 1;
    this.step(base, pull, r, r * x - 1 / c);
  }

  /** theta -= (H + R)^-1 (g + pull R (theta - centre)). */
  private step(base: number, pull: number, g1: number, g2: number): void {
    const s = this.state;
    const r11 = s[base + kR11];
    const r12 = s[base + kR12];
    const r22 = s[base + kR22];
    if (pull > 0) {
      const da = s[base + kA] - s[base + kCentreA];
      const dc = s[base + kC] - s[base + kCentreC];
      g1 += pull * (r11 * da + r12 * dc);
      g2 += pull * (r12 * da + r22 * dc);
    }
    const m11 = s[base + kH11] + r11;
    const m12 = s[base + kH12] + r12;
    const m22 = s[base + kH22] + r22;
    const det = m11 * m22 - m12 * m12;
    if (!(det > 0)) return;
    this.move(base, -(m22 * g1 - m12 * g2) / det, -(m11 * g2 - m12 * g1) / det);
  }

  /** theta += (d1, d2), the step cut to kMaxStep, then c and a kept in range. */
  private move(base: number, d1: number, d2: number): void {
    const s = this.state;
    const norm = Math.sqrt(d1 * d1 + d2 * d2);
    if (!(norm < Infinity)) return;
    if (norm > kMaxStep) {
      d1 *= kMaxStep / norm;
      d2 *= kMaxStep / norm;
    }
    let a = s[base + kA] + d1;
    let c = s[base + kC] + d2;
    if (c < kMinSlope) c = kMinSlope;
    else if (c > kMaxSlope) c = kMaxSlope;
    if (a < -kMaxIntercept) a = -kMaxIntercept;
    else if (a > kMaxIntercept) a = kMaxIntercept;
    s[base + kA] = a;
    s[base + kC] = c;
  }
}

/** 1 + lambda + ... + lambda^(n-1): the weight n observations keep under forgetting. */
function geometricSum(lambda: number, n: number): number {
  return (1 - Math.pow(lambda, n)) / (1 - lambda);
}

/**
 * The bid path for one batch of raw requests (in a scoring worker, or the front end's
 * inline lane): decode -> parse and validate -> privacy signals (consent decoded, or on
 * the inline lane deferred to the pool when not yet known) -> tmax check -> request
 * context -> candidates per imp (indexes) -> candidate caps -> features -> one model run
 * for the batch's rows (in chunks of the scorer's maxRows) -> price -> best candidate per
 * imp -> BidResponse JSON, written into a flatbuffers BatchReply.
 *
 * Expected failures are values: a bad request is a 4xx reply, a no-bid is a 204 with
 * its reason; nothing here throws for bad input.
 */
import { gunzipSync } from 'node:zlib';
import {
  kDelayShift,
  kFlagConsentDeferred,
  kFlagGzip,
  kFlagTestCrash,
  kReqArrivedAt,
  kReqFlags,
  kReqLength,
  kReqOffset,
  kTaskCount,
  requestBase,
} from '../codec/request-batch';
/** Where the engine puts each request's answer (the BatchReply writer, or an inline server). */
export interface ReplySink {
  add(requestId: number, status: number, outcome: number, body: string | null): void;
  /**
   * Optional: the same answer with its body as UTF-8 bytes (exactly the encoding of the
   * string add() would get), valid only during the call. A sink that stores bytes anyway
   * (ReplyWriter) spares the engine building the body as a string; 200s with bids come
   * this way when it is there.
   */
  addUtf8?(requestId: number, status: number, outcome: number, body: Uint8Array): void;
}
import { bidJson, bidResponseJson, noBidReasonFor, pickBest } from '../decisioning/bid-builder';
import type { CampaignIndex } from '../decisioning/campaign-index';
import { CandidateCap } from '../decisioning/candidate-cap';
import type { Candidate, Creative, DecisionConfig } from '../decisioning/campaign-types';
import { NoBidReason } from '../decisioning/no-bid-reasons';
import { ResponseBytes } from '../decisioning/response-bytes';
import { floorCurrencyUnsupported, priceCandidate } from '../decisioning/pricing';
import { currencyRate, floorAmount, prepareRequest, type RequestContext } from '../decisioning/request-context';
import { errorBody, requestError, type RequestError } from '../errors';
import { FeatureEncoder, type CandidateKeys } from '../features/feature-encoder';
import { M, type OutcomeTable } from '../metrics/definitions';
import type { HistogramHandle, SlotWriter } from '../metrics/shared-metrics';
import { parseBidRequest } from '../openrtb/parse-request';
import { kStatusDeferred } from '../codec/reply-batch';
import { utf8Text } from '../codec/utf8-text';
import { ConsentResolver, kDefaultConsentCacheEntries } from '../privacy/consent-resolver';
import { kPrivacyDeferred } from '../privacy/privacy-bits';
import { PrivacyCounters } from '../privacy/privacy-metrics';
import type { BidRequest } from '../openrtb/types';
import { monoNowMs } from '../util/clock';
import type { Scorer } from './onnx-scorer';
import type { NoticeUrls } from '../notices/notice-urls';
import type { MoneyGate } from '../money/money-gate';
import { cpmMicros } from '../money/money-units';
import { userKeyOf } from '../money/user-key';
import { kMaxTokenPriceMicros } from '../notices/notice-token';

const wallClockSec = (): number => Math.floor(Date.now() / 1000);

export interface EngineOptions {
  decision: DecisionConfig;
  seatId: string;
  tmaxMarginMs: number;
  maxBodyBytes: number;
  testHooks: boolean;
  /** Distinguishes bid ids across workers and restarts. */
  idPrefix: string;
  /** Most model rows per impression and per request (bidding.maxCandidatesPerImp, ...PerRequest). */
  maxCandidatesPerImp?: number;
  maxCandidatesPerRequest?: number;
  /**
   * Reads each request's privacy signals and decodes (or, on the inline lane, defers) its
   * consent strings (src/privacy/consent-resolver.ts). Absent: one that decodes, with no
   * vendor id (so GDPR never consents) and no shared table.
   */
  consent?: ConsentResolver;
  /** Signs each bid's nurl/burl/lurl (src/notices/notice-urls.ts); absent, bids carry none. */
  notices?: NoticeUrls;
  /** Budgets, pacing and frequency caps (src/money/money-gate.ts); absent, every campaign spends freely. */
  money?: MoneyGate;
  /** Unix-seconds clock for tokens and money (tests pass a simulated one). */
  wallSec?: () => number;
  /** The event log's bid records (src/money/bid-events.ts); absent, bids are not logged. */
  events?: BidEventSink;
}

/** Where the engine logs each bid it makes; never blocks (a full ring drops and counts). */
export interface BidEventSink {
  bid(requestId: string, impId: string, bidId: string, campaignId: string, creativeId: string, priceMicros: number,
    currency: string, atSec: number, test: boolean): void;
}

/** The config defaults (config.ts), for engines built without the bidding section. */
const kDefaultMaxCandidatesPerImp = 32;
const kDefaultMaxCandidatesPerRequest = 256;

/** Per-request state of the batch being processed; reused across batches. */
interface RequestState {
  status: number;
  outcome: number;
  body: string | null;
  req: BidRequest | null;
  ctx: RequestContext | null;
  deadline: number;
  /** Rows [firstRow, endRow) of the model input belong to this request. */
  firstRow: number;
  endRow: number;
  candidates: number;
  /** At least one imp got no candidate for want of a floor currency rate (pricing.ts). */
  currencyDropped: boolean;
  /** OpenRTB test = 1: answered like live traffic, counted apart (OutcomeTable.test). */
  test: boolean;
  /** The request's privacy bits (src/privacy/privacy-bits.ts); -1 until resolved. */
  privacy: number;
  /** The inline lane deferred it (kFlagConsentDeferred): publish its consent decisions even from cache. */
  republish: boolean;
  /** Why the money gate dropped candidates (budget, pacing, caps), when it did. */
  moneyDrop: NoBidReason | null;
  /** Unix seconds when the request was prepared: its tokens' time and its reservations' bucket. */
  wallSec: number;
  /** The frequency-cap user key (money/user-key.ts), valid when hasUser. */
  user: Int32Array;
  hasUser: boolean;
}

function newState(): RequestState {
  return {
    status: 0, outcome: 0, body: null, req: null, ctx: null, deadline: Infinity, firstRow: 0, endRow: 0, candidates: 0,
    currencyDropped: false, test: false, privacy: -1, republish: false, moneyDrop: null, wallSec: 0, user: new Int32Array(2), hasUser: false,
  };
}

function resetState(state: RequestState): void {
  state.status = 0;
  state.outcome = 0;
  state.body = null;
  state.req = null;
  state.ctx = null;
  state.deadline = Infinity;
  state.firstRow = 0;
  state.endRow = 0;
  state.candidates = 0;
  state.currencyDropped = false;
  state.test = false;
  state.privacy = -1;
  state.republish = false;
  state.moneyDrop = null;
  state.wallSec = 0;
  state.hasUser = false;
}

const kSleepCell = new Int32Array(new SharedArrayBuffer(4));

/** One request's winning bids, one per imp that got one: parallel arrays, reused. */
class Wins {
  count = 0;
  imp: number[] = [];
  candidate: (Candidate | undefined)[] = [];
  price: number[] = [];
  bidId: (string | undefined)[] = [];
  /** The BidResponse's own id. */
  bidid = '';

  push(imp: number, candidate: Candidate, price: number, bidId: string): void {
    const k = this.count++;
    this.imp[k] = imp;
    this.candidate[k] = candidate;
    this.price[k] = price;
    this.bidId[k] = bidId;
  }
}

/** Every creative's feature keys, computed once at load so scoring only looks them up. */
export function creativeKeys(index: CampaignIndex): Map<Creative, CandidateKeys> {
  const keys = new Map<Creative, CandidateKeys>();
  for (const c of index.compiled) {
    for (const cr of c.campaign.creatives) {
      keys.set(
        cr,
        FeatureEncoder.candidateKeys({
          campaignId: c.campaign.id,
          advertiserDomain: c.campaign.advertiserDomain,
          iabCategory: c.campaign.iabCategories[0] ?? '',
          creativeId: cr.id,
          mediaType: cr.banner ? 'banner' : cr.video ? 'video' : cr.native ? 'native' : 'audio',
          w: cr.banner?.w ?? cr.video?.w,
          h: cr.banner?.h ?? cr.video?.h,
        }),
      );
    }
  }
  return keys;
}

/**
 * Not reentrant: one batch (or one processText) at a time. Callers that may overlap
 * (a worker holding two tasks, the inline peer) chain their calls.
 */
export class BidEngine {
  private readonly encoder = new FeatureEncoder();
  private readonly states: RequestState[] = [];
  /** Per model row: its candidate, impression index, and imp floor in its own currency with that currency's units per USD. */
  private rowCandidate: Candidate[] = [];
  private rowImp: Int32Array = new Int32Array(1024);
  private rowFloor: Float64Array = new Float64Array(1024);
  private rowFloorRate: Float64Array = new Float64Array(1024);
  private ctr: Float32Array = new Float32Array(1024);
  /** Prices of one impression's candidates, reused. */
  private impPrices = new Float64Array(64);
  private readonly scratch: Candidate[] = [];
  /** The bids decide() picked for the request being answered; read by answer() right after. */
  private readonly wins = new Wins();
  private readonly responseBytes = new ResponseBytes();
  private readonly keysByCreative: Map<Creative, CandidateKeys>;
  private readonly slabText: Buffer;
  private readonly noBidOutcome: Record<string, number> = {};
  private readonly bidsCounter: number;
  private readonly rowsCounter: number;
  /** Bounds each request's model rows before scoring (candidate-cap.ts). */
  private readonly cap: CandidateCap;
  private readonly droppedBelowFloor: number;
  private readonly droppedImpCap: number;
  private readonly droppedRequestCap: number;
  private readonly priceHistogram: HistogramHandle;
  private readonly modelHistogram: HistogramHandle;
  private readonly consent: ConsentResolver;
  private readonly privacyCounters: PrivacyCounters;
  private bidSeq = 0;
  /**
   * What the last processBatch cost in the model: rows scored and session time. The
   * placement's cost model (src/pool/placement.ts) learns from them.
   */
  lastRows = 0;
  lastModelMs = 0;

  constructor(
    private readonly index: CampaignIndex,
    private readonly scorer: Scorer,
    private readonly outcomes: OutcomeTable,
    private readonly metrics: SlotWriter,
    slab: SharedArrayBuffer,
    private readonly options: EngineOptions,
  ) {
    this.slabText = Buffer.from(slab);
    this.keysByCreative = creativeKeys(index);
    for (const r of Object.values(NoBidReason)) this.noBidOutcome[r] = outcomes.noBid(r);
    this.bidsCounter = metrics.layout.offset(M.bids);
    this.rowsCounter = metrics.layout.offset(M.modelRows);
    this.cap = new CandidateCap(
      options.maxCandidatesPerImp ?? kDefaultMaxCandidatesPerImp,
      options.maxCandidatesPerRequest ?? kDefaultMaxCandidatesPerRequest,
    );
    this.droppedBelowFloor = metrics.layout.offset(M.candidatesDropped, ['below_floor']);
    this.droppedImpCap = metrics.layout.offset(M.candidatesDropped, ['imp_cap']);
    this.droppedRequestCap = metrics.layout.offset(M.candidatesDropped, ['request_cap']);
    this.priceHistogram = metrics.histogram(M.bidPrice);
    this.modelHistogram = metrics.histogram(M.modelRun);
    this.consent = options.consent ?? new ConsentResolver({ vendorId: 0, cacheEntries: kDefaultConsentCacheEntries, mode: 'decode', table: null });
    this.privacyCounters = new PrivacyCounters(metrics);
  }

  /** Processes one task: descriptors in `task`, bodies in the shared slab. */
  async processBatch(task: Float64Array, out: ReplySink): Promise<void> {
    const count = task[kTaskCount];
    const now = monoNowMs();
    while (this.states.length < count) this.states.push(newState());
    let rows = 0;
    for (let i = 0; i < count; i++) {
      const base = requestBase(i);
      const state = this.states[i];
      const flags = task[base + kReqFlags];
      if (this.options.testHooks) this.applyTestHooks(flags);
      const text = this.decode(task[base + kReqOffset], task[base + kReqLength], flags, state);
      if (text === null) continue;
      state.republish = (flags & kFlagConsentDeferred) !== 0;
      rows = this.prepare(text, task[base + kReqArrivedAt], now, state, rows);
    }
    this.lastRows = rows;
    this.lastModelMs = 0;
    if (rows > 0) await this.score(rows);
    const finished = monoNowMs();
    for (let i = 0; i < count; i++) {
      const state = this.states[i];
      if (state.status === 0) this.decide(state, finished);
      if (state.status !== kStatusDeferred) this.privacyCounters.answered(state.privacy, state.status);
      this.answer(out, i, state);
      state.req = null;
      state.ctx = null;
      state.body = null;
    }
    this.rowCandidate.length = 0;
  }

  /** Runs one request end to end outside any batch (used to warm the JIT at start). */
  async processText(text: string, out: ReplySink): Promise<void> {
    const state = this.states[0] ?? (this.states[0] = newState());
    resetState(state);
    const now = monoNowMs();
    const rows = this.prepare(text, now, now, state, 0);
    this.lastRows = rows;
    this.lastModelMs = 0;
    if (rows > 0) await this.score(rows);
    if (state.status === 0) this.decide(state, monoNowMs());
    if (state.status !== kStatusDeferred) this.privacyCounters.answered(state.privacy, state.status);
    this.answer(out, 0, state);
    this.rowCandidate.length = 0;
  }

  /**
   * Hands the request's answer to the sink. A bid answer is serialised only here, right
   * after decide() picked its bids (this.wins): as bytes when the sink takes them, else as
   * the string of bidResponseJson.
   */
  private answer(out: ReplySink, requestId: number, state: RequestState): void {
    const outcome = this.outcomeOf(state);
    if (state.status !== 200) {
      out.add(requestId, state.status, outcome, state.body);
      return;
    }
    const req = state.req!;
    const ctx = state.ctx!;
    const wins = this.wins;
    const seat = this.options.seatId;
    if (out.addUtf8 !== undefined) {
      const bytes = this.responseBytes;
      bytes.begin(req.id);
      for (let k = 0; k < wins.count; k++) bytes.bid(req.imp[wins.imp[k]], wins.candidate[k]!, wins.price[k], wins.bidId[k]!, this.noticesOf(state, k));
      out.addUtf8(requestId, 200, outcome, bytes.end(wins.bidid, ctx.currency, seat));
      return;
    }
    const bids: string[] = [];
    for (let k = 0; k < wins.count; k++) bids.push(bidJson(req.imp[wins.imp[k]], wins.candidate[k]!, wins.price[k], ctx, wins.bidId[k]!, this.noticesOf(state, k)));
    out.add(requestId, 200, outcome, bidResponseJson(req.id, wins.bidid, ctx.currency, seat, bids));
  }

  /** The outcome that crosses to the front end: test traffic's is its own (OutcomeTable.test). */
  private outcomeOf(state: RequestState): number {
    return state.test ? this.outcomes.test(state.outcome) : state.outcome;
  }

  private fail(state: RequestState, error: RequestError): void {
    state.status = error.status;
    state.outcome = this.outcomes.error(error.code);
    state.body = errorBody(error);
  }

  /** Not answered here: the request goes back to the dispatcher, which gives it to the pool. */
  private defer(state: RequestState): void {
    state.status = kStatusDeferred;
    state.outcome = 0;
    state.body = null;
    this.privacyCounters.deferred();
  }

  private noBid(state: RequestState, reason: NoBidReason): void {
    state.status = 204;
    state.outcome = this.noBidOutcome[reason];
    state.body = null;
  }

  private decode(offset: number, length: number, flags: number, state: RequestState): string | null {
    resetState(state);
    if ((flags & kFlagGzip) === 0) return this.utf8(state, this.slabText, offset, offset + length);
    try {
      const inflated = gunzipSync(this.slabText.subarray(offset, offset + length), {
        maxOutputLength: this.options.maxBodyBytes,
      });
      return this.utf8(state, inflated, 0, inflated.length);
    } catch (err) {
      const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
      this.fail(state, requestError(tooLarge ? 'BODY_TOO_LARGE' : 'BAD_GZIP', undefined, tooLarge ? 'request body is too large after gunzip' : undefined));
      return null;
    }
  }

  /**
   * JSON text must be UTF-8 (RFC 8259 8.1). Decoding would silently turn bad bytes into
   * U+FFFD and we would echo an id the exchange never sent, so bad bytes are a 400.
   */
  private utf8(state: RequestState, bytes: Buffer, start: number, end: number): string | null {
    const text = utf8Text(bytes, start, end);
    if (text === null) this.fail(state, requestError('BAD_JSON', undefined, 'request body is not valid UTF-8'));
    return text;
  }

  /** Parses, checks and collects model rows for one request; returns the new row count. */
  private prepare(text: string, arrivedAt: number, now: number, state: RequestState, rows: number): number {
    const parsed = parseBidRequest(text);
    if (!parsed.ok) {
      this.fail(state, parsed.error);
      return rows;
    }
    const req = parsed.request;
    state.req = req;
    state.test = req.test === 1;
    // Before any other work: on the inline lane an undecoded consent string sends the request to the pool.
    const privacy = this.consent.resolve(req, state.republish);
    if (privacy === kPrivacyDeferred) {
      this.defer(state);
      return rows;
    }
    state.privacy = privacy;
    const tmax = req.tmax;
    state.deadline = typeof tmax === 'number' && tmax > 0 ? arrivedAt + tmax - this.options.tmaxMarginMs : Infinity;
    if (now > state.deadline) {
      this.noBid(state, NoBidReason.TmaxExceeded);
      return rows;
    }
    const prepared = prepareRequest(req, this.options.decision, privacy);
    if (!prepared.ok) {
      this.noBid(state, prepared.reason);
      return rows;
    }
    const ctx = prepared.ctx;
    state.ctx = ctx;
    state.firstRow = rows;
    const encoder = this.encoder;
    encoder.beginRequest(req, now, ctx.ifaAllowed);
    const imps = req.imp;
    const cap = this.cap;
    cap.begin();
    let eligible = 0;
    const money = this.options.money;
    state.wallSec = this.wallSec();
    if (money !== undefined || this.options.notices !== undefined) {
      state.hasUser = userKeyOf(req, ctx.userDataAllowed, ctx.ifaAllowed, state.user) !== 0;
      if (money !== undefined) money.beginRequest();
    }
    for (let j = 0; j < imps.length; j++) {
      const imp = imps[j];
      let n = this.index.candidatesFor(req, imp, ctx, this.scratch);
      if (n > 0 && money !== undefined) {
        n = money.filter(this.scratch, n);
        if (n === 0) {
          state.moneyDrop = money.lastDrop;
          continue;
        }
      }
      if (n === 0) {
        if (!state.currencyDropped && floorCurrencyUnsupported(imp, ctx)) state.currencyDropped = true;
        continue;
      }
      eligible += n;
      // The floor in its own currency and that currency's rate: decide() prices against them.
      // A floor without a rate left only deals with their own floor (campaign-index.ts),
      // which answer to that alone: the imp's floor then counts as none.
      let floor = floorAmount(imp.bidfloor);
      let floorRate = floor > 0 ? currencyRate(imp.bidfloorcur, ctx) : 1;
      if (Number.isNaN(floorRate)) {
        floor = 0;
        floorRate = 1;
      }
      cap.offer(j, floor, floorRate, this.scratch, n);
    }
    const kept = cap.finish();
    this.countDrops();
    this.ensureRows(rows + kept);
    let imp = -1;
    for (let k = 0; k < kept; k++) {
      const j = cap.impAt(k);
      const floor = cap.floorAt(k);
      const floorRate = cap.floorRateAt(k);
      if (j !== imp) {
        encoder.beginImp(imps[j], floor / floorRate);
        imp = j;
      }
      const cand = cap.candidateAt(k);
      const row = rows + k;
      this.rowCandidate[row] = cand;
      this.rowImp[row] = j;
      this.rowFloor[row] = floor;
      this.rowFloorRate[row] = floorRate;
      encoder.writeRow(this.keysByCreative.get(cand.creative)!, this.batchCat, this.batchNum, row);
    }
    rows += kept;
    state.endRow = rows;
    // Eligible, not scored: a request whose candidates were all below floor is below_floor.
    state.candidates = eligible;
    return rows;
  }

  private countDrops(): void {
    const d = this.cap.drops;
    if (d.belowFloor > 0) this.metrics.inc(this.droppedBelowFloor, d.belowFloor);
    if (d.impCap > 0) this.metrics.inc(this.droppedImpCap, d.impCap);
    if (d.requestCap > 0) this.metrics.inc(this.droppedRequestCap, d.requestCap);
  }

  /** Feature matrices for the whole batch; scored in chunks of the scorer's maxRows. */
  private batchCat = new Int32Array(0);
  private batchNum = new Float32Array(0);

  private ensureRows(n: number): void {
    const catWidth = this.scorer.cat.length / this.scorer.maxRows;
    const numWidth = this.scorer.num.length / this.scorer.maxRows;
    if (this.batchCat.length >= n * catWidth && this.rowImp.length >= n) return;
    let cap = Math.max(1024, this.rowImp.length);
    while (cap < n) cap *= 2;
    const cat = new Int32Array(cap * catWidth);
    cat.set(this.batchCat);
    this.batchCat = cat;
    const num = new Float32Array(cap * numWidth);
    num.set(this.batchNum);
    this.batchNum = num;
    const imp = new Int32Array(cap);
    imp.set(this.rowImp.subarray(0, Math.min(this.rowImp.length, cap)));
    this.rowImp = imp;
    const floor = new Float64Array(cap);
    floor.set(this.rowFloor.subarray(0, Math.min(this.rowFloor.length, cap)));
    this.rowFloor = floor;
    const floorRate = new Float64Array(cap);
    floorRate.set(this.rowFloorRate.subarray(0, Math.min(this.rowFloorRate.length, cap)));
    this.rowFloorRate = floorRate;
    this.ctr = new Float32Array(cap);
  }

  private async score(rows: number): Promise<void> {
    const scorer = this.scorer;
    const catWidth = scorer.cat.length / scorer.maxRows;
    const numWidth = scorer.num.length / scorer.maxRows;
    const started = monoNowMs();
    for (let first = 0; first < rows; first += scorer.maxRows) {
      const n = Math.min(scorer.maxRows, rows - first);
      // The scorer's own arrays are the tensors' memory: one copy in, no copy for ORT.
      scorer.cat.set(this.batchCat.subarray(first * catWidth, (first + n) * catWidth));
      scorer.num.set(this.batchNum.subarray(first * numWidth, (first + n) * numWidth));
      const ctr = await scorer.score(scorer.cat, scorer.num, n);
      this.ctr.set(ctr.subarray(0, n), first);
    }
    const modelMs = monoNowMs() - started;
    this.lastModelMs = modelMs;
    this.metrics.observe(this.modelHistogram, modelMs / 1000);
    this.metrics.inc(this.rowsCounter, rows);
  }

  /** Prices every candidate of a request and keeps the best per impression (in this.wins, for answer()). */
  private decide(state: RequestState, now: number): void {
    const ctx = state.ctx!;
    if (now > state.deadline) {
      this.noBid(state, NoBidReason.TmaxExceeded);
      return;
    }
    const wins = this.wins;
    wins.count = 0;
    let row = state.firstRow;
    const end = state.endRow;
    while (row < end) {
      const imp = this.rowImp[row];
      const first = row;
      while (row < end && this.rowImp[row] === imp) row++;
      if (this.impPrices.length < row - first) this.impPrices = new Float64Array(Math.max(row - first, this.impPrices.length * 2));
      for (let r = first; r < row; r++) {
        this.impPrices[r - first] = priceCandidate(this.rowCandidate[r], this.ctr[r], this.rowFloor[r], this.rowFloorRate[r], ctx.usdToBidCur);
      }
      const best = this.pickReserved(state, first, row - first, ctx.usdToBidCur);
      if (best < 0) continue;
      const bestRow = first + best;
      const bestPrice = this.impPrices[best];
      wins.push(imp, this.rowCandidate[bestRow], bestPrice, `${this.options.idPrefix}${(++this.bidSeq).toString(36)}`);
      // Test traffic stays out of the money figures (it is counted on its own outcome counter).
      if (!state.test) this.metrics.observe(this.priceHistogram, bestPrice / ctx.usdToBidCur);
    }
    if (wins.count === 0) {
      // Budget, pacing or caps explain a no-bid when they took the last candidates: before
      // scoring (none left eligible) or at decision (a priced bid its budget could not cover,
      // or its campaign had reached the user's cap).
      const moneyDrop = state.moneyDrop;
      const reason = moneyDrop !== null && (state.candidates === 0 || moneyDrop === NoBidReason.BudgetExhausted || moneyDrop === NoBidReason.FrequencyCapped)
        ? moneyDrop : noBidReasonFor(state.candidates, 0, state.currencyDropped)!;
      this.noBid(state, reason);
      return;
    }
    if (!state.test) this.metrics.inc(this.bidsCounter, wins.count);
    const events = this.options.events;
    if (events !== undefined) {
      const req = state.req!;
      for (let k = 0; k < wins.count; k++) {
        const cand = wins.candidate[k]!;
        events.bid(req.id, req.imp[wins.imp[k]].id, wins.bidId[k]!, cand.campaign.id, cand.creative.id, cpmMicros(wins.price[k]), ctx.currency, state.wallSec, state.test);
      }
    }
    wins.bidid = `${this.options.idPrefix}${(++this.bidSeq).toString(36)}`;
    // The body is written by answer(), from wins, in the form the sink takes.
    state.status = 200;
    state.outcome = this.outcomes.bid;
    state.body = null;
  }

  /**
   * The best-priced candidate of one impression (rows [first, first + count)) whose cost the
   * money gate could reserve: a campaign whose budget cannot cover its price gives way to
   * the next best. Also refuses a price no notice token can carry. -1 when none.
   */
  private pickReserved(state: RequestState, first: number, count: number, usdToBidCur: number): number {
    const prices = this.impPrices;
    const money = this.options.money;
    for (;;) {
      const best = pickBest(prices, count);
      if (best < 0) return -1;
      const price = prices[best];
      const fits = this.options.notices === undefined || cpmMicros(price) <= kMaxTokenPriceMicros;
      if (fits) {
        const cand = this.rowCandidate[first + best];
        if (money === undefined) return best;
        if (money.capped(cand, state.hasUser ? state.user : null, state.wallSec)) {
          if (state.moneyDrop === null) state.moneyDrop = NoBidReason.FrequencyCapped;
        } else if (money.reserve(cand, price, usdToBidCur, state.wallSec, state.test)) return best;
        else state.moneyDrop = NoBidReason.BudgetExhausted;
      }
      prices[best] = 0;
    }
  }

  private wallSec(): number {
    return (this.options.wallSec ?? wallClockSec)();
  }

  /** The bid's nurl/burl/lurl JSON, '' without notices. */
  private noticesOf(state: RequestState, k: number): string {
    const notices = this.options.notices;
    if (notices === undefined) return '';
    const wins = this.wins;
    const req = state.req!;
    const cand = wins.candidate[k]!;
    return notices.fragment(req.id, req.imp[wins.imp[k]].id, wins.bidId[k]!, cand.campaign.id, cand.creative.id,
      cpmMicros(wins.price[k]), state.ctx!.currency, state.wallSec, state.test, state.hasUser ? state.user : null);
  }

  private applyTestHooks(flags: number): void {
    if ((flags & kFlagTestCrash) !== 0) process.exit(70);
    const delay = flags >>> kDelayShift;
    if (delay > 0) Atomics.wait(kSleepCell, 0, 0, delay);
  }
}

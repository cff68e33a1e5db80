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
import { FixedModels, type ModelSource } from './engine-control';
import type { ModelSettings } from '../models/model-control';
import { Assignment } from '../experiments/experiment-table';
import { fnv1a32Utf16, kBuckets } from '../experiments/bucketing';
import { usableUserId } from '../money/user-key';
import { CAT_WIDTH, NUM_WIDTH } from '../features/feature-spec';
import { shadingSegment } from '../strategy/segment-key';
import { shadePrice } from '../strategy/bid-shader';
import { WinRateTable, kNoModel, kOutA, kOutC } from '../strategy/win-rate-table';
import { ceil4 } from '../decisioning/pricing';
import { ShadowScorer } from './shadow-scorer';
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
  /** Per-segment win-rate models for first-price shading (src/strategy/win-rate-table.ts); absent, no arm shades. */
  winRates?: SharedArrayBuffer;
}

/** Where the engine logs each bid it makes; never blocks (a full ring drops and counts). */
export interface BidEventSink {
  bid(requestId: string, impId: string, bidId: string, campaignId: string, creativeId: string, priceMicros: number,
    currency: string, atSec: number, test: boolean, extra?: BidExtra): void;
  /** The shadow model's predictions beside the active model's, for rows it scored off the critical path. */
  shadow?(requestId: string, impId: string, campaignId: string, creativeId: string, model: string, ctr: number,
    shadowModel: string, shadowCtr: number, arm: string, test: boolean): void;
}

/** What the event log keeps of a bid beyond the notice claims: who priced it, how, and for which arm. */
export interface BidExtra {
  model: string;
  arm: string;
  /** The unshaded value, CPM micro-units of the bid currency. */
  valueMicros: number;
  segment: number;
  /** The model's predicted CTR for the winning row; -1 when no model priced it (CPM goal). */
  ctr: number;
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
  /** The catalog slot scoring this request (active, canary, or an arm's model). */
  model: number;
  /** Its experiment arms (experiment-table.ts). */
  assignment: Assignment;
}

function newState(): RequestState {
  return {
    status: 0, outcome: 0, body: null, req: null, ctx: null, deadline: Infinity, firstRow: 0, endRow: 0, candidates: 0,
    currencyDropped: false, test: false, privacy: -1, republish: false, moneyDrop: null, wallSec: 0, user: new Int32Array(2), hasUser: false,
    model: 0, assignment: new Assignment(),
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
  state.model = 0;
  state.assignment.clear();
}

const kSleepCell = new Int32Array(new SharedArrayBuffer(4));

/** One request's winning bids, one per imp that got one: parallel arrays, reused. */
class Wins {
  count = 0;
  imp: number[] = [];
  candidate: (Candidate | undefined)[] = [];
  price: number[] = [];
  bidId: (string | undefined)[] = [];
  /** The price before shading (the campaign's value, floors applied). */
  value: number[] = [];
  /** The model's predicted CTR of the winning row. */
  ctr: number[] = [];
  /** The shading segment of the impression. */
  segment: number[] = [];
  /** The BidResponse's own id. */
  bidid = '';

  push(imp: number, candidate: Candidate, price: number, bidId: string, value: number, ctr: number, segment: number): void {
    const k = this.count++;
    this.imp[k] = imp;
    this.candidate[k] = candidate;
    this.price[k] = price;
    this.bidId[k] = bidId;
    this.value[k] = value;
    this.ctr[k] = ctr;
    this.segment[k] = segment;
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
  /** The models (and experiments) this engine scores with; read once per batch. */
  private readonly models: ModelSource;
  /** The settings of the batch being processed (models.begin()). */
  private settings!: ModelSettings;
  /** Catalog slots scored in this batch, and how many rows each (score()). */
  private readonly batchModels: number[] = [];
  private readonly modelCounters: { runs: number; rows: number; seconds: number; errors: number };
  private readonly armRequests: number;
  private readonly armBids: number;
  private readonly shadingCounters: { shaded: number; atValue: number; noModel: number; notFirstPrice: number; saved: number };
  private readonly winRates: WinRateTable | null;
  private readonly winRate = new Float64Array(3);
  private readonly shadow: ShadowScorer;
  /**
   * What the last processBatch cost in the model: rows scored and session time. The
   * placement's cost model (src/pool/placement.ts) learns from them.
   */
  lastRows = 0;
  lastModelMs = 0;

  constructor(
    private readonly index: CampaignIndex,
    scorerOrModels: Scorer | ModelSource,
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
    this.models = 'score' in scorerOrModels ? new FixedModels(scorerOrModels) : scorerOrModels;
    const layout = metrics.layout;
    this.modelCounters = {
      runs: layout.offset(M.modelRuns, ['0']), rows: layout.offset(M.modelScoredRows, ['0']),
      seconds: layout.offset(M.modelRunSeconds, ['0']), errors: layout.offset(M.modelErrors, ['0']),
    };
    this.armRequests = layout.offset(M.armRequests, ['0']);
    this.armBids = layout.offset(M.armBids, ['0']);
    this.shadingCounters = {
      shaded: layout.offset(M.shading, ['shaded']), atValue: layout.offset(M.shading, ['at_value']),
      noModel: layout.offset(M.shading, ['no_model']), notFirstPrice: layout.offset(M.shading, ['not_first_price']),
      saved: layout.offset(M.shadingSaved),
    };
    this.winRates = options.winRates === undefined ? null : new WinRateTable(options.winRates);
    this.shadow = new ShadowScorer(this.models, metrics, options.events);
  }

  /** Processes one task: descriptors in `task`, bodies in the shared slab. */
  async processBatch(task: Float64Array, out: ReplySink): Promise<void> {
    // One read of the model settings for the whole batch: a swap lands between batches.
    this.settings = this.models.begin();
    try {
      await this.runBatch(task, out);
    } finally {
      this.models.end();
    }
  }

  private async runBatch(task: Float64Array, out: ReplySink): Promise<void> {
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
    if (rows > 0) await this.score(rows, count);
    const finished = monoNowMs();
    // The shadow's sample is taken before the answers (they reuse nothing it needs); it is
    // scored after them, off the critical path (shadow-scorer.ts).
    const shadowing = rows > 0 && this.shadow.sample(this.settings) ? this.shadowRows(count) : false;
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
    if (shadowing) this.shadow.schedule();
  }

  /** Runs one request end to end outside any batch (used to warm the JIT at start). */
  async processText(text: string, out: ReplySink): Promise<void> {
    this.settings = this.models.begin();
    try {
      await this.runText(text, out);
    } finally {
      this.models.end();
    }
  }

  private async runText(text: string, out: ReplySink): Promise<void> {
    const state = this.states[0] ?? (this.states[0] = newState());
    resetState(state);
    const now = monoNowMs();
    const rows = this.prepare(text, now, now, state, 0);
    this.lastRows = rows;
    this.lastModelMs = 0;
    if (rows > 0) await this.score(rows, 1);
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
    state.model = this.modelFor(req, ctx, state);
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

  /**
   * The catalog slot that scores this request, and its experiment arms: an arm's model
   * when its arm names one; else the canary for its share of requests (by a hash of the
   * request id, so a request's rows never split); else the active model. A slot this
   * thread has no session for (it cannot happen once the registry has its acks) falls
   * back to the active model.
   */
  private modelFor(req: BidRequest, ctx: RequestContext, state: RequestState): number {
    const s = this.settings;
    const assigner = this.models.assigner;
    if (assigner !== null) {
      const a = state.assignment;
      assigner.assign(usableUserId(req, ctx.userDataAllowed, ctx.ifaAllowed), req.id, a);
      if (!state.test) for (let i = 0; i < a.arms.length; i++) this.metrics.inc(this.armRequests + a.arms[i].metricSlot);
      if (a.modelSlot >= 0 && this.models.scorer(a.modelSlot) !== undefined) return a.modelSlot;
    }
    if (s.canary >= 0 && s.canaryBasisPoints > 0 && fnv1a32Utf16(req.id) % kBuckets < s.canaryBasisPoints && this.models.scorer(s.canary) !== undefined) return s.canary;
    return s.active;
  }

  private ensureRows(n: number): void {
    const catWidth = CAT_WIDTH;
    const numWidth = NUM_WIDTH;
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

  /**
   * Scores rows [0, rows) of the batch. Every request's rows go to its own model
   * (modelFor); a batch with one model (nearly all) runs as one matrix, in chunks of the
   * scorer's maxRows. A model that fails leaves its requests without predictions: they are
   * answered 204 worker_failed, the rest of the batch is not held back.
   */
  private async score(rows: number, requests: number): Promise<void> {
    const started = monoNowMs();
    const models = this.batchModels;
    models.length = 0;
    for (let i = 0; i < requests; i++) {
      const st = this.states[i];
      if (st.endRow > st.firstRow && !models.includes(st.model)) models.push(st.model);
    }
    if (models.length === 1) await this.scoreRange(models[0], 0, rows, -1, requests);
    else for (const slot of models) await this.scoreRange(slot, 0, rows, slot, requests);
    const modelMs = monoNowMs() - started;
    this.lastModelMs = modelMs;
    this.metrics.observe(this.modelHistogram, modelMs / 1000);
    this.metrics.inc(this.rowsCounter, rows);
  }

  /**
   * Runs `slot`'s model over the batch's rows: all of [first, end) when `only` is -1, else
   * just the rows of requests whose model is `only`, gathered into the scorer's matrices.
   */
  private async scoreRange(slot: number, first: number, end: number, only: number, requests: number): Promise<void> {
    const scorer = this.models.scorer(slot) ?? this.models.scorer(this.settings.active);
    const c = this.modelCounters;
    if (scorer === undefined) {
      this.failModel(only, requests);
      return;
    }
    const max = scorer.maxRows;
    if (this.gatherRows.length < max) this.gatherRows = new Int32Array(max);
    // Rows of the chosen requests, in order, as (batch row) indices; contiguous when only < 0.
    let pending = 0;
    const gathered = this.gatherRows;
    let i = 0;
    let row = first;
    for (;;) {
      // Fill up to `max` rows into the scorer's own matrices.
      let n = 0;
      const contiguous = only < 0;
      if (contiguous) {
        n = Math.min(max, end - row);
        if (n <= 0) break;
        scorer.cat.set(this.batchCat.subarray(row * CAT_WIDTH, (row + n) * CAT_WIDTH));
        scorer.num.set(this.batchNum.subarray(row * NUM_WIDTH, (row + n) * NUM_WIDTH));
      } else {
        while (n < max && i < requests) {
          const st = this.states[i];
          if (st.model !== only || st.endRow <= st.firstRow) {
            i++;
            pending = 0;
            continue;
          }
          const r = st.firstRow + pending;
          scorer.cat.set(this.batchCat.subarray(r * CAT_WIDTH, (r + 1) * CAT_WIDTH), n * CAT_WIDTH);
          scorer.num.set(this.batchNum.subarray(r * NUM_WIDTH, (r + 1) * NUM_WIDTH), n * NUM_WIDTH);
          gathered[n++] = r;
          if (++pending >= st.endRow - st.firstRow) {
            i++;
            pending = 0;
          }
        }
        if (n === 0) break;
      }
      const runStarted = monoNowMs();
      let ctr: Float32Array;
      try {
        ctr = await scorer.score(scorer.cat, scorer.num, n);
      } catch {
        this.metrics.inc(c.errors + slot);
        this.metrics.inc(c.runs + slot);
        if (contiguous) this.ctr.fill(Number.NaN, row, row + n);
        else for (let k = 0; k < n; k++) this.ctr[gathered[k]] = Number.NaN;
        row += contiguous ? n : 0;
        continue;
      }
      this.metrics.inc(c.runs + slot);
      this.metrics.inc(c.rows + slot, n);
      this.metrics.inc(c.seconds + slot, (monoNowMs() - runStarted) / 1000);
      if (contiguous) {
        this.ctr.set(ctr.subarray(0, n), row);
        row += n;
      } else for (let k = 0; k < n; k++) this.ctr[gathered[k]] = ctr[k];
    }
  }

  /** Batch rows gathered for one model run (scoreRange), reused. */
  private gatherRows = new Int32Array(4096);

  /** No session at all for a request's model (cannot happen once the registry has its acks): no predictions. */
  private failModel(only: number, requests: number): void {
    for (let i = 0; i < requests; i++) {
      const st = this.states[i];
      if (only >= 0 && st.model !== only) continue;
      for (let r = st.firstRow; r < st.endRow; r++) this.ctr[r] = Number.NaN;
    }
  }

  /** Copies the batch's scored rows for the shadow model; false when it cannot take them now. */
  private shadowRows(requests: number): boolean {
    const active = this.settings.active;
    const rows = this.shadow.begin(this.settings.shadow, this.models.label(active), this.batchCat, this.batchNum);
    if (rows === null) return false;
    for (let i = 0; i < requests; i++) {
      const st = this.states[i];
      // Rows the active model scored: the shadow is compared with what serves.
      if (st.model !== active || st.endRow <= st.firstRow || st.req === null) continue;
      for (let r = st.firstRow; r < st.endRow; r++) {
        const cand = this.rowCandidate[r];
        rows.add(r, this.ctr[r], st.req.id, st.req.imp[this.rowImp[r]].id, cand.campaign.id, cand.creative.id, st.assignment.label, st.test);
      }
    }
    return rows.count > 0;
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
    // Its model failed (scoreRange): no price can be trusted, the request is not bid on.
    for (let r = row; r < end; r++) {
      if (Number.isNaN(this.ctr[r])) {
        this.noBid(state, NoBidReason.WorkerFailed);
        return;
      }
    }
    while (row < end) {
      const imp = this.rowImp[row];
      const first = row;
      while (row < end && this.rowImp[row] === imp) row++;
      if (this.impPrices.length < row - first) this.impPrices = new Float64Array(Math.max(row - first, this.impPrices.length * 2));
      for (let r = first; r < row; r++) {
        this.impPrices[r - first] = priceCandidate(this.rowCandidate[r], this.ctr[r], this.rowFloor[r], this.rowFloorRate[r], ctx.usdToBidCur);
      }
      // While an arm shades, every first-price bid carries its segment, shading arm or not: the
      // learner learns the market from all of them (the money owner, from their wins and
      // losses). With no shading arm there is nothing to learn for, and no segment to hash.
      const shades = this.winRates !== null && this.models.assigner !== null && this.models.assigner.shades;
      const segment = shades && state.req!.at === 1 ? shadingSegment(state.req!, state.req!.imp[imp]) : 0;
      const value = this.pickReserved(state, first, row - first, ctx.usdToBidCur, segment);
      if (value < 0) continue;
      const best = this.picked;
      const bestRow = first + best;
      const bestPrice = this.impPrices[best];
      wins.push(imp, this.rowCandidate[bestRow], bestPrice, `${this.options.idPrefix}${(++this.bidSeq).toString(36)}`, value, this.ctr[bestRow], segment);
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
    if (!state.test) {
      this.metrics.inc(this.bidsCounter, wins.count);
      const arms = state.assignment.arms;
      for (let i = 0; i < arms.length; i++) this.metrics.inc(this.armBids + arms[i].metricSlot, wins.count);
    }
    const events = this.options.events;
    if (events !== undefined) {
      const req = state.req!;
      const extra = this.bidExtra;
      extra.model = this.models.label(state.model);
      extra.arm = state.assignment.label;
      for (let k = 0; k < wins.count; k++) {
        const cand = wins.candidate[k]!;
        extra.valueMicros = cpmMicros(wins.value[k]);
        extra.segment = wins.segment[k];
        extra.ctr = cand.campaign.goal.type === 'CPC' ? wins.ctr[k] : -1;
        events.bid(req.id, req.imp[wins.imp[k]].id, wins.bidId[k]!, cand.campaign.id, cand.creative.id, cpmMicros(wins.price[k]), ctx.currency, state.wallSec, state.test, extra);
      }
    }
    wins.bidid = `${this.options.idPrefix}${(++this.bidSeq).toString(36)}`;
    // The body is written by answer(), from wins, in the form the sink takes.
    state.status = 200;
    state.outcome = this.outcomes.bid;
    state.body = null;
  }

  /** The bid's extra event-log fields, reused. */
  private readonly bidExtra: BidExtra = { model: '', arm: '', valueMicros: 0, segment: 0, ctr: -1 };
  /** The index pickReserved chose (within the impression's rows). */
  private picked = -1;

  /**
   * The best-priced candidate of one impression (rows [first, first + count)) whose cost the
   * money gate could reserve: a campaign whose budget cannot cover its price gives way to
   * the next best. Also refuses a price no notice token can carry. The chosen index is left
   * in this.picked and its price in impPrices (shaded, for a shading arm in a first-price
   * auction); returns the price before shading (its value), -1 when none.
   */
  private pickReserved(state: RequestState, first: number, count: number, usdToBidCur: number, segment: number): number {
    const prices = this.impPrices;
    const money = this.options.money;
    for (;;) {
      const best = pickBest(prices, count);
      if (best < 0) return -1;
      const value = prices[best];
      const cand = this.rowCandidate[first + best];
      const price = state.assignment.shading === null ? value : this.shade(state, cand, value, first + best, usdToBidCur, segment);
      const fits = this.options.notices === undefined || cpmMicros(price) <= kMaxTokenPriceMicros;
      if (fits) {
        if (money === undefined) return this.pick(best, price, value);
        if (money.capped(cand, state.hasUser ? state.user : null, state.wallSec)) {
          if (state.moneyDrop === null) state.moneyDrop = NoBidReason.FrequencyCapped;
        } else if (money.reserve(cand, price, usdToBidCur, state.wallSec, state.test)) return this.pick(best, price, value);
        else state.moneyDrop = NoBidReason.BudgetExhausted;
      }
      prices[best] = 0;
    }
  }

  private pick(best: number, price: number, value: number): number {
    this.picked = best;
    this.impPrices[best] = price;
    return value;
  }

  /**
   * First-price bid shading (src/strategy/): the price that maximises (value - price) x
   * P(win | price) under the segment's learned win-rate model, never above the value, never
   * under the floor, never more than the arm's maxShade below the value. Second-price
   * auctions (at = 2, the default) and deals are bid at their value: shading them only
   * loses auctions (a second price already charges the clearing price; a deal's price is
   * agreed).
   */
  private shade(state: RequestState, cand: Candidate, value: number, row: number, usdToBidCur: number, segment: number): number {
    const c = this.shadingCounters;
    const params = state.assignment.shading!;
    if (state.req!.at !== 1 || cand.dealId !== undefined || this.winRates === null) {
      this.metrics.inc(c.notFirstPrice);
      return value;
    }
    const out = this.winRate;
    if (this.winRates.read(segment, params.minObservations, out) === kNoModel) {
      this.metrics.inc(c.noModel);
      return value;
    }
    // The floor in the bid currency, as priceCandidate holds it.
    const floorRate = this.rowFloorRate[row];
    const floor = this.rowFloor[row] > 0 ? ceil4((this.rowFloor[row] / floorRate) * usdToBidCur) : 0;
    let price = ceil4(shadePrice(value, floor, params.maxShade, out[kOutA], out[kOutC]));
    if (price > value) price = value;
    if (price < floor) price = floor;
    if (price < value) {
      this.metrics.inc(c.shaded);
      this.metrics.inc(c.saved, cpmMicros(value - price));
    } else this.metrics.inc(c.atValue);
    return price;
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
      cpmMicros(wins.price[k]), state.ctx!.currency, state.wallSec, state.test, state.hasUser ? state.user : null,
      state.assignment.label, this.models.label(state.model), wins.segment[k]);
  }

  private applyTestHooks(flags: number): void {
    if ((flags & kFlagTestCrash) !== 0) process.exit(70);
    const delay = flags >>> kDelayShift;
    if (delay > 0) Atomics.wait(kSleepCell, 0, 0, delay);
  }
}

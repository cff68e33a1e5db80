/**
 * The simulator's vocabulary in one place: the world it plays (segments, campaigns,
 * experiments), the options of a run, and the result a run hands back. Prices are CPMs in
 * USD unless a name says otherwise; money handed to the bidder is in integer units
 * (`*4` = ten-thousandths of a CPM, `*Micros` = micro-USD).
 */
import type { BidderConfig } from '../../src/config/config';

/** OpenRTB `at`: 1 first price, 2 second price plus. */
export type AuctionType = 1 | 2;

/** The log-normal of the highest competing bid in a segment: ln c ~ N(ln median, sigma²). */
export interface Competition {
  /** CPM USD; e^μ. */
  median: number;
  /** Standard deviation of ln c. */
  sigma: number;
}

/**
 * One slice of the traffic: a publisher's placement of one banner size. The simulator
 * knows its truth (competition, click-through rate); the bidder sees only the requests.
 */
export interface Segment {
  /** Unique; `${publisherId}-${w}x${h}` by default. */
  id: string;
  publisherId: string;
  /** The site's domain (also its page host). */
  domain: string;
  /** IAB content categories of the site. */
  cat: string[];
  w: number;
  h: number;
  /** Relative share of requests (any positive scale). */
  weight: number;
  /** The imp's bidfloor, CPM USD. */
  floor: number;
  competition: Competition;
  /** True click-through rate of an impression shown here. */
  ctr: number;
}

export type CampaignGoal = { type: 'CPC'; cpcUsd: number } | { type: 'CPM'; cpmUsd: number };

export interface CampaignBudget {
  dailyUsd?: number;
  totalUsd?: number;
  timezone?: string;
}

/**
 * A campaign of the simulator's own campaign file: it gets a banner creative in every size
 * of the world (docs/campaigns.md has the full format the bidder reads).
 */
export interface SimCampaign {
  id: string;
  goal: CampaignGoal;
  maxCpmUsd: number;
  /** Publishers it runs on (targeting.publisherIds); absent: everywhere. */
  publisherIds?: string[];
  budget?: CampaignBudget;
  pacing?: 'even' | 'asap';
}

/** The experiments file the bidder reads (config.experiments.file). */
export interface ExperimentsFile {
  experiments: ExperimentSpec[];
}

export interface ExperimentSpec {
  id: string;
  salt: string;
  unit: 'user' | 'request';
  arms: ExperimentArmSpec[];
}

export interface ExperimentArmSpec {
  id: string;
  weight: number;
  model?: string;
  strategy?: { shading?: { maxShade?: number } } & Record<string, unknown>;
  [key: string]: unknown;
}

/** Partial overrides of each section of the bidder's configuration. */
export type BidderOverrides = {
  [K in keyof BidderConfig]?: BidderConfig[K] extends object ? Partial<BidderConfig[K]> : BidderConfig[K];
};

export interface SimulationOptions {
  /** Everything the simulator draws follows from it. */
  seed: number;
  /** Distinct users (stable user.id); each request picks one uniformly, so users return. */
  users: number;
  /** Bid requests to send (the run also stops at maxDurationMs). */
  requests: number;
  /**
   * The first this many of `requests` are played but kept out of the books: the bidder
   * learns from them (shading's win-rate models, pacing) before what it does is measured.
   */
  warmupRequests: number;
  /** Requests in flight at once (each lane also fires its notices). Keep it small: 8. */
  concurrency: number;
  segments: Segment[];
  /** OpenRTB `at` of every request. */
  auctionType: AuctionType;
  /** Share of loss notices that carry ${AUCTION_MIN_TO_WIN}; the rest leave it empty. */
  minToWinShare: number;
  /** Request tmax, ms. */
  tmaxMs: number;
  campaigns: SimCampaign[];
  /** Budgets by campaign id, laid over the campaigns' own (`pacing` too). */
  budgets: Record<string, CampaignBudget & { pacing?: 'even' | 'asap' }>;
  /** Written to a file and handed to the bidder (experiments.file); null for none. */
  experiments: ExperimentsFile | null;
  /** Laid over the simulator's bidder configuration (loopback, ports 0, its own files). */
  bidder: BidderOverrides;
  /** Send no new request after this long (ms); the run then settles and stops. */
  maxDurationMs: number;
  /** Fire GET /notice/click for clicked wins. */
  clicks: boolean;
}

/** Figures of one experiment arm (or of every bid with the same arm claims). */
export interface ArmFigures {
  /** Requests of this arm: by the token of its bid, else by the arm its user was seen in. */
  requests: number;
  bids: number;
  wins: number;
  losses: number;
  clicks: number;
  /** Σ bid prices, CPM USD (over bids). */
  bidCpmSum: number;
  /** Σ true values of the impressions bid on, CPM USD (over bids). */
  valueCpmSum: number;
  /** Σ paid / 1000, USD. */
  spendUsd: number;
  /** What the bidder should have counted: Σ ceil(paid CPM micro-USD / 1000) per bill. */
  spendMicros: number;
  /** Σ value / 1000 over wins, USD (value: the campaign's true value of the impression, CPM). */
  valueUsd: number;
  /** Σ (value − paid) / 1000 over wins, USD. */
  surplusUsd: number;
  /** Σ P(win) over bids, from the known competition at each bid's price. */
  expectedWins: number;
  /** Σ P(win)(1 − P(win)): the variance of `wins` around `expectedWins`. */
  winsVariance: number;
  /** Σ E[paid]/1000 over bids, USD. */
  expectedSpendUsd: number;
  /** Σ E[value − paid]/1000 over bids, USD. */
  expectedSurplusUsd: number;
}

/** ArmFigures plus the ratios people read. */
export interface ArmSummary extends ArmFigures {
  bidRate: number;
  /** wins / bids. */
  winRate: number;
  /** Average bid price, CPM USD. */
  avgBidCpmUsd: number;
  /** Average bid / average true value over the bids: below 1 is shading (or a model that under-predicts). */
  bidToValue: number;
  /** Average paid CPM. */
  cpmUsd: number;
  /** valueUsd / spendUsd: the yardstick at equal spend (see README in bench/simulator). */
  valuePerDollar: number;
  /** surplusUsd / requests, USD. */
  surplusPerRequestUsd: number;
  /** clicks / wins. */
  ctr: number;
}

/** HTTP answers by status code ('0': no answer: a connection error or timeout). */
export type StatusCounts = Record<string, number>;

/** What the bidder itself counted (GET /metrics on its ops port, summed over campaigns). */
export interface BidderFigures {
  wins: number;
  bills: number;
  losses: number;
  spendMicros: number;
  /** True when its counts reached what the simulator fired before the run gave up waiting. */
  settled: boolean;
}

export interface SimulationResult {
  seed: number;
  startedAt: string;
  /** Wall time of the whole run, bidder start and stop included. */
  durationMs: number;
  /** Wall time of the traffic alone (first request to last notice). */
  trafficMs: number;
  /** True when maxDurationMs stopped the run before every request was sent. */
  truncated: boolean;
  options: Omit<SimulationOptions, 'bidder'> & { bidder: BidderOverrides };
  requests: {
    sent: number;
    /** 200 or 204. */
    answered: number;
    bids: number;
    /** 204 answers. */
    noBids: number;
    /** Answers by HTTP status ('0': none within the call timeout). */
    status: StatusCounts;
    /** Bids whose token could not be read (never expected). */
    badTokens: number;
  };
  notices: { win: StatusCounts; bill: StatusCounts; loss: StatusCounts; click: StatusCounts; refused: number };
  /** By the arm claim of the tokens ('' = no experiment; '?' = requests of users never seen in a bid). */
  arms: Record<string, ArmSummary>;
  /** By experiment, then arm (pairs `experimentId:armId` of the arm claims). */
  experiments: Record<string, Record<string, ArmSummary>>;
  /** By campaign id (of the tokens); `requests` counts its bids. */
  campaigns: Record<string, ArmSummary>;
  /** By segment id; `requests` counts every request of the segment. */
  segments: Record<string, ArmSummary>;
  bidder: BidderFigures;
}

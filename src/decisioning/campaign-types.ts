/**
 * Campaign file types: what `campaigns/*.json` holds once `parseCampaigns` has accepted it.
 * The file format is documented in docs/campaigns.md; keep the two in step.
 */

export type MediaType = 'banner' | 'video' | 'native' | 'audio';

export const MEDIA_TYPES: readonly MediaType[] = ['banner', 'video', 'native', 'audio'];

/** Pay per click: the bid is predicted CTR x cpcUsd x 1000 (a CPM). */
export interface CpcGoal {
  type: 'CPC';
  cpcUsd: number;
}

/** Pay per thousand impressions: the bid is cpmUsd, flat. */
export interface CpmGoal {
  type: 'CPM';
  cpmUsd: number;
}

export type Goal = CpcGoal | CpmGoal;

export interface BannerCreative {
  w: number;
  h: number;
  /** HTML markup returned as the bid's `adm`. */
  adm: string;
}

export interface VideoCreative {
  /** Inline VAST document; either this or `vastUrl`. */
  vastXml?: string;
  /** VAST tag URL; the bid carries a VAST wrapper pointing at it. */
  vastUrl?: string;
  durationSec: number;
  mimes: string[];
  /** OpenRTB protocol ids (2 = VAST 2.0, 3 = VAST 3.0, ...). */
  protocols: number[];
  w?: number;
  h?: number;
}

export interface NativeCreative {
  title: string;
  body?: string;
  imageUrl: string;
  imageW?: number;
  imageH?: number;
  iconUrl?: string;
  /** Icon size in pixels (both or neither; needs iconUrl); without it no sized icon asset fits. */
  iconW?: number;
  iconH?: number;
  sponsoredBy?: string;
  cta?: string;
  clickUrl: string;
  impressionTrackers?: string[];
}

export interface AudioCreative {
  vastXml: string;
  durationSec: number;
  mimes: string[];
}

export interface Creative {
  id: string;
  /** Exactly one of banner, video, native, audio is set. */
  banner?: BannerCreative;
  video?: VideoCreative;
  native?: NativeCreative;
  audio?: AudioCreative;
  /** OpenRTB creative attributes (List 5.3), matched against the impression's battr. */
  attr?: number[];
  /** Win, billing and loss notice URLs; OpenRTB macros such as ${AUCTION_PRICE} stay verbatim. */
  nurl?: string;
  burl?: string;
  lurl?: string;
}

export interface AllowDeny {
  allow?: string[];
  deny?: string[];
}

/** Every key is optional; an absent key means "no restriction on this dimension". */
export interface Targeting {
  /** ISO-3166-1 alpha-3, as OpenRTB `geo.country` carries it ("USA", "GBR"). */
  countries?: string[];
  /** Matched case-insensitively against `geo.region` as the exchange sends it. */
  regions?: string[];
  /** OpenRTB device types (List 5.21), matched exactly. */
  deviceTypes?: number[];
  /** Matched case-insensitively against `device.os`. */
  os?: string[];
  /** Site domains; a listed domain also covers its subdomains. */
  siteDomains?: AllowDeny;
  /** App bundles, matched case-insensitively. */
  appBundles?: AllowDeny;
  publisherIds?: string[];
  /** IAB content categories; "IAB3" also covers "IAB3-1" on the request side. */
  contentCategories?: string[];
  /** Ids matched against `user.data[].segment[].id`. */
  userSegments?: string[];
  impTypes?: MediaType[];
  /** "WxH" sizes a banner or video creative may serve in. */
  sizes?: string[];
}

/** A campaign's spend limits, in USD; the day is the local day of `timezone`. */
export interface CampaignBudget {
  dailyUsd?: number;
  totalUsd?: number;
  /** IANA time zone whose midnight starts the budget day; "UTC" when absent. */
  timezone: string;
}

/** At most `max` billed impressions per user in each fixed window of `windowSec` seconds. */
export interface FrequencyCap {
  max: number;
  windowSec: number;
}

/** `even` spreads the daily budget over the day by throttling participation; `asap` bids whenever it can. */
export type Pacing = 'even' | 'asap';

export interface Campaign {
  id: string;
  name: string;
  advertiserDomain: string;
  /** IAB content taxonomy ids describing the advertiser ("IAB3-1"); checked against bcat. */
  iabCategories: string[];
  goal: Goal;
  /** Hard ceiling on the bid CPM in USD. */
  maxCpmUsd: number;
  /** When true the campaign only bids through one of its `dealIds`. */
  dealOnly: boolean;
  dealIds: string[];
  /** Bundle of the app this campaign advertises (app-install); checked against bapp. */
  appBundle?: string;
  creatives: Creative[];
  targeting: Targeting;
  /** Absent: the campaign spends without limit (its spend is still counted). */
  budget?: CampaignBudget;
  /** Default "even"; only a daily budget is paced. */
  pacing: Pacing;
  /** Empty when the campaign caps nothing. */
  frequencyCaps: FrequencyCap[];
}

/**
 * One eligible (campaign, creative) pair for one impression. Open-auction candidates are
 * built once at load and shared, so treat them as read-only.
 */
export interface Candidate {
  readonly campaign: Campaign;
  readonly creative: Creative;
  readonly dealId?: string;
  /**
   * The deal's bidfloor in the deal's own currency. A deal bid answers to this floor alone;
   * 0 or absent means the deal sets none and the imp's floor governs.
   */
  readonly dealFloor?: number;
  /** Units of the deal floor's currency per 1 USD (1 for USD). */
  readonly dealFloorRate?: number;
  /** Deal `at` = 3 (fixed price): the bid is exactly `dealFloor`, if the campaign values the imp that high. */
  readonly fixedPrice?: boolean;
}

/** The slice of the bidder configuration that decisioning needs. */
export interface DecisionConfig {
  /** Units of the currency per 1 USD, e.g. { EUR: 0.92 }. USD needs no entry. */
  fxRates?: Readonly<Record<string, number>>;
  /**
   * Our seat id at the exchange: a request whose `wseat` omits it or whose `bseat` lists it
   * gets no bid, and a deal whose `wseat` omits it is not ours to bid on.
   */
  seatId?: string;
}

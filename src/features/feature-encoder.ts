/**
 * Hot-path feature encoding. Work is split by how often it changes:
 * - candidate keys (campaign/creative hashes) once, when campaigns load;
 * - request-level buckets once per request (`beginRequest`);
 * - imp-level buckets once per impression (`beginImp`);
 * - per candidate row only copies and two cross hashes (`writeRow`).
 * Nothing here allocates after construction.
 */
import type { BidRequest, Imp } from '../openrtb/types';
import { fieldSeed, hashInts2, hashInts3, hashString } from './hash';
import {
  CAT_WIDTH,
  FEATURE_SPEC,
  NUM_WIDTH,
  TOTAL_BUCKETS,
  PERSONAL_FEATURES,
  categoricalColumn,
  categoricalField,
  numericColumn,
  type CategoricalField,
} from './feature-spec';

export { CAT_WIDTH, NUM_WIDTH, TOTAL_BUCKETS };

export type MediaType = 'banner' | 'video' | 'native' | 'audio';

export interface CandidateFeatures {
  campaignId: string;
  advertiserDomain: string;
  iabCategory: string;
  creativeId: string;
  mediaType: MediaType;
  w?: number;
  h?: number;
}

/** Layout of CandidateKeys: bucket indices (already offset) then raw hashes for crosses. */
export const kCandCampaign = 0;
export const kCandCreative = 1;
export const kCandAdvertiserDomain = 2;
export const kCandIabCategory = 3;
export const kCandCampaignHash = 4;
export const kCandCreativeSizeHash = 5;
export const kCandidateKeysLength = 6;

/** Precomputed per (campaign, creative): see the kCand* layout. */
export type CandidateKeys = Int32Array;

interface FieldCtx {
  readonly col: number;
  readonly seed: number;
  readonly mask: number;
  readonly offset: number;
  readonly buckets: number;
  readonly foldCase: boolean;
}

function ctx(name: string): FieldCtx {
  const f: CategoricalField = categoricalField(name);
  if (f.encoding === 'hash' || f.encoding === 'cross') {
    if ((f.buckets & (f.buckets - 1)) !== 0) throw new Error(`${name}: bucket count must be a power of two`);
  }
  return {
    col: categoricalColumn(name),
    seed: fieldSeed(name),
    mask: f.buckets - 1,
    offset: f.offset,
    buckets: f.buckets,
    foldCase: f.foldCase,
  };
}

const F = {
  country: ctx('country'),
  region: ctx('region'),
  deviceType: ctx('device_type'),
  os: ctx('os'),
  siteOrApp: ctx('site_or_app'),
  publisher: ctx('publisher'),
  hour: ctx('hour'),
  connectionType: ctx('connection_type'),
  isApp: ctx('is_app'),
  impMedia: ctx('imp_media'),
  impSize: ctx('imp_size'),
  position: ctx('position'),
  campaign: ctx('campaign'),
  creative: ctx('creative'),
  advertiserDomain: ctx('advertiser_domain'),
  iabCategory: ctx('iab_category'),
  campaignXSite: ctx('campaign_x_site'),
  creativeSizeXDeviceType: ctx('creative_size_x_device_type'),
} as const;

const N = {
  logFloor: numericColumn('log_floor'),
  tmax: numericColumn('tmax'),
  isSecure: numericColumn('is_secure'),
  interstitial: numericColumn('interstitial'),
  hasIfa: numericColumn('has_ifa'),
  limitedTracking: numericColumn('limited_tracking'),
  hourSin: numericColumn('hour_sin'),
  hourCos: numericColumn('hour_cos'),
} as const;

// The encoder must implement every field of the spec and nothing else; a spec edit without
// an encoder edit fails at load rather than producing silently misaligned columns.
if (Object.keys(F).length !== CAT_WIDTH || Object.keys(N).length !== NUM_WIDTH) {
  throw new Error('feature encoder and FEATURE_SPEC disagree on the field list');
}

/** Columns filled from request/imp state (everything but candidate and cross columns). */
const CONTEXT_COLUMNS = Int32Array.from(
  [F.country, F.region, F.deviceType, F.os, F.siteOrApp, F.publisher, F.hour, F.connectionType, F.isApp, F.impMedia, F.impSize, F.position].map((f) => f.col),
);

/**
 * Personal features (feature-spec.ts PERSONAL_FEATURES) as columns and the value each takes
 * when user data is not allowed: 0 for a numeric field, the "missing" bucket for a
 * categorical one, which is what the model saw for requests without the identifier.
 */
const PERSONAL_NUM_COLUMNS = Int32Array.from(
  PERSONAL_FEATURES.filter((n) => FEATURE_SPEC.numeric.some((f) => f.name === n)).map((n) => numericColumn(n)),
);
const PERSONAL_CAT_FIELDS = PERSONAL_FEATURES.filter((n) => FEATURE_SPEC.categorical.some((f) => f.name === n)).map((n) => {
  const f = categoricalField(n);
  // A cross mixes raw hashes in writeRow; blanking its bucket here would not reach it.
  if (f.encoding === 'cross') throw new Error(`${n}: a cross cannot be personal; mark the field it crosses`);
  const missing = f.encoding === 'enum' ? f.offset : (hashString(fieldSeed(n), '', f.foldCase) & (f.buckets - 1)) + f.offset;
  return { col: categoricalColumn(n), missing };
});
if (PERSONAL_NUM_COLUMNS.length + PERSONAL_CAT_FIELDS.length !== PERSONAL_FEATURES.length) {
  throw new Error('PERSONAL_FEATURES names a field FEATURE_SPEC does not have');
}

const CREATIVE_SIZE_SEED = fieldSeed('creative_size');
const MEDIA_CODE: Readonly<Record<MediaType, number>> = { banner: 1, video: 2, audio: 3, native: 4 };
const ZERO_IFA = '00000000-0000-0000-0000-000000000000';
const MS_PER_HOUR = 3_600_000;
const TWO_PI_OVER_24 = (2 * Math.PI) / 24;

function hashBucket(f: FieldCtx, value: unknown): number {
  const s = typeof value === 'string' ? value : '';
  return (hashString(f.seed, s, f.foldCase) & f.mask) + f.offset;
}

/** 0 = missing, small non-negative integer v -> v + 1, anything else -> the last bucket. */
export function enumCode(value: unknown, buckets: number): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > buckets - 3) return buckets - 1;
  return value + 1;
}

function enumBucket(f: FieldCtx, value: unknown): number {
  return enumCode(value, f.buckets) + f.offset;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function positiveInt(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v | 0 : 0;
}

export class FeatureEncoder {
  /** Request- and imp-level buckets, at their `cat` columns; other slots unused. */
  private readonly context = new Int32Array(CAT_WIDTH);
  /** The numeric row shared by every candidate of the current imp. */
  private readonly numeric = new Float32Array(NUM_WIDTH);
  private siteHash = 0;
  private deviceTypeCode = 0;

  static candidateKeys(c: CandidateFeatures): CandidateKeys {
    const keys = new Int32Array(kCandidateKeysLength);
    const campaignHash = hashString(F.campaign.seed, c.campaignId, F.campaign.foldCase);
    keys[kCandCampaign] = (campaignHash & F.campaign.mask) + F.campaign.offset;
    keys[kCandCreative] = hashBucket(F.creative, c.creativeId);
    keys[kCandAdvertiserDomain] = hashBucket(F.advertiserDomain, c.advertiserDomain);
    keys[kCandIabCategory] = hashBucket(F.iabCategory, c.iabCategory);
    keys[kCandCampaignHash] = campaignHash | 0;
    keys[kCandCreativeSizeHash] = hashInts3(CREATIVE_SIZE_SEED, MEDIA_CODE[c.mediaType] ?? 0, positiveInt(c.w), positiveInt(c.h)) | 0;
    return keys;
  }

  /**
   * Hash request-level fields once; `nowMs` is the batch clock, not read per call.
   * `personal` false writes every personal feature as absent (PERSONAL_FEATURES): the bid
   * path passes the request context's ifaAllowed, false when the privacy signals forbid
   * user data or when lmt/dnt forbids the IFA.
   */
  beginRequest(req: BidRequest, nowMs: number, personal = true): void {
    const cx = this.context;
    const device = req.device;
    const geo = device?.geo;
    const ugeo = req.user?.geo;
    cx[F.country.col] = hashBucket(F.country, str(geo?.country) ?? ugeo?.country);
    cx[F.region.col] = hashBucket(F.region, str(geo?.region) ?? ugeo?.region);
    this.deviceTypeCode = enumCode(device?.devicetype, F.deviceType.buckets);
    cx[F.deviceType.col] = this.deviceTypeCode + F.deviceType.offset;
    cx[F.os.col] = hashBucket(F.os, device?.os);

    const site = req.site;
    const app = req.app;
    const siteKey = str(site?.domain) ?? str(app?.bundle) ?? '';
    this.siteHash = hashString(F.siteOrApp.seed, siteKey, F.siteOrApp.foldCase);
    cx[F.siteOrApp.col] = (this.siteHash & F.siteOrApp.mask) + F.siteOrApp.offset;
    cx[F.publisher.col] = hashBucket(F.publisher, str(site?.publisher?.id) ?? app?.publisher?.id);

    // Local hour when the exchange gives a UTC offset (minutes): CTR follows the user's day.
    const offsetMin = typeof geo?.utcoffset === 'number' && Number.isFinite(geo.utcoffset) ? geo.utcoffset : 0;
    let hour = Math.floor((nowMs + offsetMin * 60_000) / MS_PER_HOUR) % 24;
    if (hour < 0) hour += 24;
    if (!(hour >= 0 && hour < 24)) hour = 0;
    cx[F.hour.col] = enumBucket(F.hour, hour);
    cx[F.connectionType.col] = enumBucket(F.connectionType, device?.connectiontype);
    cx[F.isApp.col] = enumBucket(F.isApp, app !== undefined && app !== null ? 1 : site !== undefined && site !== null ? 0 : undefined);

    const num = this.numeric;
    const tmax = req.tmax;
    num[N.tmax] = typeof tmax === 'number' && tmax > 0 ? Math.min(tmax, 1000) / 1000 : 0;
    const ifa = device?.ifa;
    num[N.hasIfa] = typeof ifa === 'string' && ifa.length > 0 && ifa !== ZERO_IFA ? 1 : 0;
    num[N.limitedTracking] = device?.lmt === 1 || device?.dnt === 1 ? 1 : 0;
    num[N.hourSin] = Math.sin(hour * TWO_PI_OVER_24);
    num[N.hourCos] = Math.cos(hour * TWO_PI_OVER_24);
    if (!personal) {
      for (let i = 0; i < PERSONAL_NUM_COLUMNS.length; i++) num[PERSONAL_NUM_COLUMNS[i]!] = 0;
      for (let i = 0; i < PERSONAL_CAT_FIELDS.length; i++) cx[PERSONAL_CAT_FIELDS[i]!.col] = PERSONAL_CAT_FIELDS[i]!.missing;
    }
  }

  /** Bucket imp-level fields once per impression; `floorUsd` is the floor after currency conversion. */
  beginImp(imp: Imp, floorUsd: number): void {
    const cx = this.context;
    const banner = imp.banner;
    const video = imp.video;
    const mask = (banner ? 1 : 0) | (video ? 2 : 0) | (imp.audio ? 4 : 0) | (imp.native ? 8 : 0);
    cx[F.impMedia.col] = enumBucket(F.impMedia, mask);

    let w = 0;
    let h = 0;
    if (banner) {
      w = positiveInt(banner.w);
      h = positiveInt(banner.h);
      if ((w === 0 || h === 0) && banner.format !== undefined && banner.format.length > 0) {
        w = positiveInt(banner.format[0]?.w);
        h = positiveInt(banner.format[0]?.h);
      }
    }
    if ((w === 0 || h === 0) && video) {
      w = positiveInt(video.w);
      h = positiveInt(video.h);
    }
    cx[F.impSize.col] = (hashInts2(F.impSize.seed, w, h) & F.impSize.mask) + F.impSize.offset;
    cx[F.position.col] = enumBucket(F.position, banner?.pos);

    const num = this.numeric;
    num[N.logFloor] = floorUsd > 0 ? Math.log1p(floorUsd) : 0;
    num[N.isSecure] = imp.secure === 1 ? 1 : 0;
    num[N.interstitial] = imp.instl === 1 ? 1 : 0;
  }

  /** Fill row `row` of `cat` [rows x CAT_WIDTH] and `num` [rows x NUM_WIDTH]. */
  writeRow(keys: CandidateKeys, cat: Int32Array, num: Float32Array, row: number): void {
    const cb = row * CAT_WIDTH;
    const cx = this.context;
    for (let i = 0; i < CONTEXT_COLUMNS.length; i++) {
      const col = CONTEXT_COLUMNS[i]!;
      cat[cb + col] = cx[col]!;
    }
    cat[cb + F.campaign.col] = keys[kCandCampaign]!;
    cat[cb + F.creative.col] = keys[kCandCreative]!;
    cat[cb + F.advertiserDomain.col] = keys[kCandAdvertiserDomain]!;
    cat[cb + F.iabCategory.col] = keys[kCandIabCategory]!;
    const cxs = F.campaignXSite;
    cat[cb + cxs.col] = (hashInts2(cxs.seed, keys[kCandCampaignHash]!, this.siteHash) & cxs.mask) + cxs.offset;
    const cxd = F.creativeSizeXDeviceType;
    cat[cb + cxd.col] = (hashInts2(cxd.seed, keys[kCandCreativeSizeHash]!, this.deviceTypeCode) & cxd.mask) + cxd.offset;

    const nb = row * NUM_WIDTH;
    const n = this.numeric;
    for (let i = 0; i < NUM_WIDTH; i++) num[nb + i] = n[i]!;
  }
}

export { FEATURE_SPEC };

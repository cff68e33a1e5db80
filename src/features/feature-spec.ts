/**
 * The feature specification as data. Training, model building and serving all read this one
 * object; the manifest carries its digest and the model loader refuses a model built against
 * any other spec, so the hashed index space cannot silently drift between them.
 *
 * Changing anything here (a bucket count, an order, a transform) changes the digest and
 * therefore requires rebuilding the models (`npm run models`).
 */
import { createHash } from 'node:crypto';

/**
 * How a categorical value becomes a bucket:
 * - `hash`: 32-bit hash of the value seeded by the field name, masked to the bucket count.
 * - `enum`: small integer codes map directly (0 = missing, v -> v + 1, too large -> last bucket),
 *   so that a handful of values never collide.
 * - `cross`: the raw hashes of the two named fields mixed with the cross's own seed.
 */
export type CategoricalEncoding = 'hash' | 'enum' | 'cross';

export type FeatureLevel = 'request' | 'imp' | 'candidate' | 'cross';

export interface CategoricalField {
  readonly name: string;
  readonly level: FeatureLevel;
  /** The request or candidate field(s) read, in order of preference. */
  readonly source: readonly string[];
  readonly encoding: CategoricalEncoding;
  /** Fold ASCII letters to lower case before hashing. */
  readonly foldCase: boolean;
  /** Power of two, so that a bucket is `hash & (buckets - 1)`. */
  readonly buckets: number;
  /** Start of this field's range in the shared index space [0, totalBuckets). */
  readonly offset: number;
}

export interface NumericField {
  readonly name: string;
  readonly level: 'request' | 'imp';
  readonly source: readonly string[];
  /** Human-readable but exact: the encoder implements precisely this. */
  readonly transform: string;
}

export interface FeatureSpec {
  readonly version: string;
  readonly hash: string;
  readonly totalBuckets: number;
  readonly categorical: readonly CategoricalField[];
  readonly numeric: readonly NumericField[];
}

type CategoricalDef = Omit<CategoricalField, 'offset'>;

const CATEGORICAL_DEFS: readonly CategoricalDef[] = [
  { name: 'country', level: 'request', source: ['device.geo.country', 'user.geo.country'], encoding: 'hash', foldCase: true, buckets: 1024 },
  { name: 'region', level: 'request', source: ['device.geo.region', 'user.geo.region'], encoding: 'hash', foldCase: true, buckets: 4096 },
  { name: 'device_type', level: 'request', source: ['device.devicetype'], encoding: 'enum', foldCase: false, buckets: 16 },
  { name: 'os', level: 'request', source: ['device.os'], encoding: 'hash', foldCase: true, buckets: 256 },
  { name: 'site_or_app', level: 'request', source: ['site.domain', 'app.bundle'], encoding: 'hash', foldCase: true, buckets: 16384 },
  { name: 'publisher', level: 'request', source: ['site.publisher.id', 'app.publisher.id'], encoding: 'hash', foldCase: false, buckets: 4096 },
  { name: 'hour', level: 'request', source: ['nowMs', 'device.geo.utcoffset'], encoding: 'enum', foldCase: false, buckets: 32 },
  { name: 'connection_type', level: 'request', source: ['device.connectiontype'], encoding: 'enum', foldCase: false, buckets: 16 },
  { name: 'is_app', level: 'request', source: ['app'], encoding: 'enum', foldCase: false, buckets: 4 },
  { name: 'imp_media', level: 'imp', source: ['imp.banner', 'imp.video', 'imp.native', 'imp.audio'], encoding: 'enum', foldCase: false, buckets: 32 },
  { name: 'imp_size', level: 'imp', source: ['imp.banner.w,h', 'imp.banner.format[0].w,h', 'imp.video.w,h'], encoding: 'hash', foldCase: false, buckets: 1024 },
  { name: 'position', level: 'imp', source: ['imp.banner.pos'], encoding: 'enum', foldCase: false, buckets: 16 },
  { name: 'campaign', level: 'candidate', source: ['campaignId'], encoding: 'hash', foldCase: false, buckets: 4096 },
  { name: 'creative', level: 'candidate', source: ['creativeId'], encoding: 'hash', foldCase: false, buckets: 8192 },
  { name: 'advertiser_domain', level: 'candidate', source: ['advertiserDomain'], encoding: 'hash', foldCase: true, buckets: 2048 },
  { name: 'iab_category', level: 'candidate', source: ['iabCategory'], encoding: 'hash', foldCase: true, buckets: 512 },
  { name: 'campaign_x_site', level: 'cross', source: ['campaign', 'site_or_app'], encoding: 'cross', foldCase: false, buckets: 16384 },
  { name: 'creative_size_x_device_type', level: 'cross', source: ['creative.mediaType,w,h', 'device_type'], encoding: 'cross', foldCase: false, buckets: 2048 },
];

const NUMERIC_FIELDS: readonly NumericField[] = [
  { name: 'log_floor', level: 'imp', source: ['floorUsd'], transform: 'log1p(max(0, floorUsd))' },
  { name: 'tmax', level: 'request', source: ['tmax'], transform: 'min(tmax, 1000) / 1000; missing or non-positive -> 0' },
  { name: 'is_secure', level: 'imp', source: ['imp.secure'], transform: 'imp.secure === 1 ? 1 : 0' },
  { name: 'interstitial', level: 'imp', source: ['imp.instl'], transform: 'imp.instl === 1 ? 1 : 0' },
  { name: 'has_ifa', level: 'request', source: ['device.ifa'], transform: 'non-empty and not the all-zero UUID ? 1 : 0' },
  { name: 'limited_tracking', level: 'request', source: ['device.lmt', 'device.dnt'], transform: 'lmt === 1 || dnt === 1 ? 1 : 0' },
  { name: 'hour_sin', level: 'request', source: ['hour'], transform: 'sin(2 * pi * hour / 24)' },
  { name: 'hour_cos', level: 'request', source: ['hour'], transform: 'cos(2 * pi * hour / 24)' },
];

function withOffsets(defs: readonly CategoricalDef[]): CategoricalField[] {
  let offset = 0;
  return defs.map((d) => {
    const f: CategoricalField = { ...d, offset };
    offset += d.buckets;
    return f;
  });
}

const CATEGORICAL = withOffsets(CATEGORICAL_DEFS);

export const FEATURE_SPEC: FeatureSpec = deepFreeze({
  version: '1.0.0',
  hash: 'fnv1a32-utf16-fmix32',
  totalBuckets: CATEGORICAL.reduce((s, f) => s + f.buckets, 0),
  categorical: CATEGORICAL,
  numeric: NUMERIC_FIELDS,
});

/**
 * Fields derived from user or device identifiers (device.ifa, user.id, buyeruid, eids) or
 * precise location (geo.lat/lon). The encoder writes them as "absent" when the request's
 * privacy signals forbid user data (src/privacy): a child (COPPA), no GDPR consent, an
 * opt-out of sale, or lmt/dnt for the IFA. Kept outside FEATURE_SPEC on purpose: the list
 * is serving policy, not model input layout, so it leaves the spec digest (and the models
 * built against it) unchanged. Country, region, hour and limited_tracking are coarse
 * context, not identifiers, and stay.
 */
export const PERSONAL_FEATURES: readonly string[] = Object.freeze(['has_ifa']);

/** Request fields that identify a user or a device, or locate one precisely: a feature reading one is personal. */
export const PERSONAL_SOURCES: readonly string[] = Object.freeze([
  'device.ifa',
  'device.dpidsha1',
  'device.dpidmd5',
  'device.didsha1',
  'device.didmd5',
  'device.macsha1',
  'device.macmd5',
  'device.ip',
  'device.ipv6',
  'device.geo.lat',
  'device.geo.lon',
  'user.id',
  'user.buyeruid',
  'user.eids',
  'user.yob',
  'user.gender',
  'user.keywords',
  'user.data',
  'user.geo.lat',
  'user.geo.lon',
]);

/** Columns of the `cat` input matrix: one per categorical field, in spec order. */
export const CAT_WIDTH: number = FEATURE_SPEC.categorical.length;
/** Columns of the `num` input matrix: one per numeric field, in spec order. */
export const NUM_WIDTH: number = FEATURE_SPEC.numeric.length;
/** Size of the shared hashed index space; every `cat` value lies in [0, TOTAL_BUCKETS). */
export const TOTAL_BUCKETS: number = FEATURE_SPEC.totalBuckets;

/** JSON with object keys sorted, so the digest depends on content, not on key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function featureSpecDigestOf(spec: FeatureSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}

let cachedDigest: string | undefined;

/** sha256 (hex) of the canonical JSON of FEATURE_SPEC. */
export function featureSpecDigest(): string {
  if (cachedDigest === undefined) cachedDigest = featureSpecDigestOf(FEATURE_SPEC);
  return cachedDigest;
}

export function categoricalField(name: string): CategoricalField {
  const f = FEATURE_SPEC.categorical.find((c) => c.name === name);
  if (f === undefined) throw new Error(`feature spec has no categorical field ${name}`);
  return f;
}

export function categoricalColumn(name: string): number {
  return FEATURE_SPEC.categorical.indexOf(categoricalField(name));
}

export function numericColumn(name: string): number {
  const i = FEATURE_SPEC.numeric.findIndex((n) => n.name === name);
  if (i < 0) throw new Error(`feature spec has no numeric field ${name}`);
  return i;
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

/**
 * Reads and validates a campaign file as a whole: every problem is collected with its path
 * (`campaigns[3].creatives[0].banner.w: must be a positive integer`) so an operator fixes
 * the file in one pass. Runs at load, never per request.
 */
import { readFileSync } from 'node:fs';
import { validTimezone } from '../money/budget-day';
import type {
  AllowDeny,
  CampaignBudget,
  FrequencyCap,
  Pacing,
  AudioCreative,
  BannerCreative,
  Campaign,
  Creative,
  Goal,
  MediaType,
  NativeCreative,
  Targeting,
  VideoCreative,
} from './campaign-types';
import { MEDIA_TYPES } from './campaign-types';

export type ParseResult = { ok: true; campaigns: Campaign[] } | { ok: false; errors: string[] };

const CAMPAIGN_KEYS = new Set([
  'id', 'name', 'advertiserDomain', 'iabCategories', 'goal', 'maxCpmUsd', 'dealOnly', 'dealIds',
  'appBundle', 'creatives', 'targeting', 'budget', 'pacing', 'frequencyCaps',
]);
const BUDGET_KEYS = new Set(['dailyUsd', 'totalUsd', 'timezone']);
const CAP_KEYS = new Set(['max', 'windowSec']);
/** The longest cap window: 30 days (Redis keeps each window's counter for its length). */
const kMaxCapWindowSec = 30 * 86_400;
const CREATIVE_KEYS = new Set(['id', 'banner', 'video', 'native', 'audio', 'attr', 'nurl', 'burl', 'lurl']);
const TARGETING_KEYS = new Set([
  'countries', 'regions', 'deviceTypes', 'os', 'siteDomains', 'appBundles', 'publisherIds',
  'contentCategories', 'userSegments', 'impTypes', 'sizes',
]);
const BANNER_KEYS = new Set(['w', 'h', 'adm']);
const VIDEO_KEYS = new Set(['vastXml', 'vastUrl', 'durationSec', 'mimes', 'protocols', 'w', 'h']);
const NATIVE_KEYS = new Set([
  'title', 'body', 'imageUrl', 'imageW', 'imageH', 'iconUrl', 'iconW', 'iconH', 'sponsoredBy', 'cta', 'clickUrl',
  'impressionTrackers',
]);
const AUDIO_KEYS = new Set(['vastXml', 'durationSec', 'mimes']);
const ALLOW_DENY_KEYS = new Set(['allow', 'deny']);
const MEDIA_SET: ReadonlySet<string> = new Set(MEDIA_TYPES);

const ALPHA3 = /^[A-Z]{3}$/;
const IAB_CATEGORY = /^IAB\d+(-\d+)?$/;
const SIZE = /^[1-9]\d*x[1-9]\d*$/;
const DOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i;

type Obj = Record<string, unknown>;

/** Collects errors; every check returns the accepted value or undefined. */
class Checker {
  readonly errors: string[] = [];

  fail(path: string, msg: string): undefined {
    this.errors.push(`${path}: ${msg}`);
    return undefined;
  }

  object(v: unknown, path: string): Obj | undefined {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.fail(path, 'must be an object');
    return v as Obj;
  }

  unknownKeys(o: Obj, allowed: ReadonlySet<string>, path: string): void {
    for (const k of Object.keys(o)) if (!allowed.has(k)) this.fail(`${path}.${k}`, 'unknown key');
  }

  string(v: unknown, path: string): string | undefined {
    if (typeof v !== 'string' || v.trim() === '') return this.fail(path, 'must be a non-empty string');
    return v;
  }

  optString(o: Obj, k: string, path: string): string | undefined {
    return o[k] === undefined ? undefined : this.string(o[k], `${path}.${k}`);
  }

  positiveNumber(v: unknown, path: string): number | undefined {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return this.fail(path, 'must be a positive number');
    return v;
  }

  positiveInt(v: unknown, path: string): number | undefined {
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) return this.fail(path, 'must be a positive integer');
    return v;
  }

  optPositiveInt(o: Obj, k: string, path: string): number | undefined {
    return o[k] === undefined ? undefined : this.positiveInt(o[k], `${path}.${k}`);
  }

  /** Array whose items each pass `item`; `nonEmpty` rejects []. */
  array<T>(v: unknown, path: string, nonEmpty: boolean, item: (x: unknown, p: string) => T | undefined): T[] | undefined {
    if (!Array.isArray(v)) return this.fail(path, 'must be an array');
    if (nonEmpty && v.length === 0) return this.fail(path, 'must not be empty');
    const out: T[] = [];
    let bad = false;
    for (let i = 0; i < v.length; i++) {
      const x = item(v[i], `${path}[${i}]`);
      if (x === undefined) bad = true;
      else out.push(x);
    }
    return bad ? undefined : out;
  }

  stringArray(v: unknown, path: string, nonEmpty: boolean, pattern?: RegExp, patternMsg?: string): string[] | undefined {
    return this.array(v, path, nonEmpty, (x, p) => {
      const s = this.string(x, p);
      if (s !== undefined && pattern !== undefined && !pattern.test(s)) return this.fail(p, patternMsg ?? 'has a bad format');
      return s;
    });
  }

  intArray(v: unknown, path: string, nonEmpty: boolean): number[] | undefined {
    return this.array(v, path, nonEmpty, (x, p) => {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) return this.fail(p, 'must be a non-negative integer');
      return x;
    });
  }
}

export function parseCampaigns(json: unknown): ParseResult {
  const c = new Checker();
  const root = c.object(json, '$');
  if (root === undefined) return { ok: false, errors: c.errors };
  for (const k of Object.keys(root)) if (k !== 'campaigns' && k !== '$schema' && k !== 'comment') c.fail(k, 'unknown key');
  const list = root.campaigns;
  if (!Array.isArray(list)) {
    c.fail('campaigns', 'must be an array');
    return { ok: false, errors: c.errors };
  }
  const campaigns: Campaign[] = [];
  const seenCampaign = new Map<string, number>();
  const seenCreative = new Map<string, string>();
  for (let i = 0; i < list.length; i++) {
    const path = `campaigns[${i}]`;
    const camp = parseCampaign(c, list[i], path);
    const rawId = (list[i] as Obj | null)?.id;
    if (typeof rawId === 'string') {
      const prev = seenCampaign.get(rawId);
      if (prev !== undefined) c.fail(`${path}.id`, `duplicate campaign id "${rawId}" (also campaigns[${prev}])`);
      else seenCampaign.set(rawId, i);
    }
    if (camp === undefined) continue;
    for (let j = 0; j < camp.creatives.length; j++) {
      const crid = camp.creatives[j].id;
      const prev = seenCreative.get(crid);
      // crid must identify one creative across the file: exchanges audit and block by it.
      if (prev !== undefined) c.fail(`${path}.creatives[${j}].id`, `duplicate creative id "${crid}" (also ${prev})`);
      else seenCreative.set(crid, `${path}.creatives[${j}]`);
    }
    campaigns.push(camp);
  }
  return c.errors.length === 0 ? { ok: true, campaigns } : { ok: false, errors: c.errors };
}

function parseCampaign(c: Checker, v: unknown, path: string): Campaign | undefined {
  const o = c.object(v, path);
  if (o === undefined) return undefined;
  const before = c.errors.length;
  c.unknownKeys(o, CAMPAIGN_KEYS, path);
  const id = c.string(o.id, `${path}.id`);
  const name = c.string(o.name, `${path}.name`);
  let advertiserDomain = c.string(o.advertiserDomain, `${path}.advertiserDomain`);
  if (advertiserDomain !== undefined && !DOMAIN.test(advertiserDomain)) {
    advertiserDomain = c.fail(`${path}.advertiserDomain`, 'must be a domain name like "example.com"');
  }
  const iabCategories = c.stringArray(o.iabCategories, `${path}.iabCategories`, true, IAB_CATEGORY, 'must be an IAB category id like "IAB3-1"');
  const goal = parseGoal(c, o.goal, `${path}.goal`);
  const maxCpmUsd = c.positiveNumber(o.maxCpmUsd, `${path}.maxCpmUsd`);
  let dealOnly: boolean | undefined = false;
  if (o.dealOnly !== undefined && typeof o.dealOnly !== 'boolean') dealOnly = c.fail(`${path}.dealOnly`, 'must be a boolean');
  else if (o.dealOnly === true) dealOnly = true;
  const dealIds = o.dealIds === undefined ? [] : c.stringArray(o.dealIds, `${path}.dealIds`, false);
  if (dealOnly === true && dealIds !== undefined && dealIds.length === 0) c.fail(`${path}.dealIds`, 'must not be empty when dealOnly is true');
  const appBundle = c.optString(o, 'appBundle', path);
  const creatives = c.array(o.creatives, `${path}.creatives`, true, (x, p) => parseCreative(c, x, p));
  const targeting = o.targeting === undefined ? {} : parseTargeting(c, o.targeting, `${path}.targeting`);
  if (goal !== undefined && goal.type === 'CPM' && maxCpmUsd !== undefined && goal.cpmUsd > maxCpmUsd) {
    c.fail(`${path}.goal.cpmUsd`, 'must not exceed maxCpmUsd');
  }
  if (creatives !== undefined && targeting?.impTypes !== undefined) {
    const types = new Set(targeting.impTypes);
    if (!creatives.some((cr) => types.has(mediaOf(cr)))) c.fail(`${path}.targeting.impTypes`, 'excludes every creative of the campaign');
  }
  const budget = o.budget === undefined ? undefined : parseBudget(c, o.budget, `${path}.budget`);
  let pacing: Pacing | undefined = 'even';
  if (o.pacing !== undefined && o.pacing !== 'even' && o.pacing !== 'asap') pacing = c.fail(`${path}.pacing`, 'must be "even" or "asap"');
  else if (o.pacing === 'asap') pacing = 'asap';
  const frequencyCaps = o.frequencyCaps === undefined ? [] : c.array(o.frequencyCaps, `${path}.frequencyCaps`, false, (x, p) => parseCap(c, x, p));
  if (c.errors.length !== before) return undefined;
  const campaign: Campaign = {
    id: id!, name: name!, advertiserDomain: advertiserDomain!, iabCategories: iabCategories!, goal: goal!,
    maxCpmUsd: maxCpmUsd!, dealOnly: dealOnly!, dealIds: dealIds!, creatives: creatives!, targeting: targeting!,
    pacing: pacing!, frequencyCaps: frequencyCaps!,
  };
  if (appBundle !== undefined) campaign.appBundle = appBundle;
  if (budget !== undefined) campaign.budget = budget;
  return campaign;
}

function parseBudget(c: Checker, v: unknown, path: string): CampaignBudget | undefined {
  const o = c.object(v, path);
  if (o === undefined) return undefined;
  const before = c.errors.length;
  c.unknownKeys(o, BUDGET_KEYS, path);
  const dailyUsd = o.dailyUsd === undefined ? undefined : c.positiveNumber(o.dailyUsd, `${path}.dailyUsd`);
  const totalUsd = o.totalUsd === undefined ? undefined : c.positiveNumber(o.totalUsd, `${path}.totalUsd`);
  if (o.dailyUsd === undefined && o.totalUsd === undefined) c.fail(path, 'must have dailyUsd, totalUsd or both');
  let timezone = o.timezone === undefined ? 'UTC' : c.string(o.timezone, `${path}.timezone`);
  if (timezone !== undefined && !validTimezone(timezone)) timezone = c.fail(`${path}.timezone`, `"${timezone}" is not an IANA time zone`);
  if (c.errors.length !== before) return undefined;
  const budget: CampaignBudget = { timezone: timezone! };
  if (dailyUsd !== undefined) budget.dailyUsd = dailyUsd;
  if (totalUsd !== undefined) budget.totalUsd = totalUsd;
  return budget;
}

function parseCap(c: Checker, v: unknown, path: string): FrequencyCap | undefined {
  const o = c.object(v, path);
  if (o === undefined) return undefined;
  const before = c.errors.length;
  c.unknownKeys(o, CAP_KEYS, path);
  const max = c.positiveInt(o.max, `${path}.max`);
  const windowSec = c.positiveInt(o.windowSec, `${path}.windowSec`);
  if (windowSec !== undefined && windowSec > kMaxCapWindowSec) c.fail(`${path}.windowSec`, `must be at most ${kMaxCapWindowSec} (30 days)`);
  return c.errors.length === before ? { max: max!, windowSec: windowSec! } : undefined;
}

function parseGoal(c: Checker, v: unknown, path: string): Goal | undefined {
  const o = c.object(v, path);
  if (o === undefined) return undefined;
  if (o.type === 'CPC') {
    c.unknownKeys(o, new Set(['type', 'cpcUsd']), path);
    const cpcUsd = c.positiveNumber(o.cpcUsd, `${path}.cpcUsd`);
    return cpcUsd === undefined ? undefined : { type: 'CPC', cpcUsd };
  }
  if (o.type === 'CPM') {
    c.unknownKeys(o, new Set(['type', 'cpmUsd']), path);
    const cpmUsd = c.positiveNumber(o.cpmUsd, `${path}.cpmUsd`);
    return cpmUsd === undefined ? undefined : { type: 'CPM', cpmUsd };
  }
  return c.fail(`${path}.type`, 'must be "CPC" or "CPM"');
}

export function mediaOf(cr: Creative): MediaType {
  if (cr.banner !== undefined) return 'banner';
  if (cr.video !== undefined) return 'video';
  if (cr.native !== undefined) return 'native';
  return 'audio';
}

function parseCreative(c: Checker, v: unknown, path: string): Creative | undefined {
  const o = c.object(v, path);
  if (o === undefined) return undefined;
  const before = c.errors.length;
  c.unknownKeys(o, CREATIVE_KEYS, path);
  const id = c.string(o.id, `${path}.id`);
  const kinds = MEDIA_TYPES.filter((k) => o[k] !== undefined);
  if (kinds.length !== 1) c.fail(path, `must have exactly one of banner, video, native, audio (has ${kinds.length})`);
  const cr: Partial<Creative> = { id };
  if (o.banner !== undefined) cr.banner = parseBanner(c, o.banner, `${path}.banner`);
  if (o.video !== undefined) cr.video = parseVideo(c, o.video, `${path}.video`);
  if (o.native !== undefined) cr.native = parseNative(c, o.native, `${path}.native`);
  if (o.audio !== undefined) cr.audio = parseAudio(c, o.audio, `${path}.audio`);
  if (o.attr !== undefined) cr.attr = c.intArray(o.attr, `${path}.attr`, false);
  for (const k of ['nurl', 'burl', 'lurl'] as const) {
    const u = c.optString(o, k, path);
    if (u !== undefined && !/^https?:\/\//.test(u)) c.fail(`${path}.${k}`, 'must be an http(s) URL');
    else if (u !== undefined) cr[k] = u;
  }
  return c.errors.length === before ? (cr as Creative) : undefined;
}

function parseBanner(c: Checker, v: unknown, path: string): BannerCreative | undefined {
  const o = c.object(v, path);
  if (o === undefined) return undefined;
  c.unknownKeys(o, BANNER_KEYS, path);
  const w = c.positiveInt(o.w, `${path}.w`);
  const h = c.positiveInt(o.h, `${path}.h`);
  const adm = c.string(o.adm, `${path}.adm`);
  return w === undefined || h === undefined || adm === undefined ? undefined : { w, h, adm };
}

function parseVideo(c: Checker, v: unknown, path: string): VideoCreative | undefined {
  const o = c.object(v, path);
  if (o === undefined) return undefined;
  const before = c.errors.length;
  c.unknownKeys(o, VIDEO_KEYS, path);
  const vastXml = c.optString(o, 'vastXml', path);
  const vastUrl = c.optString(o, 'vastUrl', path);
  if ((o.vastXml === undefined) === (o.vastUrl === undefined)) c.fail(path, 'must have exactly one of vastXml, vastUrl');
  if (vastUrl !== undefined && !/^https?:\/\//.test(vastUrl)) c.fail(`${path}.vastUrl`, 'must be an http(s) URL');
  const durationSec = c.positiveInt(o.durationSec, `${path}.durationSec`);
  const mimes = c.stringArray(o.mimes, `${path}.mimes`, true);
  const protocols = c.intArray(o.protocols, `${path}.protocols`, true);
  const w = c.optPositiveInt(o, 'w', path);
  const h = c.optPositiveInt(o, 'h', path);
  if ((o.w === undefined) !== (o.h === undefined)) c.fail(path, 'w and h go together');
  if (c.errors.length !== before) return undefined;
  const out: VideoCreative = { durationSec: durationSec!, mimes: mimes!, protocols: protocols! };
  if (vastXml !== undefined) out.vastXml = vastXml;
  if (vastUrl !== undefined) out.vastUrl = vastUrl;
  if (w !== undefined && h !== undefined) {
    out.w = w;
    out.h = h;
  }
  return out;
}

function parseNative(c: Checker, v: unknown, path: string): NativeCreative | undefined {
  const o = c.object(v, path);
  if (o === undefined) return undefined;
  const before = c.errors.length;
  c.unknownKeys(o, NATIVE_KEYS, path);
  const out: Partial<NativeCreative> = {
    title: c.string(o.title, `${path}.title`),
    imageUrl: c.string(o.imageUrl, `${path}.imageUrl`),
    clickUrl: c.string(o.clickUrl, `${path}.clickUrl`),
  };
  for (const k of ['body', 'iconUrl', 'sponsoredBy', 'cta'] as const) {
    const s = c.optString(o, k, path);
    if (s !== undefined) out[k] = s;
  }
  for (const k of ['imageW', 'imageH', 'iconW', 'iconH'] as const) {
    const n = c.optPositiveInt(o, k, path);
    if (n !== undefined) out[k] = n;
  }
  // The native fit rules read an icon size only as a pair, and only for an icon that exists.
  if ((o.iconW === undefined) !== (o.iconH === undefined)) c.fail(path, 'iconW and iconH go together');
  if (o.iconW !== undefined && o.iconUrl === undefined) c.fail(`${path}.iconW`, 'needs iconUrl');
  if (o.impressionTrackers !== undefined) out.impressionTrackers = c.stringArray(o.impressionTrackers, `${path}.impressionTrackers`, false);
  return c.errors.length === before ? (out as NativeCreative) : undefined;
}

function parseAudio(c: Checker, v: unknown, path: string): AudioCreative | undefined {
  const o = c.object(v, path);
  if (o === undefined) return undefined;
  c.unknownKeys(o, AUDIO_KEYS, path);
  const vastXml = c.string(o.vastXml, `${path}.vastXml`);
  const durationSec = c.positiveInt(o.durationSec, `${path}.durationSec`);
  const mimes = c.stringArray(o.mimes, `${path}.mimes`, true);
  return vastXml === undefined || durationSec === undefined || mimes === undefined ? undefined : { vastXml, durationSec, mimes };
}

function parseAllowDeny(c: Checker, v: unknown, path: string, pattern?: RegExp, msg?: string): AllowDeny | undefined {
  const o = c.object(v, path);
  if (o === undefined) return undefined;
  c.unknownKeys(o, ALLOW_DENY_KEYS, path);
  const out: AllowDeny = {};
  if (o.allow !== undefined) out.allow = c.stringArray(o.allow, `${path}.allow`, true, pattern, msg);
  if (o.deny !== undefined) out.deny = c.stringArray(o.deny, `${path}.deny`, true, pattern, msg);
  return out;
}

function parseTargeting(c: Checker, v: unknown, path: string): Targeting | undefined {
  const o = c.object(v, path);
  if (o === undefined) return undefined;
  const before = c.errors.length;
  c.unknownKeys(o, TARGETING_KEYS, path);
  const t: Targeting = {};
  // An empty list would silently mean "matches nothing"; say so instead.
  if (o.countries !== undefined) t.countries = c.stringArray(o.countries, `${path}.countries`, true, ALPHA3, 'must be an ISO-3166-1 alpha-3 code like "USA"');
  if (o.regions !== undefined) t.regions = c.stringArray(o.regions, `${path}.regions`, true);
  if (o.deviceTypes !== undefined) t.deviceTypes = c.intArray(o.deviceTypes, `${path}.deviceTypes`, true);
  if (o.os !== undefined) t.os = c.stringArray(o.os, `${path}.os`, true);
  if (o.siteDomains !== undefined) t.siteDomains = parseAllowDeny(c, o.siteDomains, `${path}.siteDomains`, DOMAIN, 'must be a domain name');
  if (o.appBundles !== undefined) t.appBundles = parseAllowDeny(c, o.appBundles, `${path}.appBundles`);
  if (o.publisherIds !== undefined) t.publisherIds = c.stringArray(o.publisherIds, `${path}.publisherIds`, true);
  if (o.contentCategories !== undefined) t.contentCategories = c.stringArray(o.contentCategories, `${path}.contentCategories`, true, IAB_CATEGORY, 'must be an IAB category id like "IAB3-1"');
  if (o.userSegments !== undefined) t.userSegments = c.stringArray(o.userSegments, `${path}.userSegments`, true);
  if (o.impTypes !== undefined) {
    t.impTypes = c.array(o.impTypes, `${path}.impTypes`, true, (x, p) =>
      typeof x === 'string' && MEDIA_SET.has(x) ? (x as MediaType) : c.fail(p, 'must be one of banner, video, native, audio'),
    );
  }
  if (o.sizes !== undefined) t.sizes = c.stringArray(o.sizes, `${path}.sizes`, true, SIZE, 'must be a size like "300x250"');
  return c.errors.length === before ? t : undefined;
}

/** Reads and parses a campaign file; an unreadable or non-JSON file is an error value too. */
export function loadCampaignFile(path: string): ParseResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { ok: false, errors: [`${path}: cannot read: ${(e as Error).message}`] };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, errors: [`${path}: not valid JSON: ${(e as Error).message}`] };
  }
  return parseCampaigns(json);
}

/**
 * The native markup a bid carries in `adm` (IAB Native 1.2 section 5): the response object
 * at the root, {"ver":"1.2","assets":[...],"link":{...},"eventtrackers":[...]}, or the
 * Native 1.0 wrapper {"native":{...}} for a wrapped request declaring 1.0/1.1 (see
 * native-request.ts). Asset ids echo the request's, and each asset is filled by the same
 * decision that let the creative bid (native-fit.ts). The JSON-escaped pieces of each
 * creative are built once, so an answer is concatenation.
 */
import type { Imp } from '../openrtb/types';
import { nativeRequestOf } from '../openrtb/native-request';
import type { NativeCreative } from './campaign-types';
import type { NativeFacts } from './native-fit';
import { assetSource, kSrcCta, kSrcDesc, kSrcIcon, kSrcImage, kSrcSponsored, kSrcTitle, nativeFactsOf } from './native-fit';

/** JSON-escaped pieces of a native creative: each asset body, links and trackers. */
interface NativeParts {
  readonly facts: NativeFacts;
  /** Asset bodies by source (kSrc*), e.g. `"title":{"text":"..."}`; null when absent. */
  readonly bySource: readonly (string | null)[];
  /** `"link":{"url":...}`. */
  readonly link: string;
  /** `,"imptrackers":[...]`, or '' without trackers. */
  readonly impTrackers: string;
  /** `,"eventtrackers":[{"event":1,"method":1,"url":...}]`, or '' without trackers. */
  readonly eventTrackers: string;
  /** The asset list when the request states no assets we can read (default ids). */
  readonly defaultAssets: string;
}

const partsCache = new WeakMap<NativeCreative, NativeParts>();

function img(url: string, w: number | undefined, h: number | undefined): string {
  return '"img":{"url":' + JSON.stringify(url) + (w !== undefined && h !== undefined ? ',"w":' + w + ',"h":' + h : '') + '}';
}

function data(v: string | undefined): string | null {
  return v === undefined ? null : '"data":{"value":' + JSON.stringify(v) + '}';
}

function asset(id: number, body: string): string {
  return '{"id":' + id + ',' + body + '}';
}

function nativeParts(n: NativeCreative): NativeParts {
  let p = partsCache.get(n);
  if (p !== undefined) return p;
  // Dense, indexed by kSrc* (kSrcNone = 0 holds null).
  const bySource: (string | null)[] = [null, null, null, null, null, null, null];
  bySource[kSrcTitle] = '"title":{"text":' + JSON.stringify(n.title) + '}';
  bySource[kSrcImage] = img(n.imageUrl, n.imageW, n.imageH);
  bySource[kSrcIcon] = n.iconUrl === undefined ? null : img(n.iconUrl, n.iconW, n.iconH);
  bySource[kSrcSponsored] = data(n.sponsoredBy);
  bySource[kSrcDesc] = data(n.body);
  bySource[kSrcCta] = data(n.cta);
  const trackers = n.impressionTrackers ?? [];
  const link = '"link":{"url":' + JSON.stringify(n.clickUrl) + '}';
  const impTrackers = trackers.length === 0 ? '' : ',"imptrackers":' + JSON.stringify(trackers);
  const eventTrackers = trackers.length === 0
    ? ''
    : ',"eventtrackers":[' + trackers.map((u) => '{"event":1,"method":1,"url":' + JSON.stringify(u) + '}').join(',') + ']';
  // Without readable asset ids: title 1, image 2, description 3, sponsor 4 (the ids most
  // exchanges' templates use).
  let assets = asset(1, bySource[kSrcTitle]!) + ',' + asset(2, bySource[kSrcImage]!);
  if (bySource[kSrcDesc] !== null) assets += ',' + asset(3, bySource[kSrcDesc]!);
  if (bySource[kSrcSponsored] !== null) assets += ',' + asset(4, bySource[kSrcSponsored]!);
  p = {
    facts: nativeFactsOf(n),
    bySource,
    link,
    impTrackers,
    eventTrackers,
    defaultAssets: assets,
  };
  partsCache.set(n, p);
  return p;
}

/**
 * The native response JSON for creative `n` on `imp`. Call only for a creative that fits
 * the imp (eligibility's `creativeFits`): assets that cannot be filled are left out, which
 * for a fitting creative are optional ones only.
 */
export function nativeAdm(imp: Imp, n: NativeCreative): string {
  const p = nativeParts(n);
  const spec = nativeRequestOf(imp);
  const assets = spec.assets;
  let out = '';
  if (assets === null) out = p.defaultAssets;
  else {
    for (let i = 0; i < assets.length; i++) {
      const a = assets[i];
      if (a.id < 0) continue;
      const body = p.bySource[assetSource(a, p.facts)];
      if (body === null) continue;
      out += (out === '' ? '' : ',') + asset(a.id, body);
    }
  }
  const trackers = spec.eventTrackers ? p.eventTrackers : p.impTrackers;
  if (spec.legacy) return '{"native":{"ver":"' + spec.legacyVer + '","assets":[' + out + '],' + p.link + trackers + '}}';
  return '{"ver":"1.2","assets":[' + out + '],' + p.link + trackers + '}';
}

/**
 * Seeded generator of realistic, production-sized OpenRTB 2.6 bid requests (1-4 KB of JSON
 * each) for the benchmarks. Real exchange traffic is bigger and more varied than the spec
 * samples: full device objects with user agents and geo, user data segments and ids, supply
 * chains, privacy signals, several impressions of mixed media with format lists and deals.
 * Parsing, validating and encoding that is what the bidder spends its time on, so the
 * benchmarks must send it.
 *
 * Deterministic: one mulberry32 stream seeded from `seed` drives every choice, in request
 * order, so the same options give the same bytes and a shorter `count` gives a prefix of a
 * longer one. No Math.random, no clock.
 *
 * Every request passes the bidder's validation (src/openrtb/validate.ts), and values are
 * drawn against the sample campaigns so that a realistic share bids: about 35% of 1-imp
 * requests, 45% of 1-5 imp requests and 55% of 4-imp requests with the default config
 * (test/bench/traffic-generator.test.ts measures it through the real bidder). What keeps
 * the rest from bidding is what keeps real traffic from bidding: floors above what a
 * campaign pays, inventory sold only through deals we do not hold, countries and sizes
 * nobody targets, blocked categories, advertisers and apps, floors in a currency without
 * a configured rate. The floors run high because the sample campaigns pay high (a CPC
 * campaign at $3.10 a click and 1% CTR bids $31 CPM, capped at $20).
 */
import { Draw, Weighted, round2, stableId, type Obj } from './draw';
import { device, scene, type Scene } from './scene';
import * as V from './vocab';

export interface GeneratorOptions {
  /** Same seed, same requests, byte for byte. */
  seed: number;
  count: number;
  /** Impressions per request: a fixed number, or an inclusive [min, max] range (each count equally likely). Default [1, 5]. */
  imps?: number | [number, number];
}

/** Smallest and largest body produced (bytes of JSON), for up to kMaxImpsInSizeBand impressions. */
export const kMinBytes = 1024;
export const kMaxBytes = 4096;
/** Above this many impressions a request cannot be trimmed under kMaxBytes and may exceed it. */
export const kMaxImpsInSizeBand = 5;
/** The validator's ceiling (MAX_IMPS in src/openrtb/validate.ts): more would be a 400. */
const kMaxImps = 100;

// ---- Tables built once -------------------------------------------------------------------

const sizeTable = (t: readonly V.SizeDef[]) => new Weighted(t, t.map((s) => s[2]));
const DESKTOP_SIZES = sizeTable(V.DESKTOP_SIZES);
const MOBILE_SIZES = sizeTable(V.MOBILE_SIZES);
const TABLET_SIZES = sizeTable(V.TABLET_SIZES);

const TMAX = Weighted.of([[5, 80], [20, 100], [20, 120], [15, 150], [15, 200], [10, 250], [15, 300]]);

/** Video slots are floored well above display, native a little below. */
const kVideoFloorFactor = 3;
const kNativeFloorFactor = 0.8;

const VIDEO_MIMES = Weighted.of<readonly string[]>([
  [25, ['video/mp4']], [25, ['video/mp4', 'video/webm']], [20, ['video/mp4', 'video/webm', 'application/javascript']],
  [10, ['video/mp4', 'application/javascript', 'video/x-flv']], [5, ['application/javascript']], [3, ['video/webm']],
]);
const VIDEO_PROTOCOLS = Weighted.of<readonly number[]>([[35, [2, 3, 5, 6]], [35, [2, 3, 5, 6, 7, 8]], [10, [7, 8]], [10, [3, 6]], [10, [2, 5]]]);
const BATTR = [[1, 3, 8, 9, 10, 14, 17], [13, 14], [1, 2, 3, 6, 7, 8, 9, 10, 13, 14], [3, 8, 9, 10]] as const;

/** Native 1.2 request markup, serialised once: the same few layouts recur in real traffic. */
const NATIVE_REQUESTS: readonly string[] = [
  {
    ver: '1.2', context: 1, contextsubtype: 10, plcmttype: 1, plcmtcnt: 1, seq: 0,
    assets: [
      { id: 1, required: 1, title: { len: 90 } },
      { id: 2, required: 1, img: { type: 3, wmin: 1200, hmin: 627 } },
      { id: 3, required: 0, img: { type: 1, w: 80, h: 80 } },
      { id: 4, required: 1, data: { type: 2, len: 140 } },
      { id: 5, required: 0, data: { type: 1, len: 25 } },
      { id: 6, required: 0, data: { type: 12, len: 15 } },
    ],
    eventtrackers: [{ event: 1, methods: [1, 2] }],
    privacy: 1,
  },
  {
    ver: '1.2', context: 2, plcmttype: 4, plcmtcnt: 1,
    assets: [
      { id: 1, required: 1, title: { len: 60 } },
      { id: 2, required: 1, img: { type: 3, w: 1200, h: 627 } },
      { id: 3, required: 1, data: { type: 1, len: 30 } },
    ],
    eventtrackers: [{ event: 1, methods: [1] }],
  },
  {
    ver: '1.1', context: 1, plcmttype: 1,
    assets: [
      { id: 101, required: 1, title: { len: 80 } },
      { id: 102, required: 1, img: { type: 3, wmin: 600, hmin: 314 } },
      { id: 103, required: 0, data: { type: 2, len: 120 } },
      { id: 104, required: 0, data: { type: 12, len: 20 } },
    ],
  },
].map((r) => JSON.stringify(r));
/** The shortest layout, for requests that must shed bytes. */
const kCompactNative = NATIVE_REQUESTS[1];

// ---- Options -----------------------------------------------------------------------------

function checkOptions(o: GeneratorOptions): [number, number] {
  if (!Number.isInteger(o.seed)) throw new RangeError(`generateRequests: seed must be an integer, got ${o.seed}`);
  if (!Number.isInteger(o.count) || o.count < 0) throw new RangeError(`generateRequests: count must be a non-negative integer, got ${o.count}`);
  const r: [number, number] = o.imps === undefined ? [1, 5] : typeof o.imps === 'number' ? [o.imps, o.imps] : [o.imps[0], o.imps[1]];
  if (!Number.isInteger(r[0]) || !Number.isInteger(r[1]) || r[0] < 1 || r[1] > kMaxImps || r[0] > r[1]) {
    throw new RangeError(`generateRequests: imps must be an integer or [min, max] within 1..${kMaxImps}, got ${JSON.stringify(o.imps)}`);
  }
  return r;
}

// ---- Request parts -----------------------------------------------------------------------

function site(d: Draw, s: Scene): Obj {
  let def: V.SiteDef;
  const r = d.f();
  if (r < 0.03) def = d.pick(V.NAMED_SITES);
  else if (r < 0.33) {
    const [dom, cat] = d.pick(s.country.sites);
    def = [`www.${dom}`, dom, [cat], [`${cat}-1`], `pub-${stableId(dom) % 90000 + 10000}`];
  } else def = d.pick(V.GLOBAL_SITES);
  const [domain, name, cat, section, pub] = def;
  const bare = domain.startsWith('www.') ? domain.slice(4) : domain;
  s.placement = bare;
  const slug = `${d.pick(V.SLUG_WORDS)}-${d.pick(V.SLUG_WORDS)}-${d.pick(V.SLUG_WORDS)}-${d.int(10000, 999999)}`;
  const o: Obj = {
    id: String(stableId(domain) % 9000000 + 1000000),
    name,
    domain,
    cat,
    sectioncat: section,
    page: `https://${domain}/${d.pick(V.PAGE_PATHS)}/${slug}.html`,
  };
  if (d.chance(0.5)) o.pagecat = [section[d.int(0, section.length - 1)]];
  if (d.chance(0.6)) o.ref = d.pick(V.REFERRERS);
  o.mobile = s.platform === 'iphone' || s.platform === 'android' ? 1 : 0;
  o.privacypolicy = 1;
  o.publisher = { id: pub, name, domain: bare };
  if (d.chance(0.3)) o.content = { language: s.country.language, cat, keywords: `${d.pick(V.SLUG_WORDS)},${d.pick(V.SLUG_WORDS)}` };
  return o;
}

function app(d: Draw, s: Scene): Obj {
  if (s.platform === 'ctv') {
    const [bundle, name, cat, pub] = d.pick(V.CTV_APPS);
    s.placement = bundle;
    return {
      id: String(stableId(bundle) % 9000000 + 1000000),
      name,
      bundle,
      storeurl: `https://channelstore.roku.com/details/${stableId(name).toString(16)}`,
      cat,
      ver: `${d.int(1, 9)}.${d.int(0, 20)}.${d.int(0, 9)}`,
      publisher: { id: pub, name },
      content: {
        id: d.hex(12),
        livestream: d.chance(0.2) ? 1 : 0,
        len: d.pick([1320, 2640, 5400]),
        language: s.country.language,
        genre: d.pick(['Drama', 'Documentary', 'Sports', 'News', 'Comedy']),
        cat,
      },
    };
  }
  const [bundle, iosId, name, cat, pub, pubName] = d.pick(V.MOBILE_APPS);
  // iOS exchanges send the numeric App Store id as the bundle (OpenRTB 2.6 guidance), most of the time.
  const iosBundle = s.ios && d.chance(0.6);
  s.placement = bundle;
  s.iosStoreId = iosId;
  const o: Obj = {
    id: String(stableId(bundle) % 9000000 + 1000000),
    name,
    bundle: iosBundle ? iosId : bundle,
    storeurl: s.ios ? `https://apps.apple.com/us/app/id${iosId}` : `https://play.google.com/store/apps/details?id=${bundle}`,
    cat,
    ver: `${d.int(1, 9)}.${d.int(0, 30)}.${d.int(0, 9)}`,
    paid: 0,
    privacypolicy: 1,
    publisher: { id: pub, name: pubName },
  };
  if (d.chance(0.2)) o.content = { language: s.country.language, cat };
  return o;
}

function userData(d: Draw): Obj[] {
  const n = d.chance(0.3) ? 2 : 1;
  const out: Obj[] = [];
  const first = d.int(0, V.DATA_PROVIDERS.length - 1);
  for (let i = 0; i < n; i++) {
    const [id, name] = V.DATA_PROVIDERS[(first + i) % V.DATA_PROVIDERS.length];
    const segs: Obj[] = [];
    const k = d.int(1, 5);
    for (let j = 0; j < k; j++) {
      const seg: Obj = { id: d.chance(0.5) ? String(d.int(100000, 99999999)) : `${name.slice(0, 3)}-${d.hex(6)}` };
      if (d.chance(0.3)) seg.name = d.pick(V.SEGMENT_NAMES);
      segs.push(seg);
    }
    if (i === 0 && d.chance(0.1)) segs.push({ id: d.pick(V.TARGETED_SEGMENTS) });
    const entry: Obj = { id, name, segment: segs };
    if (d.chance(0.4)) entry.ext = { segtax: d.pick([4, 5, 6]) };
    out.push(entry);
  }
  return out;
}

function eids(d: Draw): Obj[] {
  const n = d.int(1, 3);
  const out: Obj[] = [];
  const start = d.int(0, V.EID_SOURCES.length - 1);
  for (let i = 0; i < n; i++) {
    const source = V.EID_SOURCES[(start + i) % V.EID_SOURCES.length];
    out.push({ source, uids: [{ id: source === 'id5-sync.com' ? `ID5*${d.b64(40)}` : d.b64(32), atype: source === 'uidapi.com' ? 3 : 1 }] });
  }
  return out;
}

function user(d: Draw, s: Scene): Obj {
  const o: Obj = { id: d.chance(0.5) ? d.hex(40) : d.uuid(), buyeruid: d.chance(0.5) ? d.uuid() : `u_${d.b64(22)}` };
  if (d.chance(0.3)) o.yob = d.int(1955, 2006);
  if (d.chance(0.2)) o.gender = d.pick(['M', 'F', 'O']);
  if (d.chance(0.1)) o.keywords = `${d.pick(V.SLUG_WORDS)},${d.pick(V.SLUG_WORDS)},${d.pick(V.SLUG_WORDS)}`;
  o.data = userData(d);
  if (d.chance(0.35)) o.eids = eids(d);
  if (s.country.gdpr) o.ext = { consent: `CP${d.b64(d.int(90, 170))}.YAAAAAAAAAAA` };
  return o;
}

function floorOf(d: Draw, s: Scene, factor: number): number {
  return Math.max(0.01, round2(s.floorLevel * factor * d.range(0.8, 1.25, 4)));
}

function pmp(d: Draw, s: Scene, pool: readonly V.DealDef[]): Obj {
  const n = d.chance(0.6) ? 1 : d.int(2, 3);
  const start = d.int(0, pool.length - 1);
  const deals: Obj[] = [];
  for (let i = 0; i < n && i < pool.length; i++) {
    const [id, floor, at] = pool[(start + i) % pool.length];
    const deal: Obj = { id, bidfloor: round2(floor * d.range(0.8, 1.2, 3)) };
    deal.bidfloorcur = s.floorCur;
    deal.at = at;
    if (d.chance(0.25)) deal.wseat = d.chance(0.5) ? [V.OUR_SEAT, d.pick(V.OTHER_SEATS)] : [d.pick(V.OTHER_SEATS)];
    deals.push(deal);
  }
  return { private_auction: s.pmpOnly || d.chance(0.3) ? 1 : 0, deals };
}

function banner(d: Draw, s: Scene, imp: Obj): void {
  const table = s.platform === 'desktop' ? DESKTOP_SIZES : s.platform === 'ipad' || s.platform === 'atab' ? TABLET_SIZES : MOBILE_SIZES;
  const [w, h] = table.draw(d);
  const b: Obj = {};
  if ((w === 320 && h === 480) || (w === 768 && h === 1024)) {
    imp.instl = 1;
    if (d.chance(0.2)) {
      // Some exchanges size a full-screen slot as the screen itself, which no creative fits.
      b.w = s.screenW;
      b.h = s.screenH;
    } else {
      b.format = [{ w, h }, { w: h, h: w }];
      b.w = w;
      b.h = h;
    }
    b.pos = 7;
  } else {
    const also = V.ALSO_FITS[`${w}x${h}`];
    if (also !== undefined && d.chance(0.4)) {
      const f: Obj[] = [{ w, h }];
      const k = d.int(1, also.length);
      for (let i = 0; i < k; i++) f.push({ w: also[i][0], h: also[i][1] });
      b.format = f;
      if (d.chance(0.7)) {
        b.w = w;
        b.h = h;
      }
    } else {
      b.w = w;
      b.h = h;
    }
    b.pos = d.pick([0, 1, 1, 1, 3, 4, 5, 6]);
  }
  if (d.chance(0.3)) b.btype = d.pick([[4], [1, 4], [1]]);
  if (d.chance(0.4)) b.battr = d.pick(BATTR);
  if (s.app) b.api = d.pick([[3, 5, 7], [5, 6, 7], [3, 5]]);
  else {
    b.topframe = d.chance(0.8) ? 1 : 0;
    if (d.chance(0.3)) b.api = [7];
  }
  imp.banner = b;
  imp.bidfloor = floorOf(d, s, 1);
}

function video(d: Draw, s: Scene, imp: Obj): void {
  const ctv = s.platform === 'ctv';
  const outstream = !ctv && !s.app && d.chance(0.5);
  const v: Obj = { mimes: VIDEO_MIMES.draw(d) };
  let min = d.pick([0, 5, 6, 15]);
  let max = ctv ? d.pick([30, 60, 120]) : outstream ? d.pick([15, 30, 60]) : d.pick([15, 30, 30, 60, 120]);
  if (d.chance(0.05)) {
    min = 6; // six-second bumper slots
    max = 6;
  }
  if (min > 0) v.minduration = min;
  v.maxduration = max;
  v.protocols = VIDEO_PROTOCOLS.draw(d);
  if (ctv) [v.w, v.h] = [1920, 1080];
  else if (s.app) [v.w, v.h] = s.screenW < s.screenH ? [320, 480] : [480, 320];
  else [v.w, v.h] = d.pick([[640, 360], [640, 480], [1280, 720]]);
  v.startdelay = outstream ? 0 : d.pick([0, 0, 0, -1, -2]);
  v.plcmt = outstream ? 4 : s.app ? 3 : 1;
  if (d.chance(0.5)) v.placement = outstream ? 3 : s.app ? 5 : 1; // 2.5 field, still sent beside plcmt
  v.linearity = 1;
  v.skip = ctv ? 0 : d.chance(0.6) ? 1 : 0;
  if (v.skip === 1) v.skipafter = 5;
  v.playbackmethod = outstream ? [6] : ctv ? [1] : d.pick([[1], [2], [1, 2]]);
  if (!ctv) v.api = d.pick([[1, 2, 7], [2, 7], [7]]);
  if (d.chance(0.3)) v.battr = d.pick(BATTR);
  v.pos = ctv ? 7 : d.pick([0, 1, 3]);
  imp.video = v;
  if (s.app) {
    imp.instl = 1;
    if (d.chance(0.4)) imp.rwdd = 1;
  }
  imp.bidfloor = floorOf(d, s, kVideoFloorFactor);
}

function native(d: Draw, s: Scene, imp: Obj): void {
  const n: Obj = { request: d.pick(NATIVE_REQUESTS), ver: '1.2' };
  if (d.chance(0.5)) n.api = [3, 5];
  if (d.chance(0.2)) n.battr = [3, 8];
  imp.native = n;
  imp.bidfloor = floorOf(d, s, kNativeFloorFactor);
}

type Media = 'banner' | 'video' | 'native' | 'banner+video';
const MEDIA_SITE = Weighted.of<Media>([[78, 'banner'], [10, 'video'], [7, 'native'], [5, 'banner+video']]);
const MEDIA_APP = Weighted.of<Media>([[68, 'banner'], [22, 'video'], [10, 'native']]);

const kMaxNativesPerRequest = 2;

const GAM_NETWORKS = ['21804848220', '6355419', '1015413', '22590983'];

function imp(d: Draw, s: Scene, id: string, index: number): Obj {
  let media: Media = s.platform === 'ctv' ? 'video' : (s.app ? MEDIA_APP : MEDIA_SITE).draw(d);
  if (media === 'native' && s.natives++ >= kMaxNativesPerRequest) media = 'banner';
  const o: Obj = { id };
  let dealPool: readonly V.DealDef[];
  let dealChance: number;
  switch (media) {
    case 'banner':
      banner(d, s, o);
      dealPool = V.BANNER_DEALS;
      dealChance = 0.12;
      break;
    case 'banner+video': {
      // One slot, two media (outstream in a display slot): the floor is the display one.
      banner(d, s, o);
      const bannerFloor = o.bidfloor;
      video(d, s, o);
      o.bidfloor = bannerFloor;
      dealPool = V.BANNER_DEALS;
      dealChance = 0.12;
      break;
    }
    case 'video':
      video(d, s, o);
      dealPool = V.VIDEO_DEALS;
      dealChance = 0.22;
      break;
    default:
      native(d, s, o);
      dealPool = V.NATIVE_DEALS;
      dealChance = 0.15;
  }
  const slot = `${media === 'native' ? 'native' : media === 'video' ? 'video' : 'display'}-${index + 1}`;
  const gam = `/${GAM_NETWORKS[stableId(s.placement) % GAM_NETWORKS.length]}/${s.placement}/${slot}`;
  o.tagid = d.chance(0.5) ? gam : String(stableId(s.placement + slot) % 900000 + 100000);
  o.bidfloorcur = s.floorCur;
  o.secure = 1;
  if (s.app) {
    o.displaymanager = s.platform === 'ctv' ? 'roku-ssai' : d.pick(['GoogleMobileAds', 'applovin', 'unity_ads', 'ironsource']);
    o.displaymanagerver = `${d.int(6, 23)}.${d.int(0, 9)}.${d.int(0, 9)}`;
  }
  if (d.chance(0.2)) o.exp = d.pick([300, 1800, 3600]);
  if (s.pmpOnly || d.chance(dealChance)) o.pmp = pmp(d, s, dealPool);
  if (!s.app && d.chance(0.5)) o.ext = { gpid: gam, data: { pbadslot: gam, adserver: { name: 'gam', adslot: gam } } };
  else if (s.app && s.ios && d.chance(0.5)) {
    o.ext = {
      skadn: { versions: ['2.0', '2.1', '2.2', '3.0', '4.0'], sourceapp: s.iosStoreId, skadnetids: ['cstr6suwn9.skadnetwork', '4fzdc2evr5.skadnetwork', 'ydx93a7ass.skadnetwork'] },
    };
  }
  return o;
}

function source(d: Draw): Obj {
  const o: Obj = { tid: d.uuid() };
  if (d.chance(0.4)) o.fd = d.chance(0.5) ? 1 : 0;
  const r = d.f();
  if (r < 0.75) {
    const nodes: Obj[] = [{ asi: d.pick(V.SSP_NAMES), sid: `${d.int(1000, 999999)}`, hp: 1 }];
    if (d.chance(0.35)) nodes.push({ asi: d.pick(V.SSP_NAMES), sid: d.hex(12), hp: 1, rid: d.hex(16) });
    const schain = { ver: '1.0', complete: 1, nodes };
    // 2.6 moved schain out of ext; many exchanges still send the 2.5 place.
    if (r < 0.45) o.schain = schain;
    else o.ext = { schain };
  }
  return o;
}

function regs(d: Draw, s: Scene): Obj {
  const o: Obj = { coppa: 0 };
  if (s.country.gdpr) {
    if (d.chance(0.5)) o.gdpr = 1;
    else o.ext = { gdpr: 1 };
  } else if (s.country.code === 'USA') {
    if (d.chance(0.6)) o.us_privacy = d.pick(['1YNN', '1YN-', '1---']);
    if (d.chance(0.3)) {
      o.gpp = `DBABL~${d.b64(24)}`;
      o.gpp_sid = [7];
    }
  } else if (d.chance(0.5)) {
    o.ext = { gdpr: 0 };
  }
  return o;
}

function request(d: Draw, nImps: number): Obj {
  const s = scene(d);
  const dev = device(d, s); // first: it sets the screen size, which interstitials and in-app video follow
  const inventory = s.app ? app(d, s) : site(d, s);
  const id = d.chance(0.7) ? d.uuid() : d.hex(32);
  // Imp ids: "1".."n" from most exchanges, a per-request prefix from others; unique either way.
  const prefix = d.chance(0.6) ? '' : `${d.hex(8)}-`;
  const imps: Obj[] = [];
  for (let i = 0; i < nImps; i++) imps.push(imp(d, s, `${prefix}${i + 1}`, i));
  const o: Obj = { id, imp: imps };
  if (s.app) o.app = inventory;
  else o.site = inventory;
  o.device = dev;
  o.user = user(d, s);
  o.at = d.chance(0.7) ? 1 : 2;
  o.tmax = TMAX.draw(d);
  const c = d.f();
  o.cur = c < 0.9 ? ['USD'] : s.country.euro ? ['USD', 'EUR'] : s.country.code === 'GBR' ? ['USD', 'GBP'] : ['USD'];
  if (d.chance(0.45)) o.bcat = d.pick(V.BCAT_LISTS);
  if (d.chance(0.25)) {
    const k = d.int(1, 4);
    const start = d.int(0, V.BADV_DOMAINS.length - 1);
    const badv: string[] = [];
    for (let i = 0; i < k; i++) badv.push(V.BADV_DOMAINS[(start + i) % V.BADV_DOMAINS.length]);
    o.badv = badv;
  }
  if (s.app && d.chance(0.4)) {
    const k = d.int(2, 6);
    const start = d.int(0, V.BAPP_BUNDLES.length - 1);
    const bapp: string[] = [];
    for (let i = 0; i < k; i++) bapp.push(V.BAPP_BUNDLES[(start + i) % V.BAPP_BUNDLES.length]);
    o.bapp = bapp;
  }
  o.source = source(d);
  o.regs = regs(d, s);
  if (d.chance(0.4)) {
    o.ext = {
      prebid: { channel: { name: s.app ? 'app' : 'web', version: d.pick(['8.42.0', '8.48.0', '9.2.0']) } },
      ssp: { dc: d.pick(['us-east-1', 'eu-west-1', 'ap-northeast-1']), ts: d.int(1700000000, 1720000000) },
    };
  }
  return o;
}

// ---- Size band ---------------------------------------------------------------------------

/**
 * Optional parts to drop, in order, while a request is over kMaxBytes: the first are the
 * ones exchanges most often leave out. Each returns whether it changed anything.
 */
const SHRINK: readonly ((o: Obj) => boolean)[] = [
  (o) => del(o, 'ext'),
  (o) => eachImp(o, (i) => del(i, 'ext')),
  (o) => del(o.user as Obj, 'eids'),
  (o) => del(o.device as Obj, 'sua'),
  (o) => del(o, 'badv'),
  (o) => del((o.site ?? o.app) as Obj, 'content'),
  (o) => del(o.source as Obj, 'schain') || del(o.source as Obj, 'ext'),
  (o) => eachImp(o, (i) => del(i, 'exp') || del(i, 'displaymanagerver')),
  (o) =>
    eachImp(o, (i) => {
      const deals = (i.pmp as Obj | undefined)?.deals as Obj[] | undefined;
      if (deals === undefined || deals.length < 2) return false;
      deals.length = 1;
      return true;
    }),
  (o) => eachImp(o, (i) => del(i.banner as Obj | undefined, 'battr') || del(i.video as Obj | undefined, 'battr')),
  (o) =>
    eachImp(o, (i) => {
      const b = i.banner as Obj | undefined;
      return b !== undefined && b.w !== undefined && del(b, 'format');
    }),
  (o) => del(o, 'bcat'),
  (o) => del(o, 'bapp'),
  (o) =>
    eachImp(o, (i) => {
      const n = i.native as Obj | undefined;
      if (n === undefined || n.request === kCompactNative) return false;
      n.request = kCompactNative;
      return true;
    }),
  (o) => {
    // Last resort, and only down to one provider: user segments are part of every request.
    const data = (o.user as Obj).data as Obj[] | undefined;
    if (data === undefined || data.length < 2) return false;
    data.length = 1;
    return true;
  },
];

/** Applies `f` to every imp; true when it changed any. */
function eachImp(o: Obj, f: (imp: Obj) => boolean): boolean {
  let changed = false;
  for (const imp of o.imp as Obj[]) if (f(imp)) changed = true;
  return changed;
}

function del(o: Obj | undefined, k: string): boolean {
  if (o === undefined || o[k] === undefined) return false;
  delete o[k];
  return true;
}

/** Parts to add, in order, while a request is under kMinBytes: what fuller exchanges send. */
function grow(d: Draw, o: Obj, step: number): boolean {
  const user = o.user as Obj;
  const src = o.source as Obj;
  switch (step) {
    case 0:
      if (user.eids !== undefined) return false;
      user.eids = eids(d);
      return true;
    case 1:
      if (src.schain !== undefined || src.ext !== undefined) return false;
      src.schain = { ver: '1.0', complete: 1, nodes: [{ asi: d.pick(V.SSP_NAMES), sid: `${d.int(1000, 999999)}`, hp: 1 }] };
      return true;
    case 2:
      if (o.ext !== undefined) return false;
      o.ext = { ssp: { dc: d.pick(['us-east-1', 'eu-west-1']), ts: d.int(1700000000, 1720000000), node: d.hex(16) } };
      return true;
    case 3: {
      const inv = (o.site ?? o.app) as Obj;
      if (inv.content !== undefined) return false;
      inv.content = { id: d.hex(16), language: (o.device as Obj).language, cat: inv.cat, keywords: `${d.pick(V.SLUG_WORDS)},${d.pick(V.SLUG_WORDS)}` };
      return true;
    }
    default: {
      // Always possible, so the loop ends: another id provider.
      const list = (user.eids as Obj[] | undefined) ?? (user.eids = []);
      (list as Obj[]).push({ source: `${d.pick(V.EID_SOURCES)}`, uids: [{ id: d.b64(40), atype: 1 }] });
      return true;
    }
  }
}

function encode(d: Draw, o: Obj): Buffer {
  let buf = Buffer.from(JSON.stringify(o));
  for (let i = 0; buf.length > kMaxBytes && i < SHRINK.length; i++) {
    if (SHRINK[i](o)) buf = Buffer.from(JSON.stringify(o));
  }
  for (let step = 0; buf.length < kMinBytes; step++) {
    if (grow(d, o, step)) buf = Buffer.from(JSON.stringify(o));
  }
  return buf;
}

// ---- Entry point -------------------------------------------------------------------------

export function generateRequests(o: GeneratorOptions): Buffer[] {
  const [minImps, maxImps] = checkOptions(o);
  const d = new Draw(o.seed);
  const out: Buffer[] = new Array(o.count);
  for (let i = 0; i < o.count; i++) {
    const n = minImps === maxImps ? minImps : d.int(minImps, maxImps);
    out[i] = encode(d, request(d, n));
  }
  return out;
}
